import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { createCutoverActivities } from '../../activities/cutover';
import { createEscalationActivities } from '../../activities/escalation';
import { createLogNotifier } from '../../activities/notifier';
import { createReconcileActivities } from '../../activities/reconcile';
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
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: {
      ...createCutoverActivities({ prisma: db.prisma }),
      ...createEscalationActivities({ prisma: db.prisma, clock: () => new Date(), notifier: createLogNotifier(silentLog) }),
      ...createReconcileActivities({ prisma: db.prisma, log: silentLog, workDir: path.join(dir, 'work'), partitions: 4 }),
    },
  });
  return { env, db, bundle, dir, worker, running: worker.run() };
}
