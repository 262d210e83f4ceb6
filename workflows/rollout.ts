import * as wf from '@temporalio/workflow';
import { ApplicationFailure, ParentClosePolicy, TemporalFailure } from '@temporalio/workflow';
import type { MeasurementBatch, RolloutActivities, RolloutRecordEvent, StepOutcome } from '../activities/rollout';
import type { Actor } from '../domain/actor';
import { nextTimingChange, type GateResult, type Measurement, type MeasurementProblem } from '../domain/gate';
import {
  advance,
  canAdvance,
  canCloseReview,
  closeReview,
  currentPhase,
  hold,
  openReview,
  resume,
  reviewOverdue,
  rollback,
  startRollout,
  toView,
  type Review,
  type ReviewDecision,
  type RolloutEvent,
  type RollbackTarget,
  type RolloutRefusal,
  type RolloutResult,
  type RolloutState,
  type RolloutView,
} from '../domain/rollout';
import { refuse } from '../domain/result';
import type { RolloutPlan } from '../domain/rollout-plan';
import { followResets } from './follow-resets';

/** How a rollout starts: from an approved change request, under a validated plan and its version. */
export type RolloutStart = {
  id: string;
  changeRequestId: string;
  plan: RolloutPlan;
  policyVersion: string;
  by: string;
  /** Workflow type started when a review is overdue; the escalation ladder's workflow unless given. */
  escalationWorkflow?: string;
  /**
   * A run continues as new once its history holds more events than this (5,000 unless given, never under 50), or
   * sooner when Temporal suggests it (at 10,240 events or 10 MB; a run is terminated at 51,200 events or 50 MB).
   */
  historyLimit?: number;
  /** What the previous run handed over when it continued as new; absent in a rollout's first run. */
  carried?: RolloutCarried;
};

/** A review's closing as its workflow tells the rollout. */
export type ReviewClosing = { id: string; actor: Actor; findings: string; decision: ReviewDecision };

/** Work that reached the rollout by signal; applied one item at a time, in the order it arrived. */
export type Inbound =
  | { kind: 'batch'; batch: MeasurementBatch }
  | { kind: 'measure'; batchId: string; by: string; rows: unknown }
  | { kind: 'overdue'; id: string; escalationId: string | null }
  | ({ kind: 'closed' } & ReviewClosing);

/** Everything one run of a rollout hands to the next when it continues as new. */
export type RolloutCarried = {
  /** The rollout itself: phase, visits (soak), reviews, hold, last gate, start (first month), plan (blackouts). */
  state: RolloutState;
  /** The projection's last revision: the next run's writes count on from it, so none is taken for a retry. */
  revision: number;
  /** Signalled batches numbered so far: a batch id (`<workflow id>/signal-<n>`) is never used twice. */
  signalBatches: number;
  /** Gate judgements asked for so far. */
  evaluations: number;
  /** How many phase visits have had their entry judged; a visit entered during the hand-over is judged next run. */
  judgedVisit: number;
  /** When the last gate shown would change with time alone. */
  gateChangesAt: string | null;
  /** Signals received and not yet applied: they are applied by the next run, in the same order. */
  inbox: Inbound[];
};

export type AdvanceRequest = { actor: Actor; override?: { reason: string }; from?: string };
export type HoldRequest = { actor: Actor; reason: string };
export type ResumeRequest = { actor: Actor };
export type RollbackRequest = { actor: Actor; to: RollbackTarget; reason: string };
export type SignalledMeasurements = { by: string; rows: Measurement[] };

export const rolloutView = wf.defineQuery<RolloutView>('view');
export const advanceRollout = wf.defineUpdate<RolloutView, [AdvanceRequest]>('advance');
export const holdRollout = wf.defineUpdate<RolloutView, [HoldRequest]>('hold');
export const resumeRollout = wf.defineUpdate<RolloutView, [ResumeRequest]>('resume');
export const rollbackRollout = wf.defineUpdate<RolloutView, [RollbackRequest]>('rollback');
/** Answers once the rollout's approval is confirmed and its projection written, so the next read finds it. */
export const rolloutRecorded = wf.defineUpdate<RolloutView, []>('recorded');
/** Judges the current phase's gate now, on request. */
export const evaluateRollout = wf.defineUpdate<GateResult, []>('evaluate');
/** The API stored a batch of measurements; the workflow judges the gate and opens reviews. */
export const measurementsRecorded = wf.defineSignal<[MeasurementBatch]>('measurements-recorded');
/** Measurements sent straight to the workflow (automated feeds); it stores them itself. */
export const measure = wf.defineSignal<[SignalledMeasurements]>('measure');
/** A review's child tells its rollout that the review passed its deadline. */
export const reviewWentOverdue = wf.defineSignal<[{ id: string; escalationId: string | null }]>('review-overdue');
/**
 * A review's child tells its rollout that the review closed, and with which decision. The child signals the
 * rollout's workflow id, which reaches whichever run is current: the run that opened the review may have continued
 * as new since, so no run waits on a child's result.
 */
