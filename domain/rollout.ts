import type { Actor } from './actor';
import { blockingCriteria, timingBlock, type CriterionResult, type GateResult } from './gate';
import { refuse, type Refusal, type Transition } from './result';
import type { RolloutPlan, RollbackStep } from './rollout-plan';

export type RolloutStatus = 'active' | 'held' | 'completed' | 'rolled-back';
export type LeftBecause = 'advanced' | 'overridden' | 'rolled-back' | 'completed';

/** One stay in a phase; a phase re-entered after a rollback gets a new visit. */
export type PhaseVisit = {
  index: number;
  phase: string;
  enteredAt: string;
  leftAt: string | null;
  leftBecause: LeftBecause | null;
};

export type ReviewDecision = 'continue' | 'hold' | 'rollback';

/** A data-stewardship review of one phase, opened by an error-rate breach. */
export type Review = {
  id: string;
  phase: string;
  openedAt: string;
  dueAt: string;
  trigger: { value: number; sampleSize: number; windowEnd: string };
  status: 'open' | 'closed';
  overdueAt: string | null;
  escalationId: string | null;
  findings: string | null;
  decision: ReviewDecision | null;
  closedBy: string | null;
  closedAt: string | null;
};

/** The whole rollout; plain data so it survives Temporal serialization and replay. */
export type RolloutState = {
  id: string;
  changeRequestId: string;
  plan: RolloutPlan;
  policyVersion: string;
  status: RolloutStatus;
  phaseIndex: number;
  startedAt: string;
  startedBy: string;
  visits: PhaseVisit[];
  reviews: Review[];
  holdReason: string | null;
  lastGate: GateResult | null;
  updatedAt: string;
};

export type RollbackTarget = 'previous' | 'start';

export type RolloutEvent =
  | { type: 'STARTED'; at: string; by: string; phase: string; changeRequestId: string; policyVersion: string }
  | { type: 'ADVANCED'; at: string; by: string; from: string; to: string; gate: CriterionResult[] }
  | {
      type: 'OVERRIDDEN';
      at: string;
      by: string;
      from: string;
      to: string | null;
      reason: string;
      overrode: ('GATE_NOT_MET' | 'SOAK_INCOMPLETE')[];
      gate: CriterionResult[];
    }
  | { type: 'COMPLETED'; at: string; by: string; phase: string }
  | { type: 'HELD'; at: string; by: string; reason: string }
  | { type: 'RESUMED'; at: string; by: string }
  | {
      type: 'ROLLED_BACK';
      at: string;
      by: string;
      from: string;
      to: string | null;
      reason: string;
      steps: (RollbackStep & { phase: string })[];
    }
  | { type: 'REVIEW_OPENED'; at: string; review: string; phase: string; value: number; dueAt: string }
  | { type: 'REVIEW_OVERDUE'; at: string; review: string; escalationId: string | null }
  | { type: 'REVIEW_CLOSED'; at: string; review: string; by: string; decision: ReviewDecision; findings: string };

export type RolloutRefusalCode =
  | 'VALIDATION_FAILED'
  | 'ROLE_REQUIRED'
  | 'ROLLOUT_NOT_ACTIVE'
  | 'REVIEW_OPEN'
  | 'BLACKOUT'
  | 'SOAK_INCOMPLETE'
  | 'GATE_NOT_MET'
  | 'CONFLICT'
  | 'NOT_FOUND';
export type RolloutRefusal = Refusal<RolloutRefusalCode>;
export type RolloutResult = Transition<RolloutState, RolloutEvent, RolloutRefusalCode>;

const blank = (text: string | undefined) => text === undefined || text.trim() === '';
const holds = (actor: Actor, role: Actor['roles'][number]) => actor.roles.includes(role);

/** The phase the rollout is in now. */
export function currentPhase(state: RolloutState) {
  return state.plan.phases[state.phaseIndex];
}

function currentVisit(state: RolloutState): PhaseVisit {
  return state.visits[state.visits.length - 1];
}

function leave(state: RolloutState, at: string, because: LeftBecause): PhaseVisit[] {
  return [...state.visits.slice(0, -1), { ...currentVisit(state), leftAt: at, leftBecause: because }];
}

