import fs from 'node:fs';
import path from 'node:path';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import type { Actor } from '../../domain/actor';
import {
  abortCutover,
  cutover,
  cutoverRecorded,
  cutoverView,
  cutoverWorkflowId,
  decommissionCutover,
  freezeCutover,
  recordUpload,
  rehearseFallback,
  requestReconcile,
  rollbackCutover,
  switchCutover,
  type CutoverProcessView,
} from '../../workflows/cutover';
import { escalationView, escalationWorkflowId } from '../../workflows/escalation';
import type { TestDb } from '../helpers/db';
import { afterUpdate, resetTo, whenHolds } from '../helpers/reset';
import { startCutoverEnvironment } from './environment';
import { plan, windowRecords, writeNdjson, type Seeds } from './fixtures';

const lead: Actor = { id: 'lena', roles: ['rollout-lead'] };
const chair: Actor = { id: 'carl', roles: ['ccb-chair'] };
const steward: Actor = { id: 'stella', roles: ['data-steward'] };
let env: TestWorkflowEnvironment;
let db: TestDb;
let bundle: WorkflowBundle;
let dir: string;
let worker: Worker;
let running: Promise<void>;
let n = 0;
let files = 0;
const TASK_QUEUE = 'cutover-wf';

beforeAll(async () => {
  ({ env, db, bundle, dir, worker, running } = await startCutoverEnvironment(TASK_QUEUE, 'clearway-cutover-wf-'));
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  if (env) {
    const histories = [];
    for await (const wf of env.client.workflow.list({ query: `TaskQueue = "${TASK_QUEUE}"` })) {
      histories.push({
        workflowId: wf.workflowId,
        history: await env.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory(),
      });
    }
    // Every history this suite produced must replay against the current workflow code.
    let replayed = 0;
    for await (const r of Worker.runReplayHistories({ workflowBundle: bundle, replayName: 'cutover' }, histories)) {
      if (r.error) throw new Error(`history of ${r.workflowId} does not replay: ${r.error.message}`);
      replayed++;
    }
    // Each cutover's history, and those of the escalations its spikes started.
    expect(replayed).toBeGreaterThan(n);
  }
  await env?.teardown();
  await db?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<WorkflowHandle<typeof cutover>> {
  const id = `co-${++n}`;
  return env.client.workflow.start(cutover, {
    taskQueue: TASK_QUEUE,
    workflowId: cutoverWorkflowId(id),
    args: [{ id, changeRequestId: 'cr-approved', plan, planVersion: 'sha256:plan', openedBy: lead }],
  });
}

async function until(h: WorkflowHandle, done: (v: CutoverProcessView) => boolean): Promise<CutoverProcessView> {
  for (;;) {
    const v = await h.query(cutoverView);
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Uploads and reconciles one window, and waits for its outcome. */
async function windowOf(h: WorkflowHandle, window: string, seeds: Seeds = {}) {
  const { legacy, next } = windowRecords(200, seeds);
  for (const [side, rows] of [
    ['legacy', legacy],
    ['new', next],
  ] as const) {
    const file = path.join(dir, h.workflowId, window, `${side}.ndjson`);
    writeNdjson(file, rows);
    await h.executeUpdate(recordUpload, {
      args: [{ actor: steward, window, side, format: 'ndjson', path: file, bytes: fs.statSync(file).size }],
    });
  }
  await h.executeUpdate(requestReconcile, { args: [{ actor: steward, window }] });
  return until(
    h,
    (v) =>
      v.pending.length === 0 &&
      (v.windows.some((w) => w.window === window) || window in v.invalid || window in v.failed),
  );
}

async function refusal(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) return (e.cause as { type?: string }).type;
    throw e;
  }
  return undefined;
}

const passing = { actor: lead, steps: [{ step: 'point back to legacy', passed: true }] };
const failing = { actor: lead, steps: [{ step: 'point back to legacy', passed: false, note: 'DNS still cached' }] };

const idOf = (h: WorkflowHandle) => h.workflowId.replace(/^cutover-/, '');

/** Stages one side of a window the way the API does: a fresh file per upload, in the cutover's staging folder. */
async function stage(h: WorkflowHandle, window: string, side: 'legacy' | 'new', rows: Record<string, unknown>[]) {
  const stagingDir = path.join(dir, 'staging', idOf(h));
  const file = path.join(stagingDir, window, `${side}-${++files}.ndjson`);
  writeNdjson(file, rows);
  await h.executeUpdate(recordUpload, {
    args: [{ actor: steward, window, side, format: 'ndjson', path: file, bytes: fs.statSync(file).size, stagingDir }],
  });
  return file;
}

async function actionsOf(h: WorkflowHandle) {
  const rows = await db.prisma.auditEvent.findMany({
    where: { subjectType: 'cutover', subjectId: idOf(h) },
    orderBy: { id: 'asc' },
  });
  return rows.map((r) => ({ action: r.action, payload: r.payload as Record<string, unknown> }));
}

/**
 * Waits until the cutover has recorded `n` removals of staged files. An upload shows `removedAt` as soon as the
 * workflow decides to remove it; the files (and idle orphans) are gone once the removal is recorded.
 */
async function removalsRecorded(h: WorkflowHandle, n: number): Promise<void> {
  for (;;) {
    const recorded = (await actionsOf(h)).filter((a) => a.action === 'CUTOVER_STAGED_FILES_REMOVED').length;
    if (recorded >= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function switched(h: WorkflowHandle) {
  await windowOf(h, 'd1');
  await windowOf(h, 'd2');
  await h.executeUpdate(rehearseFallback, { args: [passing] });
  await h.executeUpdate(freezeCutover, { args: [{ actor: lead }] });
  await h.executeUpdate(switchCutover, { args: [{ actor: chair }] });
  await h.executeUpdate(switchCutover, { args: [{ actor: lead }] });
}

describe('cutover workflow', () => {
  it('cutover: when clean windows reach the streak, the rehearsed, frozen cutover switches with lead and chair, watches clean and decommissions', async () => {
    const h = await start();
    await windowOf(h, 'd1');
    const ready = await windowOf(h, 'd2');
    expect(ready).toMatchObject({ status: 'ready', cleanStreak: 2 });
    await h.executeUpdate(rehearseFallback, { args: [passing] });
    await h.executeUpdate(freezeCutover, { args: [{ actor: lead }] });
    expect(await h.executeUpdate(switchCutover, { args: [{ actor: lead }] })).toMatchObject({
      status: 'frozen',
      switchRequest: { lead: { by: 'lena' } },
    });
    expect(await h.executeUpdate(switchCutover, { args: [{ actor: chair }] })).toMatchObject({ status: 'switched' });
    const watched = await windowOf(h, 'd3');
    expect(watched).toMatchObject({ status: 'switched', watchClean: 1 });
    expect(watched.windows.at(-1)).toMatchObject({ window: 'd3', phase: 'watch', clean: true });
    await h.executeUpdate(decommissionCutover, { args: [{ actor: lead }] });
    expect(await h.result()).toMatchObject({ status: 'decommissioned', final: true });

    const row = await db.prisma.cutover.findUniqueOrThrow({ where: { id: h.workflowId.replace('cutover-', '') } });
    expect(row).toMatchObject({ status: 'decommissioned', changeRequestId: 'cr-approved' });
    const actions = (
      await db.prisma.auditEvent.findMany({
        where: { subjectType: 'cutover', subjectId: row.id },
        orderBy: { id: 'asc' },
      })
    ).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'CUTOVER_OPENED',
        'CUTOVER_READY',
        'CUTOVER_FALLBACK_REHEARSED',
        'CUTOVER_FROZEN',
        'CUTOVER_SWITCHED',
        'CUTOVER_DECOMMISSIONED',
      ]),
    );
  });

  it('cutover: when a window spikes, the clean streak resets and an escalation is requested', async () => {
    const h = await start();
    await windowOf(h, 'd1');
    await windowOf(h, 'd2', { mismatch: [1, 2] });
    // The escalation is started right after the window is counted; a query may fall in between.
    const spiked = await until(h, (v) => v.escalations.length > 0);
    expect(spiked).toMatchObject({ status: 'parallel_run', cleanStreak: 0 });
    expect(spiked.windows.at(-1)).toMatchObject({ window: 'd2', clean: false, rate: 0.01 });
    expect(spiked.escalations).toEqual([
      { window: 'd2', key: `${h.workflowId}-d2-parallel`, severity: 'critical', started: true },
    ]);
    // The escalation outlives the cutover and is owned by the rollout lead.
    const esc = env.client.workflow.getHandle(escalationWorkflowId(`${h.workflowId}-d2-parallel`));
    expect(await esc.query(escalationView)).toMatchObject({ severity: 'critical', owner: { role: 'rollout-lead' } });
    await h.executeUpdate(abortCutover, { args: [{ actor: chair, reason: 'vendor not ready' }] });
    expect(await h.result()).toMatchObject({ status: 'aborted', reason: 'vendor not ready' });
  });

  it('switch: when the fallback was not rehearsed, it is refused with FALLBACK_NOT_REHEARSED and nothing changes', async () => {
    const h = await start();
    expect(await refusal(h.executeUpdate(switchCutover, { args: [{ actor: lead }] }))).toBe('CUTOVER_NOT_READY');
    await windowOf(h, 'd1');
    await windowOf(h, 'd2');
    await h.executeUpdate(freezeCutover, { args: [{ actor: lead }] });
    expect(await refusal(h.executeUpdate(switchCutover, { args: [{ actor: lead }] }))).toBe('FALLBACK_NOT_REHEARSED');
    expect(await refusal(h.executeUpdate(switchCutover, { args: [{ actor: steward }] }))).toBe('ROLE_REQUIRED');
    expect(await h.query(cutoverView)).toMatchObject({ status: 'frozen', switchRequest: {} });
    await h.executeUpdate(abortCutover, { args: [{ actor: lead, reason: 'test over' }] });
    await h.result();
  });

  it('reset: when a cutover is reset to before its passing rehearsal, the new run re-projects it and the audit says so', async () => {
    const h = await start();
    await h.executeUpdate(rehearseFallback, { args: [failing] });
    await h.executeUpdate(rehearseFallback, { args: [passing] });
    const id = h.workflowId.replace(/^cutover-/, '');
    const ended = (await h.describe()).runId;
    expect((await db.prisma.cutover.findUniqueOrThrow({ where: { id } })).runId).toBe(ended);

    const runId = await resetTo(env.client, h.workflowId, ended, afterUpdate(0));
    const row = await whenHolds(() => db.prisma.cutover.findUniqueOrThrow({ where: { id } }), (r) => r.runId === runId);
    expect(row).toMatchObject({ runId, supersededRuns: [ended] });
    expect((row.view as unknown as CutoverProcessView).rehearsal).toMatchObject({ passed: false });
    const reset = await db.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: id, action: 'CUTOVER_RESET' } });
    expect(reset.payload).toMatchObject({ runId, endedRunId: ended });

    const again = env.client.workflow.getHandle(h.workflowId, runId);
    await again.executeUpdate(abortCutover, { args: [{ actor: lead, reason: 'test over' }] });
    await again.result();
  });

  it('switch: when the last fallback rehearsal failed, it is refused until a passing rehearsal is recorded', async () => {
    const h = await start();
    await windowOf(h, 'd1');
    await windowOf(h, 'd2');
    await h.executeUpdate(freezeCutover, { args: [{ actor: lead }] });
    expect(await h.executeUpdate(rehearseFallback, { args: [failing] })).toMatchObject({
      rehearsal: { passed: false },
    });
    expect(await refusal(h.executeUpdate(switchCutover, { args: [{ actor: lead }] }))).toBe('FALLBACK_NOT_REHEARSED');
    await h.executeUpdate(rehearseFallback, { args: [passing] });
    expect(await h.executeUpdate(switchCutover, { args: [{ actor: lead }] })).toMatchObject({
      status: 'frozen',
      switchRequest: { lead: { by: 'lena' } },
    });
    await h.executeUpdate(abortCutover, { args: [{ actor: chair, reason: 'test over' }] });
    await h.result();
  });

  it.each([
    ['aborted before the switch', false],
    ['rolled back during the watch', true],
  ] as const)(
    'reconcile: when the cutover is %s while a large window reconciles, the reconciliation is cancelled and its spill, partial results and uploads are removed',
    async (_when, afterSwitch) => {
      const h = await start();
      if (afterSwitch) await switched(h);
      const { legacy, next } = windowRecords(100_000, { mismatch: [7, 99_000] });
      await stage(h, 'hold-1', 'legacy', legacy);
      await stage(h, 'hold-1', 'new', next);
      await stage(h, 'later', 'legacy', legacy.slice(0, 10));
      await h.executeUpdate(requestReconcile, { args: [{ actor: steward, window: 'hold-1' }] });
      let run = null;
      while (!run) {
        run = await db.prisma.reconciliationRun.findFirst({ where: { cutoverId: idOf(h), window: 'hold-1' } });
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(run.status).toBe('running');

      const closed = afterSwitch
        ? await h.executeUpdate(rollbackCutover, { args: [{ actor: chair, reason: 'customs rejects' }] })
        : await h.executeUpdate(abortCutover, { args: [{ actor: chair, reason: 'vendor not ready' }] });
      expect(closed.status).toBe(afterSwitch ? 'rolled_back' : 'aborted');
      await h.result();

      expect(await db.prisma.reconciliationRun.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({
        status: 'cancelled',
      });
      expect(await db.prisma.discrepancy.count({ where: { runId: run.id } })).toBe(0);
      expect(fs.readdirSync(path.join(dir, 'work')).filter((d) => d.startsWith(idOf(h)))).toEqual([]);
      expect(fs.existsSync(path.join(dir, 'staging', idOf(h)))).toBe(false);
      const history = await h.fetchHistory();
      expect(history.events!.some((e) => e.activityTaskCanceledEventAttributes)).toBe(true);
      expect(history.events!.filter((e) => e.activityTaskCompletedEventAttributes)).toHaveLength(
        history.events!.filter((e) => e.activityTaskScheduledEventAttributes).length - 1,
      );
      const row = await db.prisma.cutover.findUniqueOrThrow({ where: { id: idOf(h) } });
      const view = row.view as unknown as CutoverProcessView;
      expect(view.pending).toEqual([]);
      expect(view.uploads['hold-1'].legacy!.removedAt).toEqual(expect.any(String));
      expect(view.uploads.later.legacy!.removedAt).toEqual(expect.any(String));
      const actions = (await actionsOf(h)).map((a) => a.action);
      expect(actions).toEqual(
        expect.arrayContaining(['CUTOVER_RECONCILIATION_CANCELLED', 'CUTOVER_STAGED_FILES_REMOVED']),
      );
    },
  );

  it('uploads: when windows are reconciled, replaced or refused, their staged files go; idle orphans go; closing empties the staging folder', async () => {
    const h = await start();
    const staging = path.join(dir, 'staging', idOf(h));
    const { legacy, next } = windowRecords(200);
    const replaced = await stage(h, 'd1', 'legacy', legacy.slice(0, 5));
    expect(fs.existsSync(replaced)).toBe(true);
    const kept = [await stage(h, 'd1', 'legacy', legacy), await stage(h, 'd1', 'new', next)];
    expect(fs.existsSync(replaced)).toBe(false);
    // What an upload cut off by a crash leaves behind: removed once idle for a day, kept while it may be in flight.
    const orphan = path.join(staging, 'd1', 'legacy-cut-off.ndjson');
    const inFlight = path.join(staging, 'd9', 'new-in-flight.ndjson');
    writeNdjson(orphan, legacy.slice(0, 3));
    writeNdjson(inFlight, next.slice(0, 3));
    const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
    fs.utimesSync(orphan, twoDaysAgo, twoDaysAgo);

    await h.executeUpdate(requestReconcile, { args: [{ actor: steward, window: 'd1' }] });
    let v = await until(h, (x) => x.uploads.d1?.new?.removedAt !== undefined);
    await removalsRecorded(h, 2);
    expect(v.windows).toEqual([expect.objectContaining({ window: 'd1', clean: true })]);
    expect(kept.map((f) => fs.existsSync(f))).toEqual([false, false]);
    expect(fs.existsSync(orphan)).toBe(false);
    expect(fs.existsSync(inFlight)).toBe(true);

    // A malformed side goes; the side that read clean stays for the next attempt.
    const bad = await stage(h, 'd2', 'legacy', [{ ref: 'D0000001' }]);
    fs.appendFileSync(bad, '{oops\n');
    const good = await stage(h, 'd2', 'new', next);
    await h.executeUpdate(requestReconcile, { args: [{ actor: steward, window: 'd2' }] });
    v = await until(h, (x) => x.uploads.d2?.legacy?.removedAt !== undefined);
    await removalsRecorded(h, 3);
    expect(v.invalid.d2).toMatchObject({ problemCount: 1 });
    expect(v.uploads.d2.new!.removedAt).toBeUndefined();
    expect([fs.existsSync(bad), fs.existsSync(good)]).toEqual([false, true]);
    expect(await refusal(h.executeUpdate(requestReconcile, { args: [{ actor: steward, window: 'd2' }] }))).toBe(
      'WINDOW_NOT_UPLOADED',
    );
    await stage(h, 'd2', 'legacy', legacy);
    await h.executeUpdate(requestReconcile, { args: [{ actor: steward, window: 'd2' }] });
    v = await until(h, (x) => x.uploads.d2?.new?.removedAt !== undefined);
    await removalsRecorded(h, 4);
    expect(v).toMatchObject({ status: 'ready', cleanStreak: 2 });
    expect(fs.existsSync(good)).toBe(false);

    await h.executeUpdate(abortCutover, { args: [{ actor: lead, reason: 'test over' }] });
    await h.result();
    expect(fs.existsSync(staging)).toBe(false);
    const reasons = (await actionsOf(h))
      .filter((a) => a.action === 'CUTOVER_STAGED_FILES_REMOVED')
      .map((a) => a.payload.reason);
    expect(reasons).toEqual(['superseded', 'reconciled', 'input-invalid', 'reconciled', 'closed']);
  });

  it('cutover: when a watch window after the switch spikes, it rolls back; a manual rollback needs a switched cutover', async () => {
    const h = await start();
    expect(await refusal(h.executeUpdate(rollbackCutover, { args: [{ actor: lead, reason: 'early' }] }))).toBe(
      'INVALID_STATE',
    );
    await windowOf(h, 'd1');
    await windowOf(h, 'd2');
    await h.executeUpdate(rehearseFallback, { args: [passing] });
    await h.executeUpdate(freezeCutover, { args: [{ actor: lead }] });
    await h.executeUpdate(switchCutover, { args: [{ actor: chair }] });
    await h.executeUpdate(switchCutover, { args: [{ actor: lead }] });
    const rolled = await windowOf(h, 'd3', { critical: [5] });
    expect(rolled).toMatchObject({ status: 'rolled_back', final: true });
    expect(await h.result()).toMatchObject({ status: 'rolled_back' });
  });

  it('reconcile: when a window fails for good, its run is closed as failed, its spill goes and the cutover carries on', async () => {
    const h = await start();
    const failed = await windowOf(h, 'broken-1');
    expect(failed.failed['broken-1']).toEqual({
      runId: `${idOf(h)}/broken-1/parallel/1`,
      message: 'the spill disk went away',
      at: expect.any(String),
    });
    expect(failed).toMatchObject({ cleanStreak: 0, windows: [], pending: [] });
    const run = await db.prisma.reconciliationRun.findUniqueOrThrow({
      where: { id: `${idOf(h)}/broken-1/parallel/1` },
    });
    expect(run).toMatchObject({ status: 'failed', failure: 'the spill disk went away', finishedAt: expect.any(Date) });
    expect(await db.prisma.discrepancy.count({ where: { runId: run.id } })).toBe(0);
    expect(fs.readdirSync(path.join(dir, 'work')).filter((name) => name.includes('broken-1'))).toEqual([]);
    await h.executeUpdate(cutoverRecorded);
    expect(await actionsOf(h)).toEqual(
      expect.arrayContaining([
        {
          action: 'CUTOVER_RECONCILIATION_FAILED',
          payload: expect.objectContaining({ window: 'broken-1', message: 'the spill disk went away' }),
        },
      ]),
    );
    // A later window reconciles as usual; uploading the failed one again clears its failure.
    expect((await windowOf(h, 'd1')).windows.map((w) => w.window)).toEqual(['d1']);
    const file = path.join(dir, h.workflowId, 'broken-1', 'legacy-again.ndjson');
    writeNdjson(file, windowRecords(10).legacy);
    const again = await h.executeUpdate(recordUpload, {
      args: [{ actor: steward, window: 'broken-1', side: 'legacy', format: 'ndjson', path: file, bytes: 1 }],
    });
    expect(again.failed).toEqual({});
    await h.executeUpdate(abortCutover, { args: [{ actor: lead, reason: 'test over' }] });
    await h.result();
  });

  it('reconcile: when a window is malformed or not uploaded, it is reported and not counted', async () => {
    const h = await start();
    expect(await refusal(h.executeUpdate(requestReconcile, { args: [{ actor: steward, window: 'd9' }] }))).toBe(
      'WINDOW_NOT_UPLOADED',
    );
    const file = path.join(dir, h.workflowId, 'bad', 'legacy.ndjson');
    writeNdjson(file, [{ ref: 'D1' }]);
    fs.appendFileSync(file, '{oops\n');
    await h.executeUpdate(recordUpload, {
      args: [{ actor: steward, window: 'bad', side: 'legacy', format: 'ndjson', path: file, bytes: 1 }],
    });
    await h.executeUpdate(recordUpload, {
      args: [{ actor: steward, window: 'bad', side: 'new', format: 'ndjson', path: file, bytes: 1 }],
    });
    await h.executeUpdate(requestReconcile, { args: [{ actor: steward, window: 'bad' }] });
    const v = await until(h, (x) => 'bad' in x.invalid);
    expect(v).toMatchObject({ cleanStreak: 0, windows: [], invalid: { bad: { problemCount: 2 } } });
    await h.executeUpdate(cutoverRecorded);
    await h.executeUpdate(abortCutover, { args: [{ actor: lead, reason: 'test over' }] });
    await h.result();
  });
});
