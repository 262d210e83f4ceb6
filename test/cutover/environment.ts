import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { createCutoverActivities } from '../../activities/cutover';
import { createEscalationActivities } from '../../activities/escalation';
import { createLogNotifier } from '../../activities/notifier';
import { createReconcileActivities, type SpillState } from '../../activities/reconcile';
import { WORKER_TUNING } from '../../cli/temporal';
import { backends, createTestDatabase, silentLog, type TestDb } from '../helpers/db';

const ROOT = path.resolve(__dirname, '../..');

/** What a cutover suite runs on: the embedded server, a fresh database and a worker with the real activities. */
export interface CutoverEnvironment {
  env: TestWorkflowEnvironment;
  db: TestDb;
  bundle: WorkflowBundle;
  dir: string;
  worker: Worker;
  running: Promise<void>;
}

/**
 * Test faults at the reconciliation's checkpoint, chosen by window label. `hold-*` windows stay at their first spill
 * checkpoint until cancelled, as a window too large to finish before the cutover closes would; heartbeats and the
 * cancellation itself go through the server as always. `broken-*` windows fail for good there, as a run whose
 * retries are spent does, with its spill and first results already written.
 */
async function injectFaults(_state: SpillState, runId: string): Promise<void> {
  const window = runId.split('/')[1] ?? '';
  if (window.startsWith('broken')) {
    throw ApplicationFailure.create({ type: 'DISK_GONE', message: 'the spill disk went away', nonRetryable: true });
  }
  if (!window.startsWith('hold')) return;
  const { cancellationSignal } = Context.current();
  if (cancellationSignal.aborted) return;
  await new Promise((resolve) => cancellationSignal.addEventListener('abort', resolve, { once: true }));
}

/** Starts the server (via the SDK's existing-path launch), a database and a running worker on `taskQueue`. */
export async function startCutoverEnvironment(taskQueue: string, dirPrefix: string): Promise<CutoverEnvironment> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const [env, db, bundle] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: path.join(ROOT, 'bin/clearway-devserver') } },
    }),
    createTestDatabase(backends()[0]),
    bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/index'), logger: new DefaultLogger('ERROR') }),
  ]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), dirPrefix));
  const worker = await Worker.create({
    ...WORKER_TUNING,
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: {
      ...createCutoverActivities({ prisma: db.prisma }),
      ...createEscalationActivities({
        prisma: db.prisma,
        clock: () => new Date(),
        notifier: createLogNotifier(silentLog),
      }),
      ...createReconcileActivities({
        prisma: db.prisma,
        log: silentLog,
        workDir: path.join(dir, 'work'),
        partitions: 4,
        afterSpillCheckpoint: injectFaults,
      }),
    },
  });
  return { env, db, bundle, dir, worker, running: worker.run() };
}