function enter(visits: PhaseVisit[], phase: string, at: string): PhaseVisit[] {
  return [...visits, { index: visits.length, phase, enteredAt: at, leftAt: null, leftBecause: null }];
}

/** Opens a rollout at its first phase; the caller has checked that the change request is approved. */
export function startRollout(input: {
  id: string;
  changeRequestId: string;
  plan: RolloutPlan;
  policyVersion: string;
  by: string;
  at: string;
}): RolloutResult {
  const first = input.plan.phases[0];
  const state: RolloutState = {
    id: input.id,
    changeRequestId: input.changeRequestId,
    plan: input.plan,
    policyVersion: input.policyVersion,
    status: 'active',
    phaseIndex: 0,
    startedAt: input.at,
    startedBy: input.by,
    visits: enter([], first.name, input.at),
    reviews: [],
    holdReason: null,
    lastGate: null,
    updatedAt: input.at,
  };
  const event: RolloutEvent = {
    type: 'STARTED',
    at: input.at,
    by: input.by,
    phase: first.name,
    changeRequestId: input.changeRequestId,
    policyVersion: input.policyVersion,
  };
  return { ok: true, state, events: [event] };
}

export type AdvanceInput = { actor: Actor; at: string; override?: { reason: string }; from?: string };

function notActive(state: RolloutState, action: string): RolloutRefusal {
  return refuse('ROLLOUT_NOT_ACTIVE', `cannot ${action} rollout ${state.id} while it is ${state.status}`, {
    status: state.status,
  });
}

/**
 * Everything about an advance that does not need fresh measurements: who asks, the rollout's status, open
 * reviews, blackouts and soak time. Blackouts and open reviews cannot be overridden; soak time can, by the chair.
 */
export function canAdvance(state: RolloutState, input: AdvanceInput): RolloutRefusal | null {
  if (input.override) {
    if (!holds(input.actor, 'ccb-chair')) return refuse('ROLE_REQUIRED', 'an override needs the ccb-chair role');
    if (blank(input.override.reason)) return refuse('VALIDATION_FAILED', 'an override needs a reason');
  } else if (!holds(input.actor, 'rollout-lead')) {
    return refuse('ROLE_REQUIRED', 'advancing a phase needs the rollout-lead role');
  }
  if (state.status !== 'active') return notActive(state, 'advance');
  const phase = currentPhase(state);
  if (input.from !== undefined && input.from !== phase.name) {
    return refuse('CONFLICT', `the rollout is in phase ${phase.name}, not ${input.from}`, { phase: phase.name });
  }
  const open = state.reviews.filter((r) => r.status === 'open');
  if (open.length > 0) {
    return refuse('REVIEW_OPEN', `data-stewardship review ${open[0].id} is open; it must close first`, {
      reviews: open.map((r) => r.id),
    });
  }
  const block = timingBlock(state.plan, phase, currentVisit(state).enteredAt, input.at);
  if (block?.code === 'BLACKOUT') return refuse('BLACKOUT', block.message, { until: block.until });
  if (block?.code === 'SOAK_INCOMPLETE' && !input.override) {
    return refuse('SOAK_INCOMPLETE', block.message, { until: block.until });
  }
  return null;
}

