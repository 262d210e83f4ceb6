import { Client, Connection } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  type NativeConnectionOptions,
  Worker,
  type LogLevel,
  type WorkerOptions,
} from '@temporalio/worker';
import { createActivities } from '../activities';
import type { Notifier } from '../activities/notifier';
import type { Config } from '../config';
import type { EscalationPolicy } from '../domain/escalation-policy';
import { ClearwayError } from '../errors';
import type { PrismaClient } from '../generated/prisma/client';
import type { Logger } from '../log';
import type { Tracing } from './tracing';
import { prometheusTelemetry, scrapeWorkerMetrics, workflowMetricsSinks } from './worker-metrics';

// The SDK's own default names the option without its `grpc.` prefix, so gRPC keeps its 4 MB limit and a long
// history (read whole by the API's history routes) would fail to arrive.
const CHANNEL_ARGS = { 'grpc.max_receive_message_length': 128 * 1024 * 1024 };

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[?::1\]?)(:\d+)?$/i;

/**
 * The worker's connection options for `address`. The SDK gzips every request by default; on a loopback link that
 * saves no bandwidth and costs CPU on both ends, which the embedded server shares with the worker.
 */
export function workerConnectionOptions(address: string): NativeConnectionOptions {
  return LOOPBACK.test(address) ? { address, grpcCompression: { codec: 'none' } } : { address };
}

/** The link to Temporal: a client once connected, a readiness check, optionally a worker. */
export interface TemporalLink {
  /** The client; throws TEMPORAL_UNAVAILABLE until Temporal has been reached. */
  client(): Client;
  /** Resolves when Temporal answers now; rejects with the reason otherwise. */
  check(): Promise<void>;
  /** The worker's Prometheus metrics, when this process runs one; rejects while its exporter does not answer. */
  workerMetrics: (() => Promise<string>) | null;
  stop(): Promise<void>;
}

