import type { Actor } from './actor';
import type { CutoverPlan } from './cutover-plan';
import type { WindowCounts } from './reconcile';
import { refuse, type Refusal, type Transition } from './result';
import type { Role } from './roles';

export const CUTOVER_STATUSES = [
  'parallel_run',
  'ready',
  'frozen',
  'switched',
  'decommissioned',
  'aborted',
  'rolled_back',
] as const;
export type CutoverStatus = (typeof CUTOVER_STATUSES)[number];

/** Statuses in which nothing more happens. */
export const FINAL: readonly CutoverStatus[] = ['decommissioned', 'aborted', 'rolled_back'];

/** Codes a cutover refusal carries; each is a row of errors.ts. */
export type CutoverRefusalCode =
  | 'ROLE_REQUIRED'
  | 'INVALID_STATE'
  | 'CUTOVER_NOT_READY'
  | 'FALLBACK_NOT_REHEARSED'
  | 'WINDOW_ALREADY_RECONCILED'
  | 'WATCH_INCOMPLETE'
  | 'SELF_APPROVAL_FORBIDDEN'
  | 'WINDOW_NOT_UPLOADED'
  | 'VALIDATION_FAILED';
export type CutoverRefusal = Refusal<CutoverRefusalCode>;

/** A reconciled window as the cutover counts it. */
export type WindowOutcome = {
  window: string;
  runId: string;
  /** `parallel` before the switch, `watch` against the legacy shadow output after it. */
  phase: 'parallel' | 'watch';
  rate: number;
  clean: boolean;
  reasons: string[];
  counts: WindowCounts;
  at: string;
};

/** One fallback step as rehearsed. */
export type RehearsedStep = { step: string; passed: boolean; note?: string };
export type Rehearsal = { at: string; by: string; passed: boolean; steps: RehearsedStep[] };

export type Stamp = { by: string; at: string };

/** Everything the cutover workflow decides from; the plan's rules travel with it so no decision re-reads policy. */
export type CutoverState = {
  id: string;
  changeRequestId: string;
  planVersion: string;
  rules: Pick<CutoverPlan, 'cleanWindowsRequired' | 'watchWindows' | 'thresholds'> & { fallbackSteps: string[] };
  status: CutoverStatus;
  cleanStreak: number;
  watchClean: number;
  windows: WindowOutcome[];
  rehearsal: Rehearsal | null;
  switchRequest: { lead?: Stamp; chair?: Stamp };
  openedBy: string;
  openedAt: string;
  updatedAt: string;
  closedAt: string | null;
  reason: string | null;
};

export type CutoverEvent =
  | { type: 'OPENED'; at: string; by: string; planVersion: string; changeRequestId: string }
  | { type: 'WINDOW_RECONCILED'; at: string; outcome: WindowOutcome; cleanStreak: number }
  | { type: 'READY'; at: string; cleanStreak: number }
  | { type: 'SPIKE'; at: string; window: string; rate: number; reasons: string[]; phase: 'parallel' | 'watch' }
  | { type: 'STREAK_RESET'; at: string; window: string; was: number }
  | { type: 'FALLBACK_REHEARSED'; at: string; by: string; passed: boolean; steps: RehearsedStep[] }
  | { type: 'FROZEN'; at: string; by: string }
  | { type: 'UNFROZEN'; at: string; window: string }
  | { type: 'SWITCH_REQUESTED'; at: string; by: string }
  | { type: 'SWITCH_APPROVED'; at: string; by: string }
  | { type: 'SWITCHED'; at: string; lead: string; chair: string }
  | { type: 'ROLLED_BACK'; at: string; by: string; reason: string }
  | { type: 'ABORTED'; at: string; by: string; reason: string }
  | { type: 'DECOMMISSIONED'; at: string; by: string };

export type CutoverTransition = Transition<CutoverState, CutoverEvent, CutoverRefusalCode>;

/** Roles that run a cutover day to day; the CCB chair approves the switch and may stop it. */
export const OPERATING_ROLES: readonly Role[] = ['rollout-lead'];
export const STOPPING_ROLES: readonly Role[] = ['rollout-lead', 'ccb-chair'];
export const REHEARSING_ROLES: readonly Role[] = ['rollout-lead', 'integration-specialist', 'operations'];