/** Advances to the next phase (or completes after the last) when the fresh gate passes, or by the chair's override. */
export function advance(state: RolloutState, input: AdvanceInput, gate: GateResult): RolloutResult {
  const refused = canAdvance(state, input);
  if (refused) return refused;
  const phase = currentPhase(state);
  if (gate.phase !== phase.name) return refuse('CONFLICT', `the gate judged ${gate.phase}, not ${phase.name}`);
  const blocking = blockingCriteria(gate);
  if (blocking.length > 0 && !input.override) {
    return refuse(
      'GATE_NOT_MET',
      `phase ${phase.name} gate is ${gate.status}: ` +
        blocking.map((c) => `${c.metric} ${c.status} (${c.reason})`).join('; '),
      { failing: blocking },
    );
  }
  const at = input.at;
  const last = state.phaseIndex === state.plan.phases.length - 1;
  const next = last ? null : state.plan.phases[state.phaseIndex + 1];
  const because: LeftBecause = input.override ? 'overridden' : last ? 'completed' : 'advanced';
  const visits = leave(state, at, because);
  const events: RolloutEvent[] = [];
  if (input.override) {
    const overrode: ('GATE_NOT_MET' | 'SOAK_INCOMPLETE')[] = [];
    if (blocking.length > 0) overrode.push('GATE_NOT_MET');
    if (timingBlock(state.plan, phase, currentVisit(state).enteredAt, at)?.code === 'SOAK_INCOMPLETE') {
      overrode.push('SOAK_INCOMPLETE');
    }
    events.push({
      type: 'OVERRIDDEN',
      at,
      by: input.actor.id,
      from: phase.name,
      to: next?.name ?? null,
      reason: input.override.reason,
      overrode,
      gate: gate.criteria,
    });
  } else if (next) {
    events.push({ type: 'ADVANCED', at, by: input.actor.id, from: phase.name, to: next.name, gate: gate.criteria });
  }
  if (!next) {
    events.push({ type: 'COMPLETED', at, by: input.actor.id, phase: phase.name });
    return { ok: true, state: { ...state, status: 'completed', visits, lastGate: gate, updatedAt: at }, events };
  }
  return {
    ok: true,
    state: {
      ...state,
      phaseIndex: state.phaseIndex + 1,
      visits: enter(visits, next.name, at),
      lastGate: null,
      updatedAt: at,
    },
    events,
  };
}

const CAN_HOLD = ['rollout-lead', 'ccb-chair', 'data-steward'] as const;

/** Stops a running rollout where it is; rollout leads, the chair and data stewards may hold. */
export function hold(state: RolloutState, input: { actor: Actor; reason: string; at: string }): RolloutResult {
  if (!CAN_HOLD.some((r) => holds(input.actor, r))) {
    return refuse('ROLE_REQUIRED', `holding needs one of the roles: ${CAN_HOLD.join(', ')}`);
  }
  if (blank(input.reason)) return refuse('VALIDATION_FAILED', 'a hold needs a reason');
  if (state.status !== 'active') return notActive(state, 'hold');
  return {
    ok: true,
    state: { ...state, status: 'held', holdReason: input.reason, updatedAt: input.at },
    events: [{ type: 'HELD', at: input.at, by: input.actor.id, reason: input.reason }],
  };
}

/** Lets a held rollout run again; only a rollout lead or the chair may. */
export function resume(state: RolloutState, input: { actor: Actor; at: string }): RolloutResult {
  if (!holds(input.actor, 'rollout-lead') && !holds(input.actor, 'ccb-chair')) {
    return refuse('ROLE_REQUIRED', 'resuming needs the rollout-lead or ccb-chair role');
  }
  if (state.status !== 'held') return refuse('ROLLOUT_NOT_ACTIVE', `rollout ${state.id} is ${state.status}, not held`);
  return {
    ok: true,
    state: { ...state, status: 'active', holdReason: null, updatedAt: input.at },
    events: [{ type: 'RESUMED', at: input.at, by: input.actor.id }],
  };
}

export type RollbackInput = { actor: Actor; to: RollbackTarget; reason: string; at: string };

/**
 * Leaves the current phase for the previous one, or undoes the whole rollout (`start`, or `previous` from the
 * first phase). The rollback steps of every phase left run newest phase first, each phase's steps in plan order.
 */
export function rollback(state: RolloutState, input: RollbackInput, asReviewer = false): RolloutResult {
  if (!asReviewer && !holds(input.actor, 'rollout-lead') && !holds(input.actor, 'ccb-chair')) {
    return refuse('ROLE_REQUIRED', 'rolling back needs the rollout-lead or ccb-chair role');
  }
  if (blank(input.reason)) return refuse('VALIDATION_FAILED', 'a rollback needs a reason');
  if (state.status !== 'active' && state.status !== 'held') return notActive(state, 'roll back');
  const target = input.to === 'start' ? -1 : state.phaseIndex - 1;
  const left = state.plan.phases.slice(target + 1, state.phaseIndex + 1).reverse();
  const steps = left.flatMap((p) => p.rollback.map((s) => ({ ...s, phase: p.name })));
  const from = currentPhase(state).name;
  const visits = leave(state, input.at, 'rolled-back');
  const event: RolloutEvent = {
    type: 'ROLLED_BACK',
    at: input.at,
    by: input.actor.id,
    from,
    to: target < 0 ? null : state.plan.phases[target].name,
    reason: input.reason,
    steps,
  };
  if (target < 0) {
    return {
      ok: true,
      state: { ...state, status: 'rolled-back', visits, lastGate: null, updatedAt: input.at },
      events: [event],
    };
  }
  return {
    ok: true,
    state: {
      ...state,
      status: 'active',
      holdReason: null,
      phaseIndex: target,
      visits: enter(visits, state.plan.phases[target].name, input.at),
      lastGate: null,
      updatedAt: input.at,
    },
    events: [event],
  };
}

