import { CONFIG_KEYS, describeConfig, loadConfig } from '../../config';
import { ClearwayError, CODES } from '../../errors';

function failure(env: Record<string, string>): ClearwayError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ClearwayError) return e;
    throw e;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('config', () => {
  it('config: when nothing is set, loading yields the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      PORT: 3000,
      HOST: '127.0.0.1',
      DATA_DIR: '.data',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_PORT: 7233,
      TEMPORAL_UI_PORT: 8233,
      TASK_QUEUE: 'clearway',
      LOG_LEVEL: 'info',
      OTEL_SERVICE_NAME: 'clearway',
    });
  });

  it('config: when every variable is set, loading returns them typed', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgresql://u:p@db:5432/clearway',
      DATA_DIR: '/var/lib/clearway',
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'prod',
      TEMPORAL_PORT: '7300',
      TEMPORAL_UI_PORT: '8300',
      TEMPORAL_UI_URL: 'https://temporal.example.com/ui',
      TASK_QUEUE: 'cw',
      CHANGE_CONTROL_POLICY: '/etc/clearway/change-control.yaml',
      ESCALATION_POLICY: 'escalation.json',
      LOG_LEVEL: 'debug',
      UNRELATED: 'ignored',
    });
    expect(config).toMatchObject({
      CHANGE_CONTROL_POLICY: '/etc/clearway/change-control.yaml',
      ESCALATION_POLICY: 'escalation.json',
      PORT: 8080,
      TEMPORAL_PORT: 7300,
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_UI_URL: 'https://temporal.example.com/ui',
      LOG_LEVEL: 'debug',
    });
    expect(config).not.toHaveProperty('UNRELATED');
  });

  it('config: when a variable is an empty string, loading treats it as unset', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: '  ' });
    expect(config.PORT).toBe(3000);
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it.each([
    ['WORKER_METRICS_ADDRESS', '9464', /invalid WORKER_METRICS_ADDRESS="9464": must be host:port/],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318', /OTEL_EXPORTER_OTLP_ENDPOINT.*must be an http/],
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'grpc://c:4317', /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.*must be an http/],
    ['PORT', 'abc', /invalid PORT="abc": must be a port number/],
    ['PORT', '70000', /invalid PORT="70000": must be between 0 and 65535/],
    ['PORT', '80.5', /PORT.*whole number/],
    ['TEMPORAL_PORT', '-1', /TEMPORAL_PORT/],
    ['TEMPORAL_UI_PORT', 'x', /TEMPORAL_UI_PORT/],
    ['TEMPORAL_UI_URL', 'javascript:alert(1)', /invalid TEMPORAL_UI_URL.*must be an http\(s\) URL/],
    ['LOG_LEVEL', 'loud', /invalid LOG_LEVEL="loud": must be one of fatal, error, warn, info, debug, trace, silent/],
    ['TEMPORAL_ADDRESS', 'temporal', /invalid TEMPORAL_ADDRESS="temporal": must be host:port/],
    ['DATABASE_URL', 'mysql://x', /invalid DATABASE_URL: must be a postgres/],
    [
      'CHANGE_CONTROL_POLICY',
      'policies/ccb.txt',
      /invalid CHANGE_CONTROL_POLICY="policies\/ccb.txt": must name a .yaml, .yml or .json file/,
    ],
    ['ESCALATION_POLICY', 'ladders', /invalid ESCALATION_POLICY="ladders": must name a .yaml/],
  ] as const)('config: when %s is %s, loading fails naming it', (name, value, message) => {
    const e = failure({ [name]: value });
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('\n');
    expect(CODES[e.code].exit).toBe(2);
  });

  it('config: when DATABASE_URL is invalid, the error does not echo it (it may hold a password)', () => {
    expect(failure({ DATABASE_URL: 'mysql://user:s3cret@db/x' }).message).not.toContain('s3cret');
  });

  it('config: when ESCALATION_WEBHOOK_SECRET is too short, the error names it without echoing it', () => {
    const e = failure({ ESCALATION_WEBHOOK_SECRET: 'hunter2' });
    expect(e.message).toBe('invalid ESCALATION_WEBHOOK_SECRET: must be at least 16 characters');
  });

  it('config: describing the schema yields one row per variable with its default', () => {
    const rows = describeConfig();
    expect(rows.map((r) => r.name)).toEqual(CONFIG_KEYS);
    expect(rows.find((r) => r.name === 'PORT')).toMatchObject({ default: '3000' });
    expect(rows.find((r) => r.name === 'DATABASE_URL')).toMatchObject({ default: '' });
    for (const row of rows) expect(row.description).not.toBe('');
  });

  it.each([
    ['METRICS_TOKEN', 'short-token', 'invalid METRICS_TOKEN: must be at least 16 characters'],
    ['OTEL_EXPORTER_OTLP_HEADERS', 'api-key s3cret', 'invalid OTEL_EXPORTER_OTLP_HEADERS: must be key=value pairs'],
  ])('config: when %s is invalid, the error names it without echoing the value', (name, value, message) => {
    expect(failure({ [name]: value }).message).toMatch(new RegExp(`^${message}`));
  });
});
