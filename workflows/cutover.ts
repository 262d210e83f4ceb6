// The parallel run of a legacy and a new system, window by window, up to the switch and the legacy system's
// retirement. The domain decides every step; this file keeps the state durable, refuses bad updates before they
// reach history, queues reconciliations and hands writes to activities.
import { ActivityCancellationType, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { CutoverActivities, CutoverProcessEvent, StagedRemoval, StagedRemovalReason } from '../activities/cutover';
import type { ReconcileInput, ReconcileResult } from '../activities/reconcile';
import type { createReconcileActivities } from '../activities/reconcile';
import type { RecordFormat, SourceRef } from '../activities/record-sources';
import type { Actor } from '../domain/actor';
import * as co from '../domain/cutover';
import type { CutoverPlan } from '../domain/cutover-plan';
import type { Side } from '../domain/reconcile';
import { refuse } from '../domain/result';
import { escalation, escalationWorkflowId } from './escalation';
import { followResets } from './follow-resets';

/** The workflow id of a cutover: its business key. */
export function cutoverWorkflowId(id: string): string {
  return `cutover-${id}`;
}

/** What starting a cutover carries; the plan travels in the input so the workflow never re-reads it. */
export type CutoverStart = {
  id: string;
  changeRequestId: string;
  plan: CutoverPlan;
  planVersion: string;
  openedBy: Actor;
};

/** A staged upload of one side of one window; `removedAt` once its file is gone (reconciled, refused, closed). */
export type UploadInfo = {
  format: RecordFormat;
  path: string;
  bytes: number;
  by: string;
  at: string;
  removedAt?: string;
};
export type UploadInput = {
  actor: Actor;
  window: string;
  side: Side;
  format: RecordFormat;
  path: string;
  bytes: number;
  /** The folder the API stages this cutover's uploads in; cleared of orphans, and removed when the cutover ends. */
  stagingDir?: string;
};
export type ReconcileRequest = { actor: Actor; window: string };
export type RehearseInput = { actor: Actor; steps: co.RehearsedStep[] };
export type ReasonInput = { actor: Actor; reason: string };
export type Acting = { actor: Actor };

/** The domain view plus what the process tracks around it. */
export type CutoverProcessView = co.CutoverView & {
  uploads: Record<string, Partial<Record<Side, UploadInfo>>>;
  /** Windows queued or being reconciled, oldest first. */
  pending: string[];
  /** Windows whose input was refused as malformed; they count for nothing until reconciled again. */
  invalid: Record<string, { runId: string; problemCount: number }>;
  /** Windows whose last reconciliation failed after its retries, with the error; queue them again to retry. */
  failed: Record<string, { runId: string; message: string; at: string }>;
  escalations: { window: string; key: string; severity: string; started: boolean }[];
  revision: number;
};

export const cutoverView = wf.defineQuery<CutoverProcessView>('view');
export const recordUpload = wf.defineUpdate<CutoverProcessView, [UploadInput]>('recordUpload');
export const requestReconcile = wf.defineUpdate<CutoverProcessView, [ReconcileRequest]>('reconcile');
export const rehearseFallback = wf.defineUpdate<CutoverProcessView, [RehearseInput]>('rehearseFallback');
export const freezeCutover = wf.defineUpdate<CutoverProcessView, [Acting]>('freeze');
export const switchCutover = wf.defineUpdate<CutoverProcessView, [Acting]>('switch');
export const rollbackCutover = wf.defineUpdate<CutoverProcessView, [ReasonInput]>('rollback');
export const abortCutover = wf.defineUpdate<CutoverProcessView, [ReasonInput]>('abort');
export const decommissionCutover = wf.defineUpdate<CutoverProcessView, [Acting]>('decommission');
/** Answers once every step accepted so far is in the database, so a caller can read its own writes. */
export const cutoverRecorded = wf.defineUpdate<CutoverProcessView>('recorded');

// Projection writes must land: they retry until the database answers.
const store = wf.proxyActivities<CutoverActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/**
 * How a window's reconciliation runs: long, heartbeating, resumed from its checkpoint when retried. A cancellation
 * only comes back with a heartbeat, which Clearway's workers send at least once a second (WORKER_TUNING), so a closed
 * cutover stops its reconciliation within about a second; the timeout is short so a dead worker is noticed soon. The
 * workflow waits for the attempt to acknowledge, so its spill is gone before the staged uploads are removed.
 */
export const RECONCILE_ACTIVITY = {
  startToCloseTimeout: '4 hours',
  heartbeatTimeout: '10 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 10 },
} as const;
const reconciler = wf.proxyActivities<ReturnType<typeof createReconcileActivities>>(RECONCILE_ACTIVITY);
const closer = wf.proxyActivities<ReturnType<typeof createReconcileActivities>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

const CLOSE_FAILED_RUNS_PATCH = 'cutover-close-failed-runs';

// A file in the staging folder that no upload names and nobody wrote to for a day was cut off by a crash.
const ORPHAN_IDLE_MS = 24 * 3600_000;

type RunOutcome = ReconcileResult | { status: 'stopped' } | { status: 'failed'; message: string };

function now(): string {
  return new Date().toISOString();
}

function failure(r: co.CutoverRefusal): ApplicationFailure {
  return ApplicationFailure.create({
    type: r.code,
    message: r.message,
    nonRetryable: true,
    details: r.details === undefined ? [] : [r.details],
  });
}

function rejectUnless(r: co.CutoverRefusal | null): void {
  if (r) throw failure(r);
}

function reject(t: co.CutoverTransition): void {
  if (!t.ok) throw failure(t);
}

/** Runs one cutover from its parallel run to decommissioning, abort or rollback. */
export async function cutover(input: CutoverStart): Promise<co.CutoverView> {
  const opened = co.openCutover({
    id: input.id,
    changeRequestId: input.changeRequestId,
    plan: input.plan,
    planVersion: input.planVersion,
    by: input.openedBy.id,
    at: now(),
  });
  let state = opened.state;
  const uploads: CutoverProcessView['uploads'] = {};
  const pending: string[] = [];
  const invalid: CutoverProcessView['invalid'] = {};
  const failed: CutoverProcessView['failed'] = {};
  const escalations: CutoverProcessView['escalations'] = [];
  let revision = 0;
  let writes: Promise<unknown> = Promise.resolve();
  let attempt = 0;
  let stagingDir: string | null = null;
  /** Files of uploads replaced by a later one, not yet removed. */
  let retired: string[] = [];
  /** Files the running reconciliation reads. */
  let reading: string[] = [];

  const view = (): CutoverProcessView => ({
    ...co.toView(state),
    uploads,
    pending: [...pending],
    invalid,
    failed,
    escalations,
    revision,
  });

  // Writes are chained so revisions land in order even when updates arrive while one is in flight.
  const record = (events: CutoverProcessEvent[]) => {
    const write = { revision: ++revision, view: view(), plan: input.plan, events };
    writes = writes.then(() => watch(store.recordCutover(write)));
    return writes;
  };
  const watch = followResets(() => void record([]));

  const sourceOf = (window: string, side: Side): SourceRef | null => {
    const upload = uploads[window]?.[side];
    if (upload && !upload.removedAt) return { kind: 'file', path: upload.path, format: upload.format };
    const table = input.plan.source?.[side];
    return table ? { kind: 'table', table: table.table, windowColumn: table.windowColumn, window } : null;
  };

  const canQueue = (r: ReconcileRequest): co.CutoverRefusal | null => {
    const refused = co.canReconcile(state, r.window, r.actor);
    if (refused) return refused;
    if (pending.includes(r.window)) return refuse('WINDOW_ALREADY_RECONCILED', `window ${r.window} is already queued`);
    const missing = (['legacy', 'new'] as const).filter((side) => sourceOf(r.window, side) === null);
    if (missing.length > 0) {
      return refuse('WINDOW_NOT_UPLOADED', `window ${r.window} has no ${missing.join(' or ')} records`, {
        missing,
      });
    }
    return null;
  };

  // A spike opens an escalation owned by the rollout lead; it outlives the cutover, which only records its key.
  const escalate = async (key: string, title: string): Promise<boolean> => {
    try {
      await wf.startChild(escalation, {
        workflowId: escalationWorkflowId(key),
        args: [
          {
            key,
            severity: input.plan.escalationSeverity,
            title,
            owner: { role: 'rollout-lead' },
            by: `workflow:${cutoverWorkflowId(input.id)}`,
          },
        ],
        parentClosePolicy: 'ABANDON',
      });
      return true;
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) return true;
      throw e;
    }
  };

  const liveUploads = () =>
    Object.values(uploads).flatMap((sides) => Object.values(sides).filter((u) => u !== undefined && !u.removedAt));
  const inUse = (file: string) => reading.includes(file) || liveUploads().some((u) => u.path === file);

  // Staged files go once the step that needed them is recorded; the removal is recorded after it happened.
  const removeStaged = async (
    reason: StagedRemovalReason,
    windows: string[],
    files: string[],
    sweep: Pick<StagedRemoval, 'keep' | 'idleMs' | 'all'> | null = null,
  ) => {
    const dir = sweep && stagingDir ? { dir: stagingDir, ...sweep } : {};
    if (files.length === 0 && !('dir' in dir)) return;
    const { removed } = await store.removeStagedFiles({ cutoverId: input.id, files, ...dir });
    if (removed > 0 || files.length > 0) {
      await record([{ type: 'STAGED_FILES_REMOVED', at: now(), reason, windows, files: removed }]);
    }
  };

  /** Marks `sides` of `window` removed when they still name the files the run read, and removes those files. */
  const releaseWindow = async (window: string, sides: readonly Side[], read: string[], reason: StagedRemovalReason) => {
    const at = now();
    for (const side of sides) {
      const u = uploads[window]?.[side];
      if (u && !u.removedAt && read.includes(u.path)) u.removedAt = at;
    }
    const files = read.filter((f) => !inUse(f));
    const stale = retired.filter((f) => !inUse(f));
    retired = retired.filter(inUse);
    await removeStaged(reason, [window], [...new Set([...files, ...stale])], {
      keep: [...liveUploads().map((u) => u.path), ...retired, ...reading],
      idleMs: ORPHAN_IDLE_MS,
    });
  };

  /**
   * Runs one window's reconciliation, cancelling it if the cutover closes meanwhile (abort, rollback): the attempt
   * stops at its next heartbeat and removes its spill and partial results.
   */
  const runWindow = async (args: ReconcileInput): Promise<RunOutcome> => {
    const job = new wf.CancellationScope();
    const watch = new wf.CancellationScope();
    watch
      .run(() => wf.condition(() => co.FINAL.includes(state.status)))
      .then(
        () => job.cancel(),
        () => undefined,
      );
    try {
      return await job.run(() => reconciler.reconcileWindow(args));
    } catch (e) {
      // Closed meanwhile: cancelled, or (its worker gone) timed out while being cancelled.
      if (co.FINAL.includes(state.status)) return { status: 'stopped' };
      if (e instanceof ActivityFailure) return { status: 'failed', message: e.cause?.message ?? e.message };
      throw e;
    } finally {
      watch.cancel();
    }
  };

  const apply = async (t: co.CutoverTransition, extra: CutoverProcessEvent[] = []) => {
    if (!t.ok) throw failure(t);
    state = t.state;
    await record([...t.events, ...extra]);
    return view();
  };

  // The opening write takes revision 1 before any handler can run, so the row is always created by OPENED.
  const openedWrite = record(opened.events);

  wf.setHandler(cutoverView, view);
  wf.setHandler(cutoverRecorded, async () => {
    await writes;
    return view();
  });

  wf.setHandler(
    recordUpload,
    async (u) => {
      const at = now();
      const replaced = uploads[u.window]?.[u.side];
      if (replaced && !replaced.removedAt && replaced.path !== u.path) retired.push(replaced.path);
      if (u.stagingDir) stagingDir = u.stagingDir;
      uploads[u.window] = {
        ...uploads[u.window],
        [u.side]: { format: u.format, path: u.path, bytes: u.bytes, by: u.actor.id, at },
      };
      delete invalid[u.window];
      delete failed[u.window];
      await record([
        {
          type: 'UPLOAD_RECORDED',
          at,
          by: u.actor.id,
          window: u.window,
          side: u.side,
          format: u.format,
          bytes: u.bytes,
        },
      ]);
      // A replaced upload goes at once, unless the running reconciliation reads it.
      const superseded = retired.filter((f) => !inUse(f));
      retired = retired.filter(inUse);
      await removeStaged('superseded', [u.window], superseded);
      return view();
    },
    { validator: (u) => rejectUnless(co.canReconcile(state, u.window, u.actor)) },
  );

  wf.setHandler(
    requestReconcile,
    async (r) => {
      pending.push(r.window);
      await record([{ type: 'RECONCILIATION_REQUESTED', at: now(), by: r.actor.id, window: r.window }]);
      return view();
    },
    { validator: (r) => rejectUnless(canQueue(r)) },
  );

  wf.setHandler(rehearseFallback, (r) => apply(co.rehearseFallback(state, r, now())), {
    validator: (r) => reject(co.rehearseFallback(state, r, now())),
  });
  wf.setHandler(freezeCutover, (a) => apply(co.freeze(state, a.actor, now())), {
    validator: (a) => reject(co.freeze(state, a.actor, now())),
  });
  wf.setHandler(switchCutover, (a) => apply(co.requestSwitch(state, a.actor, now())), {
    validator: (a) => rejectUnless(co.canSwitch(state, a.actor)),
  });
  wf.setHandler(rollbackCutover, (r) => apply(co.rollback(state, r.actor, r.reason, now())), {
    validator: (r) => reject(co.rollback(state, r.actor, r.reason, now())),
  });
  wf.setHandler(abortCutover, (r) => apply(co.abort(state, r.actor, r.reason, now())), {
    validator: (r) => reject(co.abort(state, r.actor, r.reason, now())),
  });
  wf.setHandler(decommissionCutover, (a) => apply(co.decommission(state, a.actor, now())), {
    validator: (a) => reject(co.decommission(state, a.actor, now())),
  });

  await openedWrite;

  while (!co.FINAL.includes(state.status)) {
    await wf.condition(() => pending.length > 0 || co.FINAL.includes(state.status));
    if (co.FINAL.includes(state.status)) break;
    const window = pending[0];
    const legacy = sourceOf(window, 'legacy')!;
    const next = sourceOf(window, 'new')!;
    const runId = `${input.id}/${window}/${state.status === 'switched' ? 'watch' : 'parallel'}/${++attempt}`;
    const read = [legacy, next].flatMap((s) => (s.kind === 'file' ? [s.path] : []));
    reading = read;
    const result = await runWindow({
      runId,
      cutoverId: input.id,
      window,
      planVersion: input.planVersion,
      plan: { records: input.plan.records, fields: input.plan.fields, thresholds: input.plan.thresholds },
      legacy,
      new: next,
    });
    reading = [];
    pending.shift();
    const at = now();
    if (result.status !== 'stopped') delete failed[window];
    if (result.status === 'stopped') {
      // Normally the attempt already closed its run; this covers one whose worker died before it could.
      await closer.abandonReconciliation(runId);
      await record([{ type: 'RECONCILIATION_CANCELLED', at, window, runId }]);
      break;
    }
    if (result.status === 'failed') {
      // The window stays uploaded and may be queued again; the cutover carries on. Histories from before runs were
      // closed on failure replay without the close.
      if (wf.patched(CLOSE_FAILED_RUNS_PATCH)) await closer.failReconciliation(runId, result.message);
      failed[window] = { runId, message: result.message, at };
      await record([{ type: 'RECONCILIATION_FAILED', at, window, runId, message: result.message }]);
      continue;
    }
    if (result.status === 'invalid') {
      invalid[window] = { runId: result.runId, problemCount: result.problemCount };
      await record([
        { type: 'WINDOW_INPUT_INVALID', at, window, runId: result.runId, problemCount: result.problemCount },
      ]);
      // The malformed side is of no further use; a side that read clean stays for the next attempt.
      await releaseWindow(window, result.problemSides, read, 'input-invalid');
      continue;
    }
    // The cutover may have been closed as the window finished; then the result is only stored.
    const t = co.recordWindow(
      state,
      {
        window,
        runId: result.runId,
        rate: result.rate,
        clean: result.clean,
        reasons: result.reasons,
        counts: result.counts,
        at,
      },
      at,
    );
    if (!t.ok) continue;
    state = t.state;
    const extra: CutoverProcessEvent[] = [];
    for (const e of t.events) {
      if (e.type !== 'SPIKE') continue;
      const key = `cutover-${input.id}-${e.window}-${e.phase}`;
      const started = await escalate(
        key,
        `Discrepancy spike in cutover ${input.id}, window ${e.window}: ${e.reasons.join('; ')}`,
      );
      const entry = { window: e.window, key, severity: input.plan.escalationSeverity, started };
      escalations.push(entry);
      extra.push({ type: 'ESCALATION_REQUESTED', at, ...entry });
    }
    await record([...t.events, ...extra]);
    await releaseWindow(window, ['legacy', 'new'], read, 'reconciled');
  }

  await wf.condition(wf.allHandlersFinished);
  // Closed: windows still queued will never run, and every staged file goes with the staging folder.
  if (pending.length > 0) {
    const dropped = pending.splice(0);
    await record([{ type: 'RECONCILIATIONS_DROPPED', at: now(), windows: dropped }]);
  }
  const at = now();
  const left = liveUploads();
  for (const u of left) u.removedAt = at;
  const files = [...new Set([...left.map((u) => u.path), ...retired])];
  retired = [];
  await removeStaged('closed', Object.keys(uploads), files, { all: true });
  // Updates that arrived while closing (reads of the recorded state) finish before the workflow does.
  await wf.condition(wf.allHandlersFinished);
  await writes;
  return co.toView(state);
}
