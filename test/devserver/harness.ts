import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode, makeTelemetryFilterString, type WorkflowBundle } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { startDevServer, type DevServer, type DevServerOptions } from '../../devserver';
import * as activities from './activities';

let runtimeInstalled = false;

/** A server, an SDK client and a worker factory for one test file. */
export interface Harness {
  server: DevServer;
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  taskQueue(): string;
  worker(taskQueue: string, extra?: Partial<Parameters<typeof Worker.create>[0]>): Promise<Worker>;
  /** Runs `fn` while a worker polls a fresh task queue (passed to it), then stops the worker. */
  withWorker<T>(fn: (taskQueue: string) => Promise<T>): Promise<T>;
  /** Every history the server holds, for replay. */
  histories(): { workflowId: string; history: temporal.api.history.v1.IHistory }[];
  close(): Promise<void>;
}

let bundle: Promise<WorkflowBundle> | undefined;

/** Starts a server on a free port and connects the SDK to it. */
export async function startHarness(serverOptions: Partial<DevServerOptions> = {}): Promise<Harness> {
  if (!runtimeInstalled) {
    // Timeouts and stale completions are exercised on purpose; the worker's warnings about them are noise here.
    Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
    runtimeInstalled = true;
  }
  void workflowBundle();
  const server = await startDevServer({ port: 0, logLevel: 'silent', ...serverOptions });
  const connection = await Connection.connect({ address: server.address });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const client = new Client({ connection });
  let n = 0;
  const workers: Worker[] = [];
  const harness: Harness = {
    server,
    client,
    connection,
    nativeConnection,
    taskQueue: () => `tq-${process.pid}-${++n}`,
    async worker(taskQueue, extra = {}) {
      const w = await Worker.create({
        connection: nativeConnection,
        taskQueue,
        workflowBundle: await bundle!,
        activities,
        ...extra,
      });
      workers.push(w);
      return w;
    },
    async withWorker(fn) {
      const tq = harness.taskQueue();
      const w = await harness.worker(tq);
      return await w.runUntil(() => fn(tq));
    },
    histories() {
      return [...server.engine.runs.values()].map((r) => ({ workflowId: r.workflowId, history: { events: r.events } }));
    },
    async close() {
      // Workers made but never run still hold the native connection.
      for (const w of workers) {
        if (w.getState() !== 'INITIALIZED') continue;
        const running = w.run();
        w.shutdown();
        await running.catch(() => undefined);
      }
      await connection.close();
      await nativeConnection.close();
      await server.stop();
    },
  };
  return harness;
}

/** The bundle of the suite's workflows, for replaying histories obtained some other way. */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'workflows.ts'), logger: new DefaultLogger('ERROR') });
  return bundle;
}

/**
 * The suite's harness: started before its tests; after them, every history it produced must replay, then it closes.
 * Call it at the top of a suite or describe block; its members are there once the tests run.
 */
export function suiteHarness(serverOptions: Partial<DevServerOptions> = {}): Harness {
  const h = {} as Harness;
  beforeAll(async () => {
    Object.assign(h, await startHarness(serverOptions));
  });
  afterAll(async () => {
    expect(await replayAll(h)).toBeGreaterThan(0);
    await h.close();
  });
  return h;
}

/** Replays every history the server produced; throws on the first that does not replay. */
export async function replayAll(h: Harness): Promise<number> {
  const histories = h.histories();
  let n = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle: await bundle!, replayName: 'devserver' }, histories)) {
    if (result.error) throw new Error(`history of ${result.workflowId} does not replay: ${result.error.message}`);
    n++;
  }
  return n;
}

/**
 * A bare server and client connection for a suite that speaks the raw protocol (no worker, no replay at the end):
 * started before its tests, stopped after them. Its members are there once the tests run.
 */
export function suiteRawServer(serverOptions: Partial<DevServerOptions> = {}): { server: DevServer; connection: Connection } {
  const raw = {} as { server: DevServer; connection: Connection };
  beforeAll(async () => {
    raw.server = await startDevServer({ port: 0, logLevel: 'silent', ...serverOptions });
    raw.connection = await Connection.connect({ address: raw.server.address });
  });
  afterAll(async () => {
    await raw.connection?.close();
    await raw.server?.stop();
  });
  return raw;
}

/**
 * Over the raw protocol: starts a workflow of type `raw` on the task queue `tq-<workflowId>` and completes its first
 * task with `completion` (sticky attributes, say); resolves with the queue and that first task.
 */
export async function rawRunPastFirstTask(
  svc: Connection['workflowService'],
  workflowId: string,
  completion: Partial<temporal.api.workflowservice.v1.IRespondWorkflowTaskCompletedRequest> = {},
): Promise<{ tq: string; first: temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse }> {
  const tq = `tq-${workflowId}`;
  await svc.startWorkflowExecution({ namespace: 'default', workflowId, workflowType: { name: 'raw' }, taskQueue: { name: tq }, requestId: workflowId });
  const first = await svc.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: tq, kind: 1 }, identity: 'raw-worker' });
  await svc.respondWorkflowTaskCompleted({ namespace: 'default', taskToken: first.taskToken, identity: 'raw-worker', ...completion });
  return { tq, first };
}
