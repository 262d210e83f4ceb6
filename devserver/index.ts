/** Options for the embedded Temporal-compatible server. */
export interface DevServerOptions {
  /** TCP port to bind on `ip` (and on [::1] when `ip` is a loopback address). 0 picks a free port. */
  port: number;
  /** Address to bind, default 127.0.0.1. */
  ip?: string;
  /** Namespaces registered at start; `default` always exists. */
  namespaces?: string[];
  /** Durable store file; in memory when absent. */
  dbFilename?: string;
  /** pino log level for the server's own logs. */
  logLevel?: string;
}

/** A running embedded server. */
export interface DevServer {
  readonly port: number;
  /** host:port that SDK clients and workers dial. */
  readonly address: string;
  stop(): Promise<void>;
}

/** Starts the embedded server (placeholder until the server lands). */
export async function startDevServer(_opts: DevServerOptions): Promise<DevServer> {
  throw new Error('the embedded Temporal server is not available yet');
}

/** Runs the server from `server start-dev`-style arguments; resolves with the exit code. */
export async function runDevServerCli(_argv: string[]): Promise<number> {
  process.stderr.write('clearway devserver: the embedded Temporal server is not available yet\n');
  return 2;
}