export const reviewClosed = wf.defineSignal<[ReviewClosing]>('review-closed');
/**
 * Answers once the rollout has applied the closing of review `id` (its decision included) and written it, so a
 * caller that closed the review on its own workflow reads the outcome afterwards. NOT_FOUND for a review it lacks.
 */
export const reviewSettled = wf.defineUpdate<RolloutView, [{ id: string }]>('review-settled');

/** The workflow id of rollout `id`. */
export function rolloutWorkflowId(id: string): string {
  return `rollout-${id}`;
}

const acts = wf.proxyActivities<RolloutActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
// Rollback steps touch the outside world: a few tries, then the failure is recorded and the next step runs.
const stepActs = wf.proxyActivities<RolloutActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
});

const nowIso = () => new Date().toISOString();

const HISTORY_LIMIT = 5_000;
// Below this a new run could have to hand over again before doing anything.
const MIN_HISTORY_LIMIT = 50;
// Pending signals carried into the next run's input stay well under the 2 MB a payload may hold; above this the
// run applies them itself before it hands over (a signalled batch may carry 10,000 rows).
const CARRY_BYTES = 256 * 1024;

function failure(refusal: RolloutRefusal): ApplicationFailure {
  return ApplicationFailure.create({
    type: refusal.code,
    message: refusal.message,
    nonRetryable: true,
    details: refusal.details ? [refusal.details] : [],
  });
}

function rejectUnless(refusal: RolloutRefusal | null): void {
  if (refusal) throw failure(refusal);
}

/**
 * One phased rollout. Every decision is the domain's; every write goes through activities, chained so the
 * projection sees revisions in order; an update returns once its change is written.
 *
 * Signals are queued and applied one at a time by a loop of their own. A rollout may run for months, so a run
 * continues as new before its history grows too long, at a moment when nothing is half done: no update handler
 * running, no queued item being applied, no write in flight. Signals not applied yet travel in the next run's input.
 */
