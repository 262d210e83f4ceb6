import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { DynamicConfigError, parseDynamicConfigValues, type DynamicConfig } from './dynamic-config';
import { startDevServer } from './server';
import { TYPE_NAMES } from './visibility/search';

/** Parsed `server start-dev` arguments (those the embedded server uses; the rest are accepted and ignored). */
export interface DevServerArgs {
  port: number;
  ip: string;
  namespaces: string[];
  dbFilename?: string;
  logLevel: string;
  logFormat: string;
  uiPort?: number;
  uiIp?: string;
  httpPort?: number;
  headless: boolean;
  searchAttributes: string[];
  retentionMs?: number;
  timeSkipping: boolean;
  /** `--dynamic-config-value KEY=JSON-VALUE` pairs, parsed. */
  dynamicConfig: DynamicConfig;
}

function durationArg(value: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`not a duration (like 7d, 24h, 30m): ${value}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`not a port number: ${value}`);
  return n;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * Parses the Temporal CLI's `server start-dev` arguments (optionally prefixed by `server start-dev`),
 * or the time-skipping test server's `<port> [args...]` form.
 */
export function parseDevServerArgs(argv: string[]): DevServerArgs {
  const args = [...argv];
  if (args[0] === 'server') args.shift();
  if (args[0] === 'start-dev') args.shift();
  if (args.length && /^\d+$/.test(args[0])) {
    // The test server's form: other arguments are ignored, but dynamic config is honoured here too.
    const rest = new Command('clearway devserver')
      .exitOverride()
      .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
      .allowUnknownOption(true)
      .allowExcessArguments(true)
      .option('--dynamic-config-value <key=value>', 'dynamic config value as KEY=JSON-VALUE (repeatable)', collect, [] as string[]);
    rest.parse(args.slice(1), { from: 'user' });
    return { ...defaults(), port: portNumber(args[0]), timeSkipping: true, dynamicConfig: parseDynamicConfigValues(rest.opts().dynamicConfigValue) };
  }
  const program = new Command('clearway devserver')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .option('--port <port>', 'gRPC port', portNumber, 7233)
    .option('--ip <ip>', 'address to bind', '127.0.0.1')
    .option('-n, --namespace <name>', 'namespace to register (repeatable)', collect, [] as string[])
    .option('-f, --db-filename <file>', 'durable store file')
    .option('--log-level <level>', 'log level', 'warn')
    .option('--log-format <format>', 'log format (json or pretty)', 'pretty')
    .option('--ui-port <port>', 'Temporal UI port (default: --port + 1000)', portNumber)
    .option('--ui-ip <ip>', 'address the UI binds (default: --ip)')
    .option('--http-port <port>', "port of Temporal's HTTP API", portNumber)
    .option('--headless', 'do not serve the UI', false)
    .option('--search-attribute <name=type>', 'custom search attribute (repeatable)', collect, [] as string[])
    .option('--retention <duration>', 'keep closed workflows this long (e.g. 7d, 24h)', durationArg)
    .option('--dynamic-config-value <key=value>', 'dynamic config value as KEY=JSON-VALUE (repeatable)', collect, [] as string[]);
  program.parse(args, { from: 'user' });
  const o = program.opts();
  return {
    port: o.port,
    ip: o.ip,
    namespaces: o.namespace,
    dbFilename: o.dbFilename,
    logLevel: o.logLevel,
    logFormat: o.logFormat,
    uiPort: o.uiPort,
    uiIp: o.uiIp,
    httpPort: o.httpPort,
    headless: !!o.headless,
    searchAttributes: o.searchAttribute,
    retentionMs: o.retention,
    timeSkipping: false,
    dynamicConfig: parseDynamicConfigValues(o.dynamicConfigValue),
  };
}

function defaults(): DevServerArgs {
  return { port: 7233, ip: '127.0.0.1', namespaces: [], logLevel: 'warn', logFormat: 'pretty', headless: true, searchAttributes: [], timeSkipping: false, dynamicConfig: {} };
}

/** `Name=Type` pairs (as the Temporal CLI takes them) to a registry; an unknown type is an error. */
export function searchAttributeTypes(pairs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pair of pairs) {
    const [name, type] = pair.split('=');
    const t = TYPE_NAMES[type ?? ''];
    if (!name || !t) throw new InvalidArgumentError(`bad --search-attribute ${pair}: expected Name=Type with Type one of ${Object.keys(TYPE_NAMES).join(', ')}`);
    out[name] = t;
  }
  return out;
}

/**
 * The port the UI is served on, or undefined for none: as `temporal server start-dev`, the UI is on
 * unless `--headless`, at `--ui-port` or else the gRPC port + 1000 (8233 beside 7233). The
 * time-skipping test server has none.
 */
export function uiPortOf(args: DevServerArgs): number | undefined {
  if (args.headless || args.timeSkipping) return undefined;
  if (args.uiPort !== undefined) return args.uiPort;
  return args.port === 0 || args.port + 1000 > 65535 ? 0 : args.port + 1000;
}

/** Runs the server from command-line arguments until SIGINT/SIGTERM; resolves with the exit code. */
export async function runDevServerCli(argv: string[]): Promise<number> {
  let args: DevServerArgs;
  try {
    args = parseDevServerArgs(argv);
    searchAttributeTypes(args.searchAttributes);
  } catch (err) {
    const known = err instanceof CommanderError || err instanceof InvalidArgumentError || err instanceof DynamicConfigError;
    const message = known ? err.message.replace(/^error: /, '') : String(err);
    process.stderr.write(`clearway devserver: ${message}\n`);
    return 2;
  }
  let server;
  try {
    server = await startDevServer({
      port: args.port,
      ip: args.ip,
      namespaces: args.namespaces,
      dbFilename: args.dbFilename,
      logLevel: args.logLevel,
      timeSkipping: args.timeSkipping,
      searchAttributes: searchAttributeTypes(args.searchAttributes),
      retentionMs: args.retentionMs,
      dynamicConfig: args.dynamicConfig,
      httpPort: args.httpPort,
      uiPort: uiPortOf(args),
      uiIp: args.uiIp,
    });
  } catch (err) {
    process.stderr.write(`clearway devserver: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`Temporal server (embedded) listening on ${server.address}\n`);
  const url = (ip: string, port: number) => `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
  if (server.httpPort) process.stdout.write(`Temporal HTTP API on ${url(args.ip, server.httpPort)}\n`);
  if (server.uiPort !== undefined) process.stdout.write(`Temporal UI on ${url(args.uiIp ?? args.ip, server.uiPort)}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
  return 0;
}
