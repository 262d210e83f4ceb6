// Embedded Temporal server benchmark: prints figures, asserts nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer } from '../devserver';
import * as activities from './activities';
import { drive, report } from './stats';
import { activityTimerSignal, go, oneTask } from './workflows';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const durable = process.argv.includes('--durable');
  const dir = durable ? fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-bench-')) : '';
  const server = await startDevServer({ port: 0, logLevel: 'error', dbFilename: durable ? path.join(dir, 'temporal.db') : undefined });
  const mode = durable ? 'durable store' : 'in memory';
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'workflows.ts'), logger: new DefaultLogger('ERROR') });
  const worker = await Worker.create({ connection: nativeConnection, taskQueue: 'bench', workflowBundle, activities, maxConcurrentWorkflowTaskExecutions: 100 });
  const lines: string[] = [];
  await worker.runUntil(async () => {
    const warm = arg('warmup', 200);
    await drive(warm, 20, (i) => client.workflow.execute(oneTask, { taskQueue: 'bench', workflowId: `warm-${i}`, args: [i] }));
    const a = arg('one-task', 3000);
    lines.push(report(`(a) one-task workflows, 20 concurrent starters, ${mode}`, a, await drive(a, 20, (i) => client.workflow.execute(oneTask, { taskQueue: 'bench', workflowId: `a-${i}`, args: [i] }))));
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
    const done = warm + a + b;
    if (!c) return;
    if (c > done) await drive(c - done, 20, (i) => client.workflow.execute(oneTask, { taskQueue: 'bench', workflowId: `c-${i}`, args: [i] }));
    global.gc?.();
    const mem = process.memoryUsage();
    lines.push(
      `(c) after ${Math.max(c, done)} completed workflows (${server.engine.runs.size} runs held): heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB, rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB (server, SDK worker and client in one process)`,
    );
  });
  for (const l of lines) console.log(l);
  await connection.close();
  await nativeConnection.close();
  await server.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