function requireRole(actor: Actor, roles: readonly Role[], what: string): CutoverRefusal | null {
  if (actor.roles.some((r) => roles.includes(r))) return null;
  return refuse('ROLE_REQUIRED', `${what} needs one of the roles ${roles.join(', ')}`, { requiredAnyOf: [...roles] });
}

function requireStatus(state: CutoverState, allowed: readonly CutoverStatus[], what: string): CutoverRefusal | null {
  if (allowed.includes(state.status)) return null;
  return refuse('INVALID_STATE', `cannot ${what} a cutover in ${state.status}`, {
    status: state.status,
    allowed: [...allowed],
  });
}

/** A new cutover in its parallel run. */
export function openCutover(input: {
  id: string;
  changeRequestId: string;
  plan: CutoverPlan;
  planVersion: string;
  by: string;
  at: string;
}): { state: CutoverState; events: CutoverEvent[] } {
  const { plan } = input;
  const state: CutoverState = {
    id: input.id,
    changeRequestId: input.changeRequestId,
    planVersion: input.planVersion,
    rules: {
      cleanWindowsRequired: plan.cleanWindowsRequired,
      watchWindows: plan.watchWindows,
      thresholds: plan.thresholds,
      fallbackSteps: plan.fallback.steps.map((s) => s.name),
    },
    status: 'parallel_run',
    cleanStreak: 0,
    watchClean: 0,
    windows: [],
    rehearsal: null,
    switchRequest: {},
    openedBy: input.by,
    openedAt: input.at,
    updatedAt: input.at,
    closedAt: null,
    reason: null,
  };
  const events: CutoverEvent[] = [
    {
      type: 'OPENED',
      at: input.at,
      by: input.by,
      planVersion: input.planVersion,
      changeRequestId: input.changeRequestId,
    },
  ];
  return { state, events };
}

/** Whether a window may be reconciled now, and in which phase it would count. */
export function canReconcile(state: CutoverState, window: string, actor?: Actor): CutoverRefusal | null {
  if (actor) {
    const role = requireRole(actor, [...OPERATING_ROLES, 'integration-specialist', 'data-steward'], 'reconciling');
    if (role) return role;
  }
  const status = requireStatus(state, ['parallel_run', 'ready', 'frozen', 'switched'], 'reconcile');
  if (status) return status;
  const phase = state.status === 'switched' ? 'watch' : 'parallel';
  if (state.windows.some((w) => w.window === window && w.phase === phase)) {
    return refuse('WINDOW_ALREADY_RECONCILED', `window ${window} already counted in the ${phase} phase`, { window });
  }
  return null;
}

/**
 * Counts a reconciled window. Clean windows extend the streak (enough of them make the cutover ready); a spike
 * resets it, lifts a freeze, and after the switch rolls back to the legacy system.
 */
export function recordWindow(state: CutoverState, result: Omit<WindowOutcome, 'phase'>, at: string): CutoverTransition {
  const refused = canReconcile(state, result.window);
  if (refused) return refused;
  const phase = state.status === 'switched' ? 'watch' : 'parallel';
  const outcome: WindowOutcome = { ...result, phase };
  const base = { ...state, windows: [...state.windows, outcome], updatedAt: at };
  if (phase === 'watch') {
    if (outcome.clean) {
      const next = { ...base, watchClean: state.watchClean + 1 };
      return {
        ok: true,
        state: next,
        events: [{ type: 'WINDOW_RECONCILED', at, outcome, cleanStreak: next.cleanStreak }],
      };
    }
    const reason = `discrepancy spike in watch window ${outcome.window}: ${outcome.reasons.join('; ')}`;
    return {
      ok: true,
      state: { ...base, status: 'rolled_back', closedAt: at, reason },
      events: [
        { type: 'WINDOW_RECONCILED', at, outcome, cleanStreak: state.cleanStreak },
        { type: 'SPIKE', at, window: outcome.window, rate: outcome.rate, reasons: outcome.reasons, phase },
        { type: 'ROLLED_BACK', at, by: 'system', reason },
      ],
    };
  }
  if (outcome.clean) {
    const cleanStreak = state.cleanStreak + 1;
    const next = { ...base, cleanStreak };
    const events: CutoverEvent[] = [{ type: 'WINDOW_RECONCILED', at, outcome, cleanStreak }];
    if (state.status === 'parallel_run' && cleanStreak >= state.rules.cleanWindowsRequired) {
      events.push({ type: 'READY', at, cleanStreak });
      return { ok: true, state: { ...next, status: 'ready' }, events };
    }
    return { ok: true, state: next, events };
  }
  const events: CutoverEvent[] = [
    { type: 'WINDOW_RECONCILED', at, outcome, cleanStreak: 0 },
    { type: 'SPIKE', at, window: outcome.window, rate: outcome.rate, reasons: outcome.reasons, phase },
    { type: 'STREAK_RESET', at, window: outcome.window, was: state.cleanStreak },
  ];
  if (state.status === 'frozen') events.push({ type: 'UNFROZEN', at, window: outcome.window });
  // A spike also withdraws any switch approval: the evidence it rested on no longer holds.
  return { ok: true, state: { ...base, cleanStreak: 0, status: 'parallel_run', switchRequest: {} }, events };
}

