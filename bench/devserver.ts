// Embedded Temporal server benchmark: prints figures, asserts nothing.
//
// (a) is measured twice with the same worker and client settings: against a stand-in server that
// does no work (bench/null-server.ts) and against the embedded server. The stand-in's figure is
// the SDK's own ceiling on this machine; the ratio between the two is what the server costs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { startDevServer } from '../devserver';
import * as activities from './activities';
import { startNullServer } from './null-server';
import { drive, report, type DriveResult } from './stats';
import { activityTimerSignal, go, oneTask } from './workflows';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);

/** Connects a client and a worker to `address` and runs `fn` while the worker polls. */
async function withWorker<T>(address: string, workflowBundle: WorkflowBundle, fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  try {
    const worker = await Worker.create({ connection: nativeConnection, taskQueue: 'bench', workflowBundle, activities, maxConcurrentWorkflowTaskExecutions: 100 });
    return await worker.runUntil(fn(new Client({ connection })));
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
}

/** Warms up, then runs `total` one-task workflows with 20 concurrent starters. */
async function oneTaskRun(client: Client, prefix: string, total: number): Promise<DriveResult> {
  await drive(arg('warmup', 200), 20, (i) => client.workflow.execute(oneTask, { taskQueue: 'bench', workflowId: `${prefix}-warm-${i}`, args: [i] }));
  return drive(total, 20, (i) => client.workflow.execute(oneTask, { taskQueue: 'bench', workflowId: `${prefix}-${i}`, args: [i] }));
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const durable = process.argv.includes('--durable');
  const mode = durable ? 'durable store' : 'in memory';
  const a = arg('one-task', 3000);
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'workflows.ts'), logger: new DefaultLogger('ERROR') });
  const lines: string[] = [];

  let reference: DriveResult | undefined;
  if (arg('reference', 1)) {
    const stand = await startNullServer();
    reference = await withWorker(stand.address, workflowBundle, (client) => oneTaskRun(client, 'ref', a));
    stand.stop();
    lines.push(report('(ref) one-task workflows against a stand-in server that does no work (the SDK ceiling here)', a, reference));
  }

  const dir = durable ? fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-bench-')) : '';
  const server = await startDevServer({ port: 0, logLevel: 'error', dbFilename: durable ? path.join(dir, 'temporal.db') : undefined });
  await withWorker(server.address, workflowBundle, async (client) => {
    const one = await oneTaskRun(client, 'a', a);
    const ratio = reference ? `; ${((100 * reference.seconds) / one.seconds).toFixed(0)}% of the stand-in's rate` : '';
    lines.push(report(`(a) one-task workflows, 20 concurrent starters, ${mode}`, a, one) + ratio);
    const b = arg('mixed', 500);
    if (b > 0)
      lines.push(
        report(
          `(b) activity + 100 ms timer + signal, 20 concurrent, ${mode}`,
          b,
          await drive(b, 20, async (i) => {
            const h = await client.workflow.start(activityTimerSignal, { taskQueue: 'bench', workflowId: `b-${i}` });
            await h.signal(go);
            return h.result();
          }),
        ),
      );
    const c = arg('memory', 10_000);
    if (!c) return;
    const done = server.engine.runs.size;
    if (c > done) await drive(c - done, 20, (i) => client.workflow.execute(oneTask, { taskQueue: 'bench', workflowId: `c-${i}`, args: [i] }));
    global.gc?.();
    const mem = process.memoryUsage();
    lines.push(
      `(c) after ${server.engine.runs.size} completed workflows: heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB, rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB (server, SDK worker and client in one process)`,
    );
  });
  for (const l of lines) console.log(l);
  await server.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