/** Options for connectTemporal. */
export interface TemporalOptions {
  /** host:port to dial, or null when Temporal is known to be unavailable (then `unavailable` says why). */
  address: string | null;
  unavailable?: string;
  /** Run a worker on TASK_QUEUE once Temporal answers. */
  worker: boolean;
  prisma: PrismaClient;
  /** How activities tell people about the processes; log-only unless given. */
  notifier?: Notifier;
  /** Where reconciliation stages its partitions, and the database its table sources read. */
  reconcileWorkDir?: string;
  databaseUrl?: string;
  /** The escalation policy new escalations start under, as loaded at start-up. */
  escalationPolicy?: { policy: EscalationPolicy; version: string };
  /** Spans for client calls, workflows and activities when tracing is configured. */
  tracing?: Tracing | null;
  /** host:port where the worker's SDK runtime serves its Prometheus metrics (see cli/worker-metrics.ts). */
  workerMetricsAddress?: string;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 5000;
const CHECK_TIMEOUT_MS = 1500;

/**
 * Connects to Temporal in the background, retrying until it answers, so the API serves (and reports
 * not-ready) while Temporal is away. The worker starts only once the connection works.
 */
export function connectTemporal(config: Config, log: Logger, opts: TemporalOptions): TemporalLink {
  const tlog = log.child({ component: 'temporal' });
  const tracer = opts.tracing?.tracer;
  let connection: Connection | undefined;
  let client: Client | undefined;
  let reason = opts.unavailable ?? `Temporal at ${opts.address} has not answered yet`;
  let stopped = false;
  let wake: (() => void) | undefined;
  let worker: Worker | undefined;
  let nativeConnection: NativeConnection | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const connectClient = async (address: string) => {
    let delay = RETRY_MIN_MS;
    while (!stopped) {
      try {
        const c = await Connection.connect({ address, connectTimeout: '3s', channelArgs: CHANNEL_ARGS });
        if (stopped) {
          await c.close();
          return;
        }
        connection = c;
        client = new Client({
          connection: c,
          namespace: config.TEMPORAL_NAMESPACE,
          // Starts, signals, updates and queries get a span whose context travels to the workflow in its headers.
          interceptors: tracer ? { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer })] } : undefined,
        });
        tlog.info({ address, namespace: config.TEMPORAL_NAMESPACE }, 'connected to Temporal');
        return;
      } catch (e) {
        reason = `Temporal at ${address} does not answer: ${(e as Error).message}`;
        tlog.debug({ err: e }, 'Temporal not reachable yet');
        await pause(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  };

  const runWorker = async (address: string) => {
    installRuntime(tlog, opts.workerMetricsAddress);
    let delay = RETRY_MIN_MS;
    while (!stopped) {
      try {
        nativeConnection = await NativeConnection.connect(workerConnectionOptions(address));
        worker = await Worker.create({
          connection: nativeConnection,
          namespace: config.TEMPORAL_NAMESPACE,
          taskQueue: config.TASK_QUEUE,
          workflowsPath: require.resolve('../workflows/index.ts'),
          activities: createActivities({
            prisma: opts.prisma,
            log: log.child({ component: 'activities' }),
            notifier: opts.notifier,
            reconcileWorkDir: opts.reconcileWorkDir,
            databaseUrl: opts.databaseUrl,
            escalationPolicy: opts.escalationPolicy,
          }),
          ...observability(opts.tracing),
          ...WORKER_TUNING,
        });
        if (stopped) break;
        tlog.info({ taskQueue: config.TASK_QUEUE }, 'worker polling');
        await worker.run();
        if (stopped) break;
        tlog.warn('worker stopped unexpectedly; restarting');
      } catch (e) {
        if (stopped) break;
        tlog.warn({ err: e }, 'worker could not run; retrying');
      } finally {
        worker = undefined;
        await nativeConnection?.close().catch(() => {});
        nativeConnection = undefined;
      }
      await pause(delay);
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
  };

  const address = opts.address;
  const clientDone = address ? connectClient(address) : Promise.resolve();
  const workerDone = address && opts.worker ? clientDone.then(() => runWorker(address)) : Promise.resolve();

  return {
    client() {
      if (!client) throw new ClearwayError('TEMPORAL_UNAVAILABLE', reason);
      return client;
    },
    async check() {
      if (!connection) throw new Error(reason);
      const c = connection;
      await c.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () => c.workflowService.getSystemInfo({}));
    },
    workerMetrics:
      opts.worker && opts.workerMetricsAddress
        ? () => {
            if (!metricsServed) return Promise.reject(new Error("the worker's metrics exporter is not running"));
            return scrapeWorkerMetrics(opts.workerMetricsAddress!);
          }
        : null,
    async stop() {
      stopped = true;
      wake?.();
      if (worker && worker.getState() === 'RUNNING') worker.shutdown();
      await workerDone;
      await clientDone;
      await connection?.close();
    },
  };
}

/**
 * Activity-worker settings every Clearway worker uses. A cancellation reaches a running activity only in the answer to
 * a heartbeat, and the SDK holds heartbeats back for 80 % of the heartbeat timeout (8 s for a reconciliation) unless
 * this caps it: at one second, aborting a cutover stops its reconciliation within about a second, while the timeout
 * stays long enough to ride out a busy event loop.
 */
export const WORKER_TUNING = { maxHeartbeatThrottleInterval: '1 second' } as const satisfies Partial<WorkerOptions>;

/**
 * Workflow starts and outcomes are counted by an interceptor bundled with the workflows; with tracing, workflows and
 * activities get spans too, continuing the trace of the client call that started them.
 */
function observability(tracing: Tracing | null | undefined): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  const workflowModules = [require.resolve('../workflows/interceptors.ts')];
  if (!tracing) return { interceptors: { workflowModules }, sinks: workflowMetricsSinks() };
  const tracer = tracing.tracer;
  return {
    interceptors: {
      workflowModules: [
        ...workflowModules,
        require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
      ],
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    // Spans made inside the sandbox leave it through this sink, only for new (not replayed) history.
    sinks: { ...workflowMetricsSinks(), exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}

let runtimeInstalled = false;
let metricsServed = false;

/**
 * The SDK logs through one process-wide Runtime; route it into pino once, at warn and above. The same Runtime serves
 * the worker's metrics (SDK and workflow counters) in Prometheus format on `metricsAddress`; if that address cannot
 * be bound the worker runs without them and says so once.
 */
function installRuntime(log: Logger, metricsAddress: string | undefined): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace',
    DEBUG: 'debug',
    INFO: 'info',
    WARN: 'warn',
    ERROR: 'error',
  };
  const logger = new DefaultLogger('WARN', (entry) => log[levels[entry.level]](entry.meta ?? {}, entry.message));
  if (metricsAddress) {
    try {
      Runtime.install({ logger, telemetryOptions: prometheusTelemetry(metricsAddress) });
      metricsServed = true;
      log.info({ address: metricsAddress }, 'worker metrics served');
      return;
    } catch (e) {
      log.warn({ err: e, address: metricsAddress }, 'worker metrics cannot be served; running without them');
    }
  }
  Runtime.install({ logger });
}
