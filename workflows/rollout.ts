import * as wf from '@temporalio/workflow';
import { ApplicationFailure, ParentClosePolicy } from '@temporalio/workflow';
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
  type RollbackTarget,
  type RolloutRefusal,
  type RolloutResult,
  type RolloutState,
  type RolloutView,
} from '../domain/rollout';
import { refuse } from '../domain/result';
import type { RolloutPlan } from '../domain/rollout-plan';

/** How a rollout starts: from an approved change request, under a validated plan and its version. */
export type RolloutStart = {
  id: string;
  changeRequestId: string;
  plan: RolloutPlan;
  policyVersion: string;
  by: string;
  /** Workflow type started when a review is overdue; the escalation ladder's workflow unless given. */
  escalationWorkflow?: string;
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
 */
export async function rollout(input: RolloutStart): Promise<RolloutView> {
  const started = startRollout({ ...input, at: nowIso() });
  if (!started.ok) throw failure(started);
  let state: RolloutState = started.state;
  let revision = 0;
  let writes: Promise<unknown> = Promise.resolve();
  let signalBatches = 0;
  let evaluations = 0;
  let approved = false;
  // Measurement batches being stored or judged: a gate judged on request waits for them.
  let batchesInFlight = 0;
  // Reviews whose outcome is not applied yet: the workflow does not end before they are.
  let reviewsRunning = 0;
  // Gate judgements finished so far, and when the last one shown would change by itself.
  let judged = 0;
  let gateChangesAt: string | null = null;
  const ready = () => wf.condition(() => approved);
  const ended = () => state.status === 'completed' || state.status === 'rolled-back';

  const write = (events: RolloutRecordEvent[]): Promise<unknown> => {
    revision += 1;
    const snapshot = { revision, view: toView(state, nowIso()), plan: state.plan, events };
    writes = writes.then(() => acts.projectRollout(snapshot));
    return writes;
  };
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
  const judge = async (trigger: string): Promise<GateResult> => {
    // Measurements already handed to the workflow count: a gate judged on request must see them.
    if (trigger === 'request' || trigger === 'advance') await wf.condition(() => batchesInFlight === 0);
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

  const startReview = (review: Review) => {
    reviewsRunning += 1;
    void wf
      .executeChild(stewardshipReview, {
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
      })
      .then((outcome) =>
        apply(closeReview(state, { id: review.id, ...outcome, at: nowIso() })).then(
          () => undefined,
          () => undefined,
        ),
      )
      .finally(() => {
        reviewsRunning -= 1;
      });
  };

  const onBatch = async (batch: MeasurementBatch) => {
    batchesInFlight += 1;
    try {
      await handleBatch(batch);
    } finally {
      batchesInFlight -= 1;
    }
  };
  const handleBatch = async (batch: MeasurementBatch) => {
    await ready();
    for (const breach of batch.breaches) {
      if (state.status === 'completed' || state.status === 'rolled-back') break;
      const id = `${wf.workflowInfo().workflowId}-review-${state.reviews.length + 1}`;
      const opened = openReview(state, {
        id,
        phase: breach.phase,
        trigger: { value: breach.value, sampleSize: breach.sampleSize, windowEnd: breach.windowEnd },
        at: nowIso(),
      });
      if (opened.ok && opened.events.length > 0) {
        await apply(opened);
        startReview(state.reviews[state.reviews.length - 1]);
      }
    }
    if (state.status === 'active' || state.status === 'held') {
      await judge(`measurements:${batch.batchId}`);
      await write([]);
    }
  };

  wf.setHandler(rolloutView, () => toView(state, nowIso()));
  wf.setHandler(measurementsRecorded, (batch) => onBatch(batch));
  wf.setHandler(measure, async (signalled) => {
    batchesInFlight += 1;
    try {
      await ready();
      // A signal cannot be refused like a request: a bad batch is recorded as rejected, with its bad rows by index.
      const by = typeof signalled?.by === 'string' && signalled.by.trim() !== '' ? signalled.by : 'signal:unnamed';
      const batchId = `${wf.workflowInfo().workflowId}/signal-${++signalBatches}`;
      const rows: unknown = signalled?.rows;
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
      await onBatch(batch);
    } finally {
      batchesInFlight -= 1;
    }
  });
  wf.setHandler(reviewWentOverdue, async ({ id, escalationId }) => {
    await ready();
    await apply(reviewOverdue(state, { id, escalationId, at: nowIso() })).catch(() => undefined);
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
  const status = await acts.changeRequestStatus(input.changeRequestId);
  if (status !== 'approved') {
    throw ApplicationFailure.nonRetryable(
      `change request ${input.changeRequestId} is ${status ?? 'unknown'}, not approved`,
      'CHANGE_NOT_APPROVED',
    );
  }
  approved = true;
  await write(started.events);

  // The gate is judged continuously: on entering a phase, when measurements arrive, on request, and by timer at the
  // next moment its judgement or the rollout's readiness can change with time alone (a measurement ageing out of
  // its window or one ending later coming in, the first month ending, the soak served, a blackout starting or
  // ending). Every judgement is recorded as a GateEvaluation, and the projection follows it.
  let judgedVisit = 0;
  while (!ended()) {
    if (state.visits.length !== judgedVisit) {
      judgedVisit = state.visits.length;
      await judge(judgedVisit === 1 ? 'start' : 'phase-entered');
      await write([]);
      continue;
    }
    const seen = judged;
    const visit = state.visits[state.visits.length - 1];
    const timing = nextTimingChange(state.plan, currentPhase(state), visit.enteredAt, nowIso());
    const wakeAt = [gateChangesAt, timing].filter((t): t is string => t !== null).sort()[0];
    const changed = () => ended() || judged !== seen || state.visits.length !== judgedVisit;
    if (wakeAt === undefined) {
      await wf.condition(changed);
    } else if (!(await wf.condition(changed, Math.max(1, Date.parse(wakeAt) - Date.now())))) {
      await judge('timer');
      await write([]);
    }
  }

  await wf.condition(
    () =>
      (state.status === 'completed' || state.status === 'rolled-back') &&
      state.reviews.every((r) => r.status === 'closed') &&
      batchesInFlight === 0 &&
      reviewsRunning === 0 &&
      wf.allHandlersFinished(),
  );
  await writes;
  return toView(state, nowIso());
}

/** How a review starts: the review as the rollout opened it, and whom to tell when it is overdue. */
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
 * unanswered it starts an escalation on the escalation ladder and keeps waiting for the steward.
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
    await wf
      .getExternalWorkflowHandle(input.rolloutWorkflowId)
      .signal(reviewWentOverdue, { id: input.review.id, escalationId });
    await wf.condition(() => outcome !== null);
  }
  await wf.condition(wf.allHandlersFinished);
  const closed = outcome as CloseReviewRequest | null;
  if (!closed) throw ApplicationFailure.nonRetryable('review ended without a decision');
  return closed;
}