/** Records a rehearsal of the plan's fallback; it passes only when every step was run and passed. */
export function rehearseFallback(
  state: CutoverState,
  input: { actor: Actor; steps: RehearsedStep[] },
  at: string,
): CutoverTransition {
  const refused =
    requireRole(input.actor, REHEARSING_ROLES, 'rehearsing the fallback') ??
    requireStatus(state, ['parallel_run', 'ready', 'frozen'], 'rehearse the fallback of');
  if (refused) return refused;
  const named = new Set(input.steps.map((s) => s.step));
  const unknown = input.steps.filter((s) => !state.rules.fallbackSteps.includes(s.step)).map((s) => s.step);
  if (unknown.length > 0) {
    return refuse('VALIDATION_FAILED', `not fallback steps of the plan: ${unknown.join(', ')}`, { unknown });
  }
  const missing = state.rules.fallbackSteps.filter((s) => !named.has(s));
  const passed = missing.length === 0 && input.steps.every((s) => s.passed);
  const rehearsal: Rehearsal = { at, by: input.actor.id, passed, steps: input.steps };
  return {
    ok: true,
    state: { ...state, rehearsal, updatedAt: at },
    events: [{ type: 'FALLBACK_REHEARSED', at, by: input.actor.id, passed, steps: input.steps }],
  };
}

/** Freezes both systems once the cutover is ready. */
export function freeze(state: CutoverState, actor: Actor, at: string): CutoverTransition {
  const refused = requireRole(actor, OPERATING_ROLES, 'freezing') ?? notReady(state, 'freeze');
  if (refused) return refused;
  if (state.status !== 'ready') return requireStatus(state, ['ready'], 'freeze') as CutoverRefusal;
  return {
    ok: true,
    state: { ...state, status: 'frozen', updatedAt: at },
    events: [{ type: 'FROZEN', at, by: actor.id }],
  };
}

function notReady(state: CutoverState, what: string): CutoverRefusal | null {
  if (state.status !== 'parallel_run') return null;
  return refuse(
    'CUTOVER_NOT_READY',
    `cannot ${what}: ${state.cleanStreak} of ${state.rules.cleanWindowsRequired} consecutive clean windows`,
    { cleanStreak: state.cleanStreak, required: state.rules.cleanWindowsRequired },
  );
}

/**
 * The switch needs two people: the rollout lead asks for it and the CCB chair approves it, in either order. It is
 * refused unless the cutover is frozen after enough clean windows and the fallback was rehearsed and passed.
 */