/** Opens a review of `phase` unless one is already open for it; returns no events when one is. */
export function openReview(
  state: RolloutState,
  input: { id: string; phase: string; trigger: Review['trigger']; at: string },
): RolloutResult {
  if (state.reviews.some((r) => r.phase === input.phase && r.status === 'open')) {
    return { ok: true, state, events: [] };
  }
  const dueAt = new Date(Date.parse(input.at) + state.plan.stewardship.reviewWithin).toISOString();
  const review: Review = {
    id: input.id,
    phase: input.phase,
    openedAt: input.at,
    dueAt,
    trigger: input.trigger,
    status: 'open',
    overdueAt: null,
    escalationId: null,
    findings: null,
    decision: null,
    closedBy: null,
    closedAt: null,
  };
  return {
    ok: true,
    state: { ...state, reviews: [...state.reviews, review], updatedAt: input.at },
    events: [
      { type: 'REVIEW_OPENED', at: input.at, review: input.id, phase: input.phase, value: input.trigger.value, dueAt },
    ],
  };
}

function withReview(state: RolloutState, id: string, change: Partial<Review>): Review[] {
  return state.reviews.map((r) => (r.id === id ? { ...r, ...change } : r));
}

/** Records that a review passed its deadline, and the escalation started for it. */
export function reviewOverdue(
  state: RolloutState,
  input: { id: string; escalationId: string | null; at: string },
): RolloutResult {
  const review = state.reviews.find((r) => r.id === input.id);
  if (!review) return refuse('NOT_FOUND', `no review ${input.id}`);
  if (review.status !== 'open' || review.overdueAt !== null) return { ok: true, state, events: [] };
  return {
    ok: true,
    state: {
      ...state,
      reviews: withReview(state, input.id, { overdueAt: input.at, escalationId: input.escalationId }),
      updatedAt: input.at,
    },
    events: [{ type: 'REVIEW_OVERDUE', at: input.at, review: input.id, escalationId: input.escalationId }],
  };
}

/** Checks a review closure: only a data steward closes, with findings. */
export function canCloseReview(input: { actor: Actor; findings: string }): RolloutRefusal | null {
  if (!holds(input.actor, 'data-steward'))
    return refuse('ROLE_REQUIRED', 'closing a review needs the data-steward role');
  if (blank(input.findings)) return refuse('VALIDATION_FAILED', 'a review closes with findings');
  return null;
}

/** Closes a review and applies its decision: continue as is, hold the rollout, or roll back to the previous phase. */
export function closeReview(
  state: RolloutState,
  input: { id: string; actor: Actor; findings: string; decision: ReviewDecision; at: string },
): RolloutResult {
  const refused = canCloseReview(input);
  if (refused) return refused;
  const review = state.reviews.find((r) => r.id === input.id);
  if (!review) return refuse('NOT_FOUND', `no review ${input.id}`);
  if (review.status !== 'open') return { ok: true, state, events: [] };
  const closed: RolloutState = {
    ...state,
    reviews: withReview(state, input.id, {
      status: 'closed',
      findings: input.findings,
      decision: input.decision,
      closedBy: input.actor.id,
      closedAt: input.at,
    }),
    updatedAt: input.at,
  };
  const event: RolloutEvent = {
    type: 'REVIEW_CLOSED',
    at: input.at,
    review: input.id,
    by: input.actor.id,
    decision: input.decision,
    findings: input.findings,
  };
  const reason = `data-stewardship review ${input.id}: ${input.findings}`;
  if (input.decision === 'hold' && closed.status === 'active') {
    const held = hold(closed, { actor: input.actor, reason, at: input.at });
    return held.ok ? { ...held, events: [event, ...held.events] } : held;
  }
  if (input.decision === 'rollback' && (closed.status === 'active' || closed.status === 'held')) {
    const rolled = rollback(closed, { actor: input.actor, to: 'previous', reason, at: input.at }, true);
    return rolled.ok ? { ...rolled, events: [event, ...rolled.events] } : rolled;
  }
  return { ok: true, state: closed, events: [event] };
}

