import { z } from 'zod';
import { ClearwayError } from './errors';

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a port number' })
    .int({ error: 'must be a whole number' })
    .min(0, { error: 'must be between 0 and 65535' })
    .max(65535, { error: 'must be between 0 and 65535' })
    .default(fallback);

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

// Only the name is checked here; the file's content is validated when it is loaded at start-up.
const policyFile = () =>
  z
    .string()
    .regex(/\.(ya?ml|json)$/i, { error: 'must name a .yaml, .yml or .json file' })
    .optional();

const otlpUrl = () =>
  z
    .string()
    .regex(/^https?:\/\/\S+$/, { error: 'must be an http:// or https:// URL' })
    .optional();

/** Every setting Clearway reads from the environment; descriptions feed the README table. */
export const ConfigSchema = z.object({
  PORT: port(3000).describe('HTTP port of the API'),
  HOST: z.string().min(1).default('127.0.0.1').describe('Address the API binds to'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, { error: 'must be a postgres:// or postgresql:// URL' })
    .optional()
    .describe('Postgres to use; unset runs embedded PGlite with its files under DATA_DIR'),
  DATA_DIR: z.string().min(1).default('.data').describe('Where embedded services keep their files'),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d{1,5}$/, { error: 'must be host:port' })
    .optional()
    .describe('Temporal frontend (host:port); unset starts the embedded Temporal server'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default').describe('Temporal namespace'),
  TEMPORAL_PORT: port(7233).describe('gRPC port of the embedded Temporal server'),
  TEMPORAL_UI_PORT: port(8233).describe(
    'Port of the Temporal UI: served by the embedded server (0 turns it off), or published by the docker-compose route',
  ),
  TEMPORAL_UI_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .optional()
    .describe('Temporal UI the console links executions to; unset links to the embedded server’s UI when it serves one'),
  TASK_QUEUE: z.string().min(1).default('clearway').describe('Temporal task queue the worker polls'),
  CHANGE_CONTROL_POLICY: policyFile().describe(
    'Change-control policy file (YAML or JSON); unset uses the shipped policies/change-control.yaml',
  ),
  ESCALATION_POLICY: policyFile().describe(
    'Escalation policy file (YAML or JSON); unset uses the shipped policies/escalation.yaml',
  ),
  ESCALATION_WEBHOOK_SECRET: z
    .string()
    .min(16, { error: 'must be at least 16 characters' })
    .optional()
    .describe('HMAC-SHA256 secret signing calls to POST /api/v1/webhooks/escalations; unset turns that endpoint off'),
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })
    .default('info')
    .describe('Log level'),
  METRICS_TOKEN: z
    .string()
    .min(16, { error: 'must be at least 16 characters' })
    .optional()
    .describe('Bearer token GET /metrics requires; unset serves /metrics to anyone who reaches the API'),
  WORKER_METRICS_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d{1,5}$/, { error: 'must be host:port' })
    .optional()
    .describe(
      'host:port where a worker serves its Prometheus metrics (Temporal SDK, workflow counters); unset: a free loopback port',
    ),
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl().describe(
    'OpenTelemetry collector (OTLP/HTTP) base URL; traces go to its /v1/traces; unset (and no traces endpoint) turns tracing off',
  ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpUrl().describe(
    'Full OTLP/HTTP traces URL, used as given in place of the base URL',
  ),
  OTEL_EXPORTER_OTLP_HEADERS: z
    .string()
    .regex(/^[^=,\s]+=[^,]*(,[^=,\s]+=[^,]*)*$/, { error: 'must be key=value pairs separated by commas' })
    .optional()
    .describe('Headers sent with every OTLP export (key=value,...), e.g. a collector API key'),
  OTEL_SERVICE_NAME: z.string().min(1).default('clearway').describe('service.name of the spans Clearway exports'),
});

/** Validated configuration. */
export type Config = z.infer<typeof ConfigSchema>;

const SECRET_KEYS: string[] = [
  'DATABASE_URL',
  'ESCALATION_WEBHOOK_SECRET',
  'METRICS_TOKEN',
  'OTEL_EXPORTER_OTLP_HEADERS',
];

/** The variable names Clearway reads. */
export const CONFIG_KEYS = Object.keys(ConfigSchema.shape) as (keyof Config)[];

/**
 * Validates the environment. Empty strings count as unset, so `PORT= npm start` takes the default.
 * Throws CONFIG_INVALID naming the first bad variable and what is wrong with it.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const input: Record<string, string> = {};
  for (const key of CONFIG_KEYS) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') input[key] = value.trim();
  }
  const result = ConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = String(issue.path[0] ?? 'configuration');
  // A database URL may carry a password (and a secret is a secret), so such values are never echoed.
  const shown = SECRET_KEYS.includes(name) ? name : `${name}=${JSON.stringify(input[name] ?? '')}`;
  throw new ClearwayError('CONFIG_INVALID', `invalid ${shown}: ${issue.message}`, [
    { variable: name, message: issue.message },
  ]);
}

/** One row per setting for documentation: name, default (or empty), description. */
export function describeConfig(): { name: string; default: string; description: string }[] {
  return CONFIG_KEYS.map((name) => {
    const field = ConfigSchema.shape[name];
    const parsed = field.safeParse(undefined);
    const fallback = parsed.success && parsed.data !== undefined ? String(parsed.data) : '';
    return { name, default: fallback, description: field.description ?? '' };
  });
}