export function canSwitch(state: CutoverState, actor: Actor): CutoverRefusal | null {
  const role = requireRole(actor, ['rollout-lead', 'ccb-chair'], 'switching');
  if (role) return role;
  const ready = notReady(state, 'switch');
  if (ready) return ready;
  if (state.status !== 'frozen') {
    return refuse('INVALID_STATE', `cannot switch a cutover in ${state.status}; it must be frozen first`, {
      status: state.status,
      allowed: ['frozen'],
    });
  }
  if (!state.rehearsal?.passed) {
    return refuse(
      'FALLBACK_NOT_REHEARSED',
      state.rehearsal ? 'the last fallback rehearsal failed' : 'the fallback has not been rehearsed',
      { rehearsal: state.rehearsal },
    );
  }
  const { lead, chair } = state.switchRequest;
  const asLead = actor.roles.includes('rollout-lead') && !lead;
  const asChair = actor.roles.includes('ccb-chair') && !chair;
  if (!asLead && !asChair) {
    return refuse('INVALID_STATE', 'this switch already has your role on it; it awaits the other role', {
      switchRequest: state.switchRequest,
    });
  }
  const other = asLead ? chair : lead;
  if (other?.by === actor.id) {
    return refuse('SELF_APPROVAL_FORBIDDEN', 'the rollout lead and the approving CCB chair must be different people');
  }
  return null;
}

/** Adds the actor's part of the switch; the cutover switches when both the lead and the chair are on it. */
export function requestSwitch(state: CutoverState, actor: Actor, at: string): CutoverTransition {
  const refused = canSwitch(state, actor);
  if (refused) return refused;
  const stamp = { by: actor.id, at };
  const asLead = actor.roles.includes('rollout-lead') && !state.switchRequest.lead;
  const switchRequest = asLead ? { ...state.switchRequest, lead: stamp } : { ...state.switchRequest, chair: stamp };
  const events: CutoverEvent[] = [
    asLead ? { type: 'SWITCH_REQUESTED', at, by: actor.id } : { type: 'SWITCH_APPROVED', at, by: actor.id },
  ];
  const next = { ...state, switchRequest, updatedAt: at };
  if (switchRequest.lead && switchRequest.chair) {
    events.push({ type: 'SWITCHED', at, lead: switchRequest.lead.by, chair: switchRequest.chair.by });
    return { ok: true, state: { ...next, status: 'switched', watchClean: 0 }, events };
  }
  return { ok: true, state: next, events };
}

/** Returns to the legacy system after the switch. */
export function rollback(state: CutoverState, actor: Actor, reason: string, at: string): CutoverTransition {
  const refused = requireRole(actor, STOPPING_ROLES, 'rolling back') ?? requireStatus(state, ['switched'], 'roll back');
  if (refused) return refused;
  return {
    ok: true,
    state: { ...state, status: 'rolled_back', closedAt: at, reason, updatedAt: at },
    events: [{ type: 'ROLLED_BACK', at, by: actor.id, reason }],
  };
}

/** Stops a cutover that has not switched; the legacy system simply stays. */
export function abort(state: CutoverState, actor: Actor, reason: string, at: string): CutoverTransition {
  const refused =
    requireRole(actor, STOPPING_ROLES, 'aborting') ??
    requireStatus(state, ['parallel_run', 'ready', 'frozen'], 'abort');
  if (refused) return refused;
  return {
    ok: true,
    state: { ...state, status: 'aborted', closedAt: at, reason, updatedAt: at },
    events: [{ type: 'ABORTED', at, by: actor.id, reason }],
  };
}

/** Retires the legacy system once the watch period passed clean. */
export function decommission(state: CutoverState, actor: Actor, at: string): CutoverTransition {
  const refused =
    requireRole(actor, OPERATING_ROLES, 'decommissioning') ?? requireStatus(state, ['switched'], 'decommission');
  if (refused) return refused;
  if (state.watchClean < state.rules.watchWindows) {
    return refuse(
      'WATCH_INCOMPLETE',
      `${state.watchClean} of ${state.rules.watchWindows} clean watch windows since the switch`,
      { watchClean: state.watchClean, required: state.rules.watchWindows },
    );
  }
  return {
    ok: true,
    state: { ...state, status: 'decommissioned', closedAt: at, updatedAt: at },
    events: [{ type: 'DECOMMISSIONED', at, by: actor.id }],
  };
}

/** What the API and queries show: the state without the plan's internals. */
export type CutoverView = CutoverState & { final: boolean };

/** The view of a state. */
export function toView(state: CutoverState): CutoverView {
  return { ...state, final: FINAL.includes(state.status) };
}