export type ReadinessBlocker = {
  code: 'ROLLOUT_NOT_ACTIVE' | 'REVIEW_OPEN' | 'BLACKOUT' | 'SOAK_INCOMPLETE' | 'GATE_NOT_MET';
  message: string;
  /** When a blackout or the soak ends. */
  until?: string;
};

/** Whether a rollout lead could advance at `at` without an override, judged on the last gate evaluation. */
export type Readiness = { ready: boolean; blockers: ReadinessBlocker[] };

/**
 * What stands between the rollout and its next phase at `at`: its status, open reviews, a blackout, the soak and
 * the last gate of the current phase (not judged yet, failing or inconclusive). An advance judges the gate afresh.
 */
export function readiness(state: RolloutState, at: string): Readiness {
  if (state.status !== 'active') {
    return { ready: false, blockers: [{ code: 'ROLLOUT_NOT_ACTIVE', message: `the rollout is ${state.status}` }] };
  }
  const blockers: ReadinessBlocker[] = [];
  const open = state.reviews.filter((r) => r.status === 'open');
  if (open.length > 0) {
    blockers.push({
      code: 'REVIEW_OPEN',
      message: `data-stewardship review ${open.map((r) => r.id).join(', ')} is open`,
    });
  }
  const phase = currentPhase(state);
  const block = timingBlock(state.plan, phase, currentVisit(state).enteredAt, at);
  if (block) blockers.push({ code: block.code, message: block.message, until: block.until });
  const gate = state.lastGate;
  if (gate === null || gate.phase !== phase.name) {
    blockers.push({ code: 'GATE_NOT_MET', message: `the gate of phase ${phase.name} has not been judged yet` });
  } else if (gate.status !== 'pass') {
    const failing = blockingCriteria(gate).map((c) => `${c.metric} ${c.status}`);
    blockers.push({
      code: 'GATE_NOT_MET',
      message: `phase ${phase.name} gate is ${gate.status}: ${failing.join('; ')}`,
    });
  }
  return { ready: blockers.length === 0, blockers };
}

/** What queries and the API show of a rollout. */
export type RolloutView = {
  id: string;
  changeRequestId: string;
  status: RolloutStatus;
  phase: string;
  phaseIndex: number;
  phases: string[];
  phaseEnteredAt: string;
  timeInPhaseMs: number;
  holdReason: string | null;
  gate: GateResult | null;
  /** Whether the lead could advance now, and if not, why not. */
  readiness: Readiness;
  openReviews: Review[];
  reviews: Review[];
  visits: PhaseVisit[];
  policyVersion: string;
  startedAt: string;
  startedBy: string;
  updatedAt: string;
};

/** The view of `state` at `now`. */
export function toView(state: RolloutState, now: string): RolloutView {
  const visit = currentVisit(state);
  const end = visit.leftAt ?? now;
  return {
    id: state.id,
    changeRequestId: state.changeRequestId,
    status: state.status,
    phase: currentPhase(state).name,
    phaseIndex: state.phaseIndex,
    phases: state.plan.phases.map((p) => p.name),
    phaseEnteredAt: visit.enteredAt,
    timeInPhaseMs: Math.max(0, Date.parse(end) - Date.parse(visit.enteredAt)),
    holdReason: state.holdReason,
    gate: state.lastGate,
    readiness: readiness(state, now),
    openReviews: state.reviews.filter((r) => r.status === 'open'),
    reviews: state.reviews,
    visits: state.visits,
    policyVersion: state.policyVersion,
    startedAt: state.startedAt,
    startedBy: state.startedBy,
    updatedAt: state.updatedAt,
  };
}
