import pino, { type Logger } from 'pino';
import { Engine } from './engine/engine';
import type { Limits } from './engine/limits';
import { flagsFromDynamicConfig, limitsFromDynamicConfig, type DynamicConfig } from './dynamic-config';
import { createGrpcServer } from './grpc/server';
import { clusterHandlers } from './rpc/cluster';
import { executionHandlers } from './rpc/executions';
import { batchHandlers } from './rpc/batch';
import { scheduleHandlers } from './rpc/schedules';
import { taskHandlers } from './rpc/tasks';
import { visibilityHandlers } from './rpc/visibility';
import { versioningHandlers } from './rpc/versioning';
import { MemoryStore, type Store } from './store/store';
import { SqliteStore } from './store/sqlite-store';
import { recover } from './engine/recover';
import { SkippingClock, systemClock } from './timers/clock';
import { TimeSkipper } from './timers/time-skipper';
import { testServiceHandlers } from './rpc/test-service';
import { bindServer } from './grpc/bind';
import { createHttpApi } from './http/server';
import { findUiBuild } from './ui/assets';
import { createUiServer } from './ui/server';
import type http from 'node:http';

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
  /** normal: survives the process being killed; full: also survives power loss (slower). */
  dbSync?: 'normal' | 'full';
  /** pino log level for the server's own logs. */
  logLevel?: string;
  /** Custom search attributes to register, name to IndexedValueType. */
  searchAttributes?: Record<string, number>;
  /** Serve Temporal's HTTP API (transcoded from the proto annotations) on this port; 0 picks one. */
  httpPort?: number;
  /** Serve the Temporal UI (and the HTTP API it calls) on this port; 0 picks one. */
  uiPort?: number;
  /** Address the UI binds, default `ip`. */
  uiIp?: string;
  /** Where the built UI is, default where `npm install` builds it. */
  uiBuildDir?: string;
  /** When the UI's port cannot be bound, run without the UI (and warn) instead of failing to start. */
  uiOptional?: boolean;
  /** Retention of closed runs in namespaces created without one (default 7 days). */
  retentionMs?: number;
  /** Overrides of the real server's limits (for tests of the size guard); they win over `dynamicConfig`. */
  limits?: Partial<Limits>;
  /**
   * The real server's dynamic config by key (`--dynamic-config-value`): the `limit.*` keys of the
   * limits above and the switches in dynamic-config.ts are applied; other keys are logged and ignored.
   */
  dynamicConfig?: DynamicConfig;
  /** Serve the TestService and skip time when nothing runs (the SDK's time-skipping test server). */
  timeSkipping?: boolean;
  /** A logger to use instead of a new one. */
  logger?: Logger;
}

/** A running embedded server. */
export interface DevServer {
  readonly port: number;
  /** host:port that SDK clients and workers dial. */
  readonly address: string;
  readonly engine: Engine;
  /** Port of Temporal's HTTP API, when it was asked for. */
  readonly httpPort?: number;
  /** Port of the Temporal UI, when it was asked for. */
  readonly uiPort?: number;
  stop(): Promise<void>;
}

/** Starts the embedded server and resolves once it accepts connections. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const log = opts.logger ?? pino({ level: opts.logLevel ?? 'warn', name: 'devserver' });
  const limits = { ...limitsFromDynamicConfig(opts.dynamicConfig, log), ...opts.limits };
  const store: Store = opts.dbFilename ? new SqliteStore(opts.dbFilename, { sync: opts.dbSync }) : new MemoryStore();
  const clock = opts.timeSkipping ? new SkippingClock() : systemClock;
  const engine = new Engine({ clock, store, log, limits, defaultRetentionMs: opts.retentionMs, ...flagsFromDynamicConfig(opts.dynamicConfig) });
  const skipper = opts.timeSkipping ? new TimeSkipper(engine, clock as SkippingClock) : null;
  const recovered = recover(engine, store);
  if (recovered.runs) log.info(recovered, 'recovered runs from the store');
  engine.transact((tx) => {
    for (const name of ['default', ...(opts.namespaces ?? [])]) engine.ensureNamespace(tx, name);
    for (const [name, type] of Object.entries(opts.searchAttributes ?? {})) {
      engine.searchAttributes.set(name, type);
      tx.searchAttributesChanged = true;
    }
  });
  const shutdownHooks: (() => void)[] = [];
  const executions = executionHandlers(engine);
  const handlers = {
    ...clusterHandlers(engine, store.kind),
    ...executions,
    ...batchHandlers(engine, executions, store.loadRecords('batch')),
    ...scheduleHandlers(engine, executions, store.loadRecords('schedule')),
    ...taskHandlers(engine),
    ...visibilityHandlers(engine),
    ...versioningHandlers(engine),
    ...(skipper ? testServiceHandlers(skipper) : {}),
  };
  const server = createGrpcServer(handlers, { log, includeTestService: !!skipper, onShutdown: (fn) => shutdownHooks.push(fn) });
  const ip = opts.ip ?? '127.0.0.1';
  const port = await bindServer(server, ip, opts.port);
  log.info({ port, ip }, 'embedded Temporal server listening');
  const httpApi = opts.httpPort === undefined ? null : createHttpApi(handlers, log);
  const build = opts.uiPort === undefined ? null : findUiBuild(opts.uiBuildDir);
  const ui = opts.uiPort === undefined ? null : createUiServer({ handlers, log, defaultNamespace: opts.namespaces?.[0] ?? 'default', build });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const s of [httpApi, ui]) {
      s?.closeAllConnections();
      s?.close();
    }
    engine.stop();
    shutdownHooks.forEach((f) => f());
    await closeGrpc(server);
    store.close();
  };
  let httpPort: number | undefined;
  let uiPort: number | undefined;
  try {
    if (httpApi) httpPort = await listenHttp(httpApi, ip, opts.httpPort!, 'HTTP');
    if (ui) {
      try {
        uiPort = await listenHttp(ui, opts.uiIp ?? ip, opts.uiPort!, 'Temporal UI');
        log.info({ port: uiPort }, 'Temporal UI listening');
        if (!build) log.warn('the Temporal UI is not built (npm run build:ui): its port answers the API only');
      } catch (err) {
        if (!opts.uiOptional) throw err;
        log.warn(`${(err as Error).message}: running without the Temporal UI`);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    address: `${ip.includes(':') ? `[${ip}]` : ip}:${port}`,
    engine,
    httpPort,
    uiPort,
    stop,
  };
}

function closeGrpc(server: { forceShutdown(): void; tryShutdown(cb: () => void): void }): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 2000);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

function listenHttp(server: http.Server, ip: string, port: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'EADDRINUSE' ? `${what} port ${port} on ${ip} is already in use` : err.message)),
    );
    server.listen(port, ip === 'localhost' ? '127.0.0.1' : ip, () => resolve((server.address() as { port: number }).port));
  });
}
