import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { createReconcileActivities, type ReconcileInput, type ReconcileProgress } from '../../activities/reconcile';
import { backends, createTestDatabase, postgresAvailable, silentLog, type TestDb } from '../helpers/db';
import { plan, windowRecords, writeNdjson } from './fixtures';
import { reconcileOnce } from './workflows';

const ROOT = path.resolve(__dirname, '../..');
const ACTIVITY_QUEUE = 'cutover-reconcile-test';
let env: TestWorkflowEnvironment;
let db: TestDb;
let bundle: WorkflowBundle;
let dir: string;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  [env, db, bundle] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: path.join(ROOT, 'bin/clearway-devserver') } },
    }),
    createTestDatabase(backends()[0]),
    bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: new DefaultLogger('ERROR') }),
  ]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-crash-'));
});
afterAll(async () => {
  await env?.teardown();
  await db?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function startActivityProcess(crash: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin/run-ts'),
      path.join(__dirname, 'activity-worker.ts'),
      env.address,
      ACTIVITY_QUEUE,
      db.url,
      path.join(dir, 'work'),
      crash,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      if (c.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`activity worker exited with ${code}: ${err}`)));
  });
}

/** Resolves with the first line of the child's output that starts with `prefix`. */
function line(child: ChildProcess, prefix: string): Promise<string> {
  return new Promise((resolve) => {
    child.stdout!.on('data', (c: Buffer) => {
      const hit = c
        .toString()
        .split('\n')
        .find((l) => l.startsWith(prefix));
      if (hit) resolve(hit);
    });
  });
}

function windowInput(runId: string, count: number, seeds: Parameters<typeof windowRecords>[1]): ReconcileInput {
  const { legacy, next } = windowRecords(count, seeds);
  writeNdjson(path.join(dir, runId, 'legacy.ndjson'), legacy);
  writeNdjson(path.join(dir, runId, 'new.ndjson'), next);
  return {
    runId,
    cutoverId: 'co-crash',
    window: 'w1',
    planVersion: 'sha256:test',
    plan,
    legacy: { kind: 'file', path: path.join(dir, runId, 'legacy.ndjson'), format: 'ndjson' },
    new: { kind: 'file', path: path.join(dir, runId, 'new.ndjson'), format: 'ndjson' },
  };
}

/** Waits until the server holds a spill checkpoint of at least `records` legacy records (heartbeats are throttled). */
async function checkpointReached(workflowId: string, records: number) {
  for (;;) {
    const { raw } = await env.client.workflow.getHandle(workflowId).describe();
    const payload = raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
    const details = payload ? defaultPayloadConverter.fromPayload<ReconcileProgress>(payload) : undefined;
    if ((details?.spill?.records.legacy ?? 0) >= records) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function killed(child: ChildProcess) {
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
}

// The embedded database serves one session at a time, and this test needs a second process writing to it.
(postgresAvailable ? it : it.skip)(
  'reconcileWindow: when the worker is killed mid-run, another worker resumes from the last heartbeat and the window is counted once',
  async () => {
    const input = windowInput('crash-run-1', 4000, {
      mismatch: [5, 1234, 3999],
      missingInLegacy: [77],
      duplicate: [2500],
    });
    const workflowWorker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'cutover-crash-wf',
      workflowBundle: bundle,
    });
    await workflowWorker.runUntil(async () => {
      const doomed = await startActivityProcess('partition:3');
      const committed = line(doomed, 'committed 3');
      const handle = await env.client.workflow.start(reconcileOnce, {
        taskQueue: 'cutover-crash-wf',
        workflowId: 'reconcile-crash-1',
        args: [input],
      });
      await committed;
      await killed(doomed);

      const rescuer = await Worker.create({
        connection: env.nativeConnection,
        taskQueue: ACTIVITY_QUEUE,
        activities: createReconcileActivities({
          prisma: db.prisma,
          log: silentLog,
          workDir: path.join(dir, 'work'),
          partitions: 8,
        }),
      });
      const result = await rescuer.runUntil(handle.result());
      expect(result).toMatchObject({
        status: 'completed',
        resumedAt: 3,
        counts: { keys: 4000, mismatched: 3, missingInLegacy: 1, duplicates: 1, matched: 3996 },
      });
    });

    expect(await db.prisma.discrepancy.count({ where: { runId: 'crash-run-1' } })).toBe(5);
    expect(await db.prisma.reconciliationRun.findUniqueOrThrow({ where: { id: 'crash-run-1' } })).toMatchObject({
      resumes: 1,
      partitionsDone: 8,
    });
    const history = await env.client.workflow.getHandle('reconcile-crash-1').fetchHistory();
    expect(history.events!.some((e) => e.activityTaskStartedEventAttributes?.attempt === 2)).toBe(true);
    await Worker.runReplayHistory({ workflowBundle: bundle }, history, 'reconcile-crash-1');
  },
);

(postgresAvailable ? it : it.skip)(
  'reconcileWindow: when the worker is killed mid-spill, another worker continues the spill from the last heartbeat and the window is counted once',
  async () => {
    const input = windowInput('crash-run-2', 4000, { mismatch: [5, 3999], missingInNew: [1500], duplicate: [2500] });
    const workflowWorker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'cutover-crash-wf',
      workflowBundle: bundle,
    });
    await workflowWorker.runUntil(async () => {
      const doomed = await startActivityProcess('spill:2000');
      const spilled = line(doomed, 'spilled ');
      const handle = await env.client.workflow.start(reconcileOnce, {
        taskQueue: 'cutover-crash-wf',
        workflowId: 'reconcile-crash-2',
        args: [input],
      });
      const before = Number((await spilled).split(' ')[1]);
      await checkpointReached('reconcile-crash-2', before);
      await killed(doomed);

      // The rescuer checkpoints as often as the doomed worker did, so its first checkpoint shows where it began.
      const firstCheckpoint: number[] = [];
      const rescuer = await Worker.create({
        connection: env.nativeConnection,
        taskQueue: ACTIVITY_QUEUE,
        activities: createReconcileActivities({
          prisma: db.prisma,
          log: silentLog,
          workDir: path.join(dir, 'work'),
          partitions: 8,
          spillCheckpointMs: 0,
          readChunkBytes: 4096,
          afterSpillCheckpoint: async (state) => void firstCheckpoint.push(state.records.legacy),
        }),
      });
      const result = await rescuer.runUntil(handle.result());
      expect(firstCheckpoint[0]).toBeGreaterThan(before);
      expect(result).toMatchObject({
        status: 'completed',
        counts: { keys: 4000, legacyRecords: 4001, newRecords: 3999, mismatched: 2, missingInNew: 1, duplicates: 1 },
      });
    });

    expect(await db.prisma.discrepancy.count({ where: { runId: 'crash-run-2' } })).toBe(4);
    expect(await db.prisma.reconciliationRun.findUniqueOrThrow({ where: { id: 'crash-run-2' } })).toMatchObject({
      resumes: 1,
      partitionsDone: 8,
    });
    const history = await env.client.workflow.getHandle('reconcile-crash-2').fetchHistory();
    expect(history.events!.some((e) => e.activityTaskStartedEventAttributes?.attempt === 2)).toBe(true);
    await Worker.runReplayHistory({ workflowBundle: bundle }, history, 'reconcile-crash-2');
  },
);
