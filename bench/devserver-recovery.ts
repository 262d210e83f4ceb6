// Recovery benchmark: fills a durable store with closed and open workflows, then measures how long
// a restarted server takes to serve again and how much memory it holds. Prints figures only.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { startDevServer } from '../devserver';
import { CommandType, temporal } from '../devserver/proto';
import { respondWorkflowTaskCompleted, startWorkflowTask } from '../devserver/engine/workflow-tasks';
import { startWorkflow } from '../devserver/engine/workflows';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);

async function main(): Promise<void> {
  const closed = arg('closed', 10_000);
  const open = arg('open', 1_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-recovery-'));
  const dbFilename = path.join(dir, 'temporal.db');
  const first = await startDevServer({ port: 0, dbFilename, logLevel: 'silent' });
  const e = first.engine;
  const payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"result"') };
  const t0 = performance.now();
  for (let i = 0; i < closed + open; i++) {
    e.transact((tx) => {
      const { run } = startWorkflow(e, tx, {
        namespace: 'default',
        workflowId: `wf-${i}`,
        workflowType: { name: 'bench' },
        taskQueue: { name: 'bench' },
        input: { payloads: [payload] },
        requestId: `r-${i}`,
      });
      const task = startWorkflowTask(e, tx, { kind: 'wft', runKey: run.key, scheduledEventId: run.wft.scheduledEventId, attempt: run.wft.attempt }, 'bench', false);
      const commands: temporal.api.command.v1.ICommand[] =
        i < closed
          ? [{ commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: { result: { payloads: [payload] } } }]
          : [{ commandType: CommandType.COMMAND_TYPE_START_TIMER, startTimerCommandAttributes: { timerId: 't', startToFireTimeout: { seconds: 3600 as any } } }];
      respondWorkflowTaskCompleted(e, tx, { taskToken: task!.taskToken, commands, identity: 'bench' });
    });
  }
  const fillSeconds = (performance.now() - t0) / 1000;
  await first.stop();
  const size = fs.statSync(dbFilename).size + (fs.existsSync(`${dbFilename}-wal`) ? fs.statSync(`${dbFilename}-wal`).size : 0);
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  const t1 = performance.now();
  const second = await startDevServer({ port: 0, dbFilename, logLevel: 'silent' });
  const connection = await Connection.connect({ address: second.address });
  await connection.workflowService.getSystemInfo({});
  const recoverySeconds = (performance.now() - t1) / 1000;
  global.gc?.();
  const heapMiB = (process.memoryUsage().heapUsed - before) / 2 ** 20;
  const count = await connection.workflowService.countWorkflowExecutions({ namespace: 'default', query: "ExecutionStatus = 'Running'" });
  console.log(`(d) store filled with ${closed} closed + ${open} open workflows in ${fillSeconds.toFixed(1)} s (${(size / 2 ** 20).toFixed(1)} MiB on disk)`);
  console.log(`(e) recovery: serving again ${recoverySeconds.toFixed(2)} s after start; ${second.engine.runs.size} runs held, ${Number(count.count)} running; heap ${heapMiB.toFixed(0)} MiB for them, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
  await connection.close();
  await second.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
