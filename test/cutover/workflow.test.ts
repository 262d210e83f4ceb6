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
  return until(h, (v) => v.pending.length === 0 && (v.windows.some((w) => w.window === window) || window in v.invalid));
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
    const spiked = await windowOf(h, 'd2', { mismatch: [1, 2] });
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