export async function rollout(input: RolloutStart): Promise<RolloutView> {
  const { carried } = input;
  let opening: RolloutEvent[] = [];
  let state: RolloutState;
  if (carried) {
    state = carried.state;
  } else {
    const started = startRollout({ ...input, at: nowIso() });
    if (!started.ok) throw failure(started);
    state = started.state;
    opening = started.events;
  }
  let revision = carried?.revision ?? 0;
  let writes: Promise<unknown> = Promise.resolve();
  let writing = 0;
  let signalBatches = carried?.signalBatches ?? 0;
  let evaluations = carried?.evaluations ?? 0;
  // A carried rollout was approved when its first run started.
  let approved = carried !== undefined;
  // Signals received, in arrival order, and the one being applied.
  const inbox: Inbound[] = [...(carried?.inbox ?? [])];
  let applying: Inbound | null = null;
  // Set once this run is to continue as new: queued signals then wait for the next run.
  let handingOver = false;
  // Gate judgements finished so far, and when the last one shown would change by itself.
  let judged = 0;
  let gateChangesAt: string | null = carried?.gateChangesAt ?? null;
  let judgedVisit = carried?.judgedVisit ?? 0;
  const historyLimit = Math.max(MIN_HISTORY_LIMIT, input.historyLimit ?? HISTORY_LIMIT);
  const ready = () => wf.condition(() => approved);
  const ended = () => state.status === 'completed' || state.status === 'rolled-back';

  const write = (events: RolloutRecordEvent[]): Promise<unknown> => {
    revision += 1;
    writing += 1;
    const snapshot = { revision, view: toView(state, nowIso()), plan: state.plan, events };
    writes = writes
      .then(() => watch(acts.projectRollout(snapshot)))
      .finally(() => {
        writing -= 1;
      });
    return writes;
  };
  const watch = followResets(() => void write([]));
  const apply = async (result: RolloutResult): Promise<RolloutView> => {
    if (!result.ok) throw failure(result);
    state = result.state;
    const events: RolloutRecordEvent[] = [...result.events];
    await write(events);
    for (const event of result.events) if (event.type === 'ROLLED_BACK') await runSteps(event.steps);
    return toView(state, nowIso());
  };
  const runSteps = async (steps: (RolloutPlan['phases'][number]['rollback'][number] & { phase: string })[]) => {
    for (const step of steps) {
      let outcome: StepOutcome;
      try {
        outcome = await stepActs.runRollbackStep({ rolloutId: state.id, step });
      } catch (error) {
        outcome = { outcome: 'failed', detail: error instanceof Error ? error.message : String(error) };
      }
      const at = nowIso();
      await write([{ type: 'ROLLBACK_STEP', at, phase: step.phase, step: step.name, action: step.action, outcome }]);
    }
  };
  const isBatch = (item: Inbound | null) => item?.kind === 'batch' || item?.kind === 'measure';
  const batchesPending = () => isBatch(applying) || inbox.some(isBatch);
  const judge = async (trigger: string): Promise<GateResult> => {
    // Measurements already handed to the workflow count: a gate judged on request must see them.
    if (trigger === 'request' || trigger === 'advance') await wf.condition(() => !batchesPending());
    const phase = currentPhase(state).name;
    const { nextChangeAt, ...gate } = await acts.evaluateGate({
      key: `${wf.workflowInfo().workflowId}/${wf.workflowInfo().runId}/${++evaluations}`,
      rolloutId: state.id,
      plan: state.plan,
      phase,
      at: nowIso(),
      rolloutStartedAt: state.startedAt,
      trigger,
    });
    // The phase may have changed while the activity ran, or a later judgement finished first: a gate of a phase
    // left behind, or older than the one shown, is not shown.
    const shown = state.lastGate;
    const newer = shown === null || shown.phase !== gate.phase || Date.parse(shown.at) <= Date.parse(gate.at);
    if (currentPhase(state).name === gate.phase && !ended() && newer) {
      state = { ...state, lastGate: gate };
      gateChangesAt = nextChangeAt;
    }
    judged += 1;
    return gate;
  };

  // The review runs on after this run continues as new (ABANDON), and tells the rollout of its outcome by signal.
  const startReview = async (review: Review) => {
    try {
      await wf.startChild(stewardshipReview, {
        workflowId: review.id,
        args: [
          {
            rolloutId: state.id,
            rolloutWorkflowId: wf.workflowInfo().workflowId,
            review,
            escalationSeverity: state.plan.stewardship.escalationSeverity,
            escalationWorkflow: input.escalationWorkflow ?? 'escalation',
          },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    } catch (error) {
      wf.log.error('the review workflow did not start', { review: review.id, error: String(error) });
    }
  };

  const handleBatch = async (batch: MeasurementBatch) => {
    for (const breach of batch.breaches) {
      if (ended()) break;
      const id = `${wf.workflowInfo().workflowId}-review-${state.reviews.length + 1}`;
      const opened = openReview(state, {
        id,
        phase: breach.phase,
        trigger: { value: breach.value, sampleSize: breach.sampleSize, windowEnd: breach.windowEnd },
        at: nowIso(),
      });
      if (opened.ok && opened.events.length > 0) {
        await apply(opened);
        await startReview(opened.state.reviews[opened.state.reviews.length - 1]);
      }
    }
    if (state.status === 'active' || state.status === 'held') {
      await judge(`measurements:${batch.batchId}`);
      await write([]);
    }
  };
  const handleSignalled = async ({ batchId, by, rows }: Extract<Inbound, { kind: 'measure' }>) => {
    // A signal cannot be refused like a request: a bad batch is recorded as rejected, with its bad rows by index.
    const reject = (count: number, reason: string, problems: MeasurementProblem[] = []) =>
      write([{ type: 'MEASUREMENTS_REJECTED', at: nowIso(), by, batchId, count, reason, problems }]);
    if (ended()) {
      await reject(Array.isArray(rows) ? rows.length : 0, `rollout ${state.id} is ${state.status}`);
      return;
    }
    const batch = await acts.recordMeasurements({
      rolloutId: state.id,
      batchId,
      by,
      plan: state.plan,
      rows: Array.isArray(rows) ? rows : [],
    });
    if ('reason' in batch) {
      await reject(batch.count, batch.reason, batch.problems);
      return;
    }
    await handleBatch(batch);
  };
  const applyItem = async (item: Inbound): Promise<unknown> => {
    switch (item.kind) {
      case 'batch':
        return handleBatch(item.batch);
      case 'measure':
        return handleSignalled(item);
      case 'overdue':
        return apply(reviewOverdue(state, { id: item.id, escalationId: item.escalationId, at: nowIso() }));
      case 'closed':
        return apply(
          closeReview(state, {
            id: item.id,
            actor: item.actor,
            findings: item.findings,
            decision: item.decision,
            at: nowIso(),
          }),
        );
    }
  };

  // Sizes of queued items, measured once each, when a hand-over needs them.
  const sizes = new WeakMap<Inbound, number>();
  const sizeOf = (item: Inbound): number => {
    let size = sizes.get(item);
    if (size === undefined) {
      size = JSON.stringify(item).length;
      sizes.set(item, size);
    }
    return size;
  };
  const inboxBytes = () => inbox.reduce((sum, item) => sum + sizeOf(item), 0);
  // While handing over, the loop still applies what running handlers wait for (a batch an advance must see, the
  // closing a review-settled update waits for), and what would make the next run's input too large.
  const mayApply = () => inbox.length > 0 && (!handingOver || !wf.allHandlersFinished() || inboxBytes() > CARRY_BYTES);
  const applyInbox = async (): Promise<void> => {
    for (;;) {
      await wf.condition(mayApply);
      // Checked again: a hand-over woken in the same activation may have run first.
      if (!mayApply()) continue;
      applying = inbox.shift() ?? null;
      try {
        if (applying) await applyItem(applying);
      } catch (error) {
        // A refused item (a review this rollout lacks, a closing it cannot apply) is logged and the next one runs.
        if (!(error instanceof TemporalFailure)) throw error;
        wf.log.warn('a signalled item was not applied', { kind: applying?.kind, error: error.message });
      } finally {
        applying = null;
      }
    }
  };

  wf.setHandler(rolloutView, () => toView(state, nowIso()));
  // Signal handlers only queue: what a signal asks for is then either applied or carried into the next run.
  wf.setHandler(measurementsRecorded, (batch) => {
    inbox.push({ kind: 'batch', batch });
  });
  wf.setHandler(measure, (signalled) => {
    const by = typeof signalled?.by === 'string' && signalled.by.trim() !== '' ? signalled.by : 'signal:unnamed';
    const batchId = `${wf.workflowInfo().workflowId}/signal-${++signalBatches}`;
    inbox.push({ kind: 'measure', batchId, by, rows: signalled?.rows });
  });
  wf.setHandler(reviewWentOverdue, ({ id, escalationId }) => {
    inbox.push({ kind: 'overdue', id, escalationId });
  });
  wf.setHandler(reviewClosed, (closing) => {
    inbox.push({ ...closing, kind: 'closed' });
  });
  wf.setHandler(rolloutRecorded, async () => {
    await ready();
    await writes;
    return toView(state, nowIso());
  });
  wf.setHandler(evaluateRollout, async () => {
    await ready();
    return judge('request');
  });
  wf.setHandler(
    reviewSettled,
    async ({ id }) => {
      await ready();
      await wf.condition(() => state.reviews.some((r) => r.id === id && r.status === 'closed'));
      await writes;
      return toView(state, nowIso());
    },
    {
      validator: (req) => {
        if (!state.reviews.some((r) => r.id === req?.id)) {
          throw failure(refuse('NOT_FOUND', `rollout ${state.id} has no review ${req?.id}`));
        }
      },
    },
  );
  wf.setHandler(
    advanceRollout,
    async (req) => {
      await ready();
      const from = currentPhase(state).name;
      const gate = await judge('advance');
      const result = advance(state, { ...req, from: req.from ?? from, at: nowIso() }, gate);
      if (!result.ok && result.code === 'GATE_NOT_MET') {
        await write([
          { type: 'ADVANCE_REFUSED', at: nowIso(), by: req.actor.id, code: result.code, message: result.message },
        ]);
      }
      return apply(result);
    },
    { validator: (req) => rejectUnless(canAdvance(state, { ...req, at: nowIso() })) },
  );
  wf.setHandler(
    holdRollout,
    async (req) => {
      await ready();
      return apply(hold(state, { ...req, at: nowIso() }));
    },
    {
      validator: (req) => {
        const r = hold(state, { ...req, at: nowIso() });
        rejectUnless(r.ok ? null : r);
      },
    },
  );
  wf.setHandler(
    resumeRollout,
    async (req) => {
      await ready();
      return apply(resume(state, { ...req, at: nowIso() }));
    },
    {
      validator: (req) => {
        const r = resume(state, { ...req, at: nowIso() });
        rejectUnless(r.ok ? null : r);
      },
    },
  );
  wf.setHandler(
    rollbackRollout,
    async (req) => {
      await ready();
      return apply(rollback(state, { ...req, at: nowIso() }));
    },
    {
      validator: (req) => {
        const r = rollback(state, { ...req, at: nowIso() });
        rejectUnless(r.ok ? null : r);
      },
    },
  );

  // Handlers are registered first so no early update is dropped; they wait until the approval is confirmed.
  if (!carried) {
    const status = await acts.changeRequestStatus(input.changeRequestId);
    if (status !== 'approved') {
      throw ApplicationFailure.nonRetryable(
        `change request ${input.changeRequestId} is ${status ?? 'unknown'}, not approved`,
        'CHANGE_NOT_APPROVED',
      );
    }
    approved = true;
    await write(opening);
  }
  void applyInbox();

  const handOverDue = () => {
    const info = wf.workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > historyLimit;
  };
  // Nothing half done: no update handler running, no queued item being applied, no write in flight. Review
  // children have started (a batch that opens a review is applied until its child runs).
  const quiet = () => applying === null && writing === 0 && wf.allHandlersFinished() && inboxBytes() <= CARRY_BYTES;
  // Done: the rollout ended, every review is closed and applied, and nothing is left to apply or write.
  const settled = () =>
    ended() &&
    state.reviews.every((r) => r.status === 'closed') &&
    inbox.length === 0 &&
    applying === null &&
    writing === 0 &&
    wf.allHandlersFinished();
  const handOver = async (): Promise<void> => {
    handingOver = true;
    while (!quiet()) await wf.condition(quiet);
    if (settled()) return;
    const next: RolloutCarried = {
      state,
      revision,
      signalBatches,
      evaluations,
      judgedVisit,
      gateChangesAt,
      inbox: [...inbox],
    };
    await wf.continueAsNew<typeof rollout>({ ...input, carried: next });
  };

  // The gate is judged continuously: on entering a phase, when measurements arrive, on request, and by timer at the
  // next moment its judgement or the rollout's readiness can change with time alone (a measurement ageing out of
  // its window or one ending later coming in, the first month ending, the soak served, a blackout starting or
  // ending). Every judgement is recorded as a GateEvaluation, and the projection follows it.
  for (;;) {
    if (!ended() && state.visits.length !== judgedVisit) {
      judgedVisit = state.visits.length;
      await judge(judgedVisit === 1 ? 'start' : 'phase-entered');
      await write([]);
      continue;
    }
    if (settled()) break;
    if (handOverDue()) {
      await handOver();
      continue;
    }
    const seen = judged;
    const wasEnded = ended();
    const changed = () =>
      ended() !== wasEnded ||
      judged !== seen ||
      (!wasEnded && state.visits.length !== judgedVisit) ||
      settled() ||
      handOverDue();
    const visit = state.visits[state.visits.length - 1];
    const timing = wasEnded ? null : nextTimingChange(state.plan, currentPhase(state), visit.enteredAt, nowIso());
    const wakeAt = wasEnded ? undefined : [gateChangesAt, timing].filter((t): t is string => t !== null).sort()[0];
    if (wakeAt === undefined) {
      await wf.condition(changed);
    } else if (!(await wf.condition(changed, Math.max(1, Date.parse(wakeAt) - Date.now())))) {
      await judge('timer');
      await write([]);
    }
  }
  await writes;
  return toView(state, nowIso());
}

/** How a review starts: the review as the rollout opened it, and whom to tell when it is overdue or closed. */
export type ReviewStart = {
  rolloutId: string;
  rolloutWorkflowId: string;
  review: Review;
  escalationSeverity: string;
  escalationWorkflow: string;
};
export type CloseReviewRequest = { actor: Actor; findings: string; decision: ReviewDecision };
/** A review as its own workflow shows it. */
export type ReviewInfo = {
  id: string;
  rolloutId: string;
  phase: string;
  dueAt: string;
  status: 'open' | 'closed';
  overdue: boolean;
  escalationId: string | null;
  findings: string | null;
  decision: ReviewDecision | null;
  closedBy: string | null;
};

export const closeStewardshipReview = wf.defineUpdate<ReviewInfo, [CloseReviewRequest]>('close');
export const reviewInfo = wf.defineQuery<ReviewInfo>('review');

/**
 * A data-stewardship review owned by data stewards: closes with findings and a decision; when its deadline passes
 * unanswered it starts an escalation on the escalation ladder and keeps waiting for the steward. It tells its rollout
 * of both by signal to the rollout's workflow id, so the rollout's current run hears it whichever run opened it.
 */
export async function stewardshipReview(
  input: ReviewStart,
): Promise<{ actor: Actor; findings: string; decision: ReviewDecision }> {
  let outcome: CloseReviewRequest | null = null;
  let overdue = false;
  let escalationId: string | null = null;
  const info = (): ReviewInfo => ({
    id: input.review.id,
    rolloutId: input.rolloutId,
    phase: input.review.phase,
    dueAt: input.review.dueAt,
    status: outcome ? 'closed' : 'open',
    overdue,
    escalationId,
    findings: outcome?.findings ?? null,
    decision: outcome?.decision ?? null,
    closedBy: outcome?.actor.id ?? null,
  });
  wf.setHandler(reviewInfo, info);
  wf.setHandler(
    closeStewardshipReview,
    (req) => {
      outcome = req;
      return info();
    },
    {
      validator: (req) => {
        if (outcome) {
          throw ApplicationFailure.create({
            type: 'INVALID_STATE',
            message: `review ${input.review.id} is already closed`,
            nonRetryable: true,
            details: [{ status: 'closed' }],
          });
        }
        rejectUnless(canCloseReview(req));
      },
    },
  );

  const tellRollout = async <Args extends unknown[]>(signal: wf.SignalDefinition<Args>, ...args: Args) => {
    try {
      await wf.getExternalWorkflowHandle(input.rolloutWorkflowId).signal(signal, ...args);
    } catch (error) {
      // A rollout that was terminated no longer needs to know; the review's outcome stays in its own history.
      wf.log.warn('the rollout could not be told', { signal: signal.name, error: String(error) });
    }
  };

  const left = Math.max(0, Date.parse(input.review.dueAt) - Date.now());
  if (!(await wf.condition(() => outcome !== null, left))) {
    overdue = true;
    // The key is also the escalation's id (`esc-<key>`), so it keeps to the characters an escalation id allows.
    const key = `${input.review.id}-overdue`;
    try {
      const child = await wf.startChild(input.escalationWorkflow, {
        workflowId: `esc-${key}`,
        args: [
          {
            key,
            severity: input.escalationSeverity,
            title: `Data-stewardship review ${input.review.id} of phase ${input.review.phase} is overdue`,
            owner: { role: 'data-steward' },
            by: `workflow:${input.review.id}`,
            source: { kind: 'workflow', ref: input.review.id },
          },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
      escalationId = child.workflowId;
    } catch {
      // The escalation already runs (a retry) or cannot start; the breach is still recorded on the rollout.
      escalationId = null;
    }
    await tellRollout(reviewWentOverdue, { id: input.review.id, escalationId });
    await wf.condition(() => outcome !== null);
  }
  await wf.condition(wf.allHandlersFinished);
  const closed = outcome as CloseReviewRequest | null;
  if (!closed) throw ApplicationFailure.nonRetryable('review ended without a decision');
  await tellRollout(reviewClosed, { id: input.review.id, ...closed });
  return closed;
}
