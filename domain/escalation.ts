import type { Actor } from './actor';
import { costRoute, cycleOf, routeCycle, toCents, type CostRouting } from './cost-routing';
import { addMs, toMs } from './duration';
import type { EscalationPolicy, Ladder, Level } from './escalation-policy';
import { outsideQuietHours } from './quiet-hours';
import { refuse, type Refusal, type Transition } from './result';
import type { Role } from './roles';

/** A concrete responsible party: a role any holder of which may answer, or one user. */
export type Party = { role: Role } | { user: string };

export type EscalationStatus = 'open' | 'acknowledged' | 'resolved';
export type Window = 'acknowledge' | 'resolve';

/** One stay at a level; a level reached again (after reopening) gets a new step. Levels count from 1. */
export type Step = {
  level: number;
  who: Party;
  /** A user the level handed the issue to; they answer in place of `who`. */
  assignee: string | null;
  enteredAt: string;
  /** Start of the current windows; moves forward when the level is notified again. */
  windowStartedAt: string;
  repeats: number;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  leftAt: string | null;
  leftBecause: 'climbed' | 'escalated' | 'resolved' | null;
};

export type Breach = {
  level: number;
  window: Window;
  dueAt: string;
  failedToRespond: Party;
  outcome: 'repeated' | 'climbed' | 'top-level';
};

export type CostEntry = { amountCents: number; currency: string; note: string; by: string; at: string; cycle: string };

export type EscalationSource = { kind: 'api' | 'workflow' | 'webhook'; ref?: string };

/** What the escalation is about, when it is about a record of another process (e.g. a change request). */
export type EscalationSubject = { type: string; id: string };

/** The whole escalation; plain data so it survives Temporal serialization and replay. */
export type EscalationState = {
  id: string;
  /** Caller-given deduplication key: a second report with it counts as an occurrence of this escalation. */
  key: string;
  severity: string;
  title: string;
  source: EscalationSource;
  /** The record the issue is about; null for a free-standing issue. */
  subject: EscalationSubject | null;
  owner: Party;
  status: EscalationStatus;
  level: number;
  steps: Step[];
  occurrences: number;
  breaches: Breach[];
  slaBreachedAt: string | null;
  costs: CostEntry[];
  costRoute: Role | null;
  resolution: { note: string; by: string; at: string } | null;
  reopenCount: number;
  openedAt: string;
  updatedAt: string;
  ladder: Ladder;
  costRouting: CostRouting;
  policyVersion: string;
};

export type EscalationEvent =
  | { type: 'OPENED'; at: string; by: string; severity: string; level: number; notify: Party }
  | { type: 'OCCURRED'; at: string; occurrences: number }
  | { type: 'ACKNOWLEDGED'; at: string; by: string; level: number; timeToAcknowledgeMs: number }
  | { type: 'RESOLVED'; at: string; by: string; level: number; note: string; timeToResolveMs: number }
  | { type: 'REASSIGNED'; at: string; by: string; level: number; from: string | null; to: string; reason?: string }
  | { type: 'ESCALATED'; at: string; by: string; from: number; to: number; reason: string; notify: Party }
  | { type: 'LEVEL_REPEATED'; at: string; level: number; window: Window; failedToRespond: Party; repeat: number }
  | { type: 'CLIMBED'; at: string; from: number; to: number; window: Window; failedToRespond: Party; notify: Party }
  | { type: 'SLA_BREACHED'; at: string; level: number; window: Window; failedToRespond: Party; count: number }
  | { type: 'COST_ADDED'; at: string; by: string; entry: CostEntry; cycleTotalCents: number; route: Role }
  | { type: 'COST_ROUTED'; at: string; from: Role | null; to: Role; cycle: string; cycleTotalCents: number }
  | { type: 'REOPENED'; at: string; by: string; level: number; reason: string; notify: Party };

export type EscalationRefusalCode = 'VALIDATION_FAILED' | 'INVALID_STATE' | 'ROLE_REQUIRED';
export type EscalationRefusal = Refusal<EscalationRefusalCode>;
export type EscalationResult = Transition<EscalationState, EscalationEvent, EscalationRefusalCode>;

export type OpenEscalationInput = {
  id: string;
  key: string;
  severity: string;
  title: string;
  owner: Party;
  source: EscalationSource;
  subject?: EscalationSubject | null;
  by: string;
  at: string;
  policy: EscalationPolicy;
  policyVersion: string;
};

function badTime(at: string): EscalationRefusal | null {
  return toMs(at) === null ? refuse('VALIDATION_FAILED', `at: "${at}" is not an ISO-8601 timestamp`) : null;
}

function blank(text: string | undefined): boolean {
  return text === undefined || text.trim() === '';
}

function describe(party: Party): string {
  return 'role' in party ? `role ${party.role}` : `user ${party.user}`;
}

function levelRule(state: EscalationState, level = state.level): Level {
  return state.ladder.levels[level - 1];
}

function partyFor(level: Level, owner: Party): Party {
  return level.who === 'owner' ? owner : level.who;
}

function newStep(level: number, who: Party, at: string): Step {
  return {
    level,
    who,
    assignee: null,
    enteredAt: at,
    windowStartedAt: at,
    repeats: 0,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    leftAt: null,
    leftBecause: null,
  };
}

/** The step the issue is at now. */
export function currentStep(state: EscalationState): Step {
  return state.steps[state.steps.length - 1];
}

function withCurrentStep(state: EscalationState, change: Partial<Step>): Step[] {
  return [...state.steps.slice(0, -1), { ...currentStep(state), ...change }];
}

/** Who must answer now: the assignee if the level handed it over, otherwise the level's party. */
export function responsibleParty(state: EscalationState): Party {
  const step = currentStep(state);
  return step.assignee !== null ? { user: step.assignee } : step.who;
}

function answersFor(step: Step, actor: Actor): boolean {
  if (step.assignee === actor.id) return true;
  return 'role' in step.who ? actor.roles.includes(step.who.role) : step.who.user === actor.id;
}

/** True when the actor answers for the current level. */
export function isResponder(state: EscalationState, actor: Actor): boolean {
  return answersFor(currentStep(state), actor);
}

// Lower levels keep the right to act after a climb: the owner who finally fixes it should be able to say so.
function answersAtOrBelow(state: EscalationState, actor: Actor): boolean {
  return state.steps.some((step) => step.level <= state.level && answersFor(step, actor));
}

function notResponder(state: EscalationState, actor: Actor, action: string): EscalationRefusal {
  const party = responsibleParty(state);
  return refuse('ROLE_REQUIRED', `${actor.id} cannot ${action} escalation ${state.id}: it is with ${describe(party)}`, {
    required: party,
  });
}

function closed(state: EscalationState, action: string): EscalationRefusal {
  return refuse('INVALID_STATE', `cannot ${action} escalation ${state.id} while it is ${state.status}`, {
    status: state.status,
  });
}

/** Opens an escalation at level 1 of the ladder for its severity. */
export function openEscalation(input: OpenEscalationInput): EscalationResult {
  const problem = badTime(input.at);
  if (problem) return problem;
  if (blank(input.id) || blank(input.key)) return refuse('VALIDATION_FAILED', 'id and key are required');
  if (blank(input.title)) return refuse('VALIDATION_FAILED', 'title: a title is required');
  const subject = input.subject ?? null;
  if (subject !== null && (blank(subject.type) || blank(subject.id))) {
    return refuse('VALIDATION_FAILED', 'subject: a type and an id are required');
  }
  const ladder = Object.hasOwn(input.policy.ladders, input.severity) ? input.policy.ladders[input.severity] : undefined;
  if (!ladder) {
    return refuse('VALIDATION_FAILED', `severity: no ladder "${input.severity}" in the escalation policy`, {
      severities: Object.keys(input.policy.ladders),
    });
  }
  const who = partyFor(ladder.levels[0], input.owner);
  const state: EscalationState = {
    id: input.id,
    key: input.key,
    severity: input.severity,
    title: input.title.trim(),
    source: input.source,
    subject,
    owner: input.owner,
    status: 'open',
    level: 1,
    steps: [newStep(1, who, input.at)],
    occurrences: 1,
    breaches: [],
    slaBreachedAt: null,
    costs: [],
    costRoute: null,
    resolution: null,
    reopenCount: 0,
    openedAt: input.at,
    updatedAt: input.at,
    ladder,
    costRouting: input.policy.costRouting,
    policyVersion: input.policyVersion,
  };
  return {
    ok: true,
    state,
    events: [{ type: 'OPENED', at: input.at, by: input.by, severity: input.severity, level: 1, notify: who }],
  };
}

/** Counts another report of the same open issue (a start with a key already in use). */
export function recordOccurrence(state: EscalationState, at: string): EscalationResult {
  const problem = badTime(at);
  if (problem) return problem;
  if (state.status === 'resolved') return closed(state, 'add an occurrence to');
  const occurrences = state.occurrences + 1;
  return { ok: true, state: { ...state, occurrences, updatedAt: at }, events: [{ type: 'OCCURRED', at, occurrences }] };
}

/** The current level takes the issue on; stops the acknowledgement window. */
export function acknowledge(state: EscalationState, input: { actor: Actor; at: string }): EscalationResult {
  const problem = badTime(input.at);
  if (problem) return problem;
  if (state.status !== 'open') return closed(state, 'acknowledge');
  if (!isResponder(state, input.actor)) return notResponder(state, input.actor, 'acknowledge');
  const step = currentStep(state);
  return {
    ok: true,
    state: {
      ...state,
      status: 'acknowledged',
      steps: withCurrentStep(state, { acknowledgedAt: input.at, acknowledgedBy: input.actor.id }),
      updatedAt: input.at,
    },
    events: [
      {
        type: 'ACKNOWLEDGED',
        at: input.at,
        by: input.actor.id,
        level: state.level,
        timeToAcknowledgeMs: Date.parse(input.at) - Date.parse(step.enteredAt),
      },
    ],
  };
}

/**
 * Resolves the issue with a note. Anyone answering at the current level or one it climbed from may; resolving
 * without acknowledging first counts as acknowledging at the same moment.
 */
export function resolve(state: EscalationState, input: { actor: Actor; note: string; at: string }): EscalationResult {
  const problem = badTime(input.at);
  if (problem) return problem;
  if (blank(input.note)) return refuse('VALIDATION_FAILED', 'note: a resolution note is required');
  if (state.status === 'resolved') return closed(state, 'resolve');
  if (!answersAtOrBelow(state, input.actor)) return notResponder(state, input.actor, 'resolve');
  const step = currentStep(state);
  const note = input.note.trim();
  return {
    ok: true,
    state: {
      ...state,
      status: 'resolved',
      steps: withCurrentStep(state, {
        acknowledgedAt: step.acknowledgedAt ?? input.at,
        acknowledgedBy: step.acknowledgedBy ?? input.actor.id,
        resolvedAt: input.at,
        resolvedBy: input.actor.id,
        leftAt: input.at,
        leftBecause: 'resolved',
      }),
      resolution: { note, by: input.actor.id, at: input.at },
      updatedAt: input.at,
    },
    events: [
      {
        type: 'RESOLVED',
        at: input.at,
        by: input.actor.id,
        level: state.level,
        note,
        timeToResolveMs: Date.parse(input.at) - Date.parse(step.enteredAt),
      },
    ],
  };
}

/**
 * Hands the issue to one user within the level; a role level may only hand it to a holder of that role. The windows
 * keep running: reassigning hands work over, it does not buy time.
 */
export function reassign(
  state: EscalationState,
  input: { actor: Actor; to: Actor; reason?: string; at: string },
): EscalationResult {
  const problem = badTime(input.at);
  if (problem) return problem;
  if (state.status === 'resolved') return closed(state, 'reassign');
  if (!isResponder(state, input.actor)) return notResponder(state, input.actor, 'reassign');
  const step = currentStep(state);
  if ('role' in step.who && !input.to.roles.includes(step.who.role)) {
    return refuse('ROLE_REQUIRED', `${input.to.id} does not hold the role ${step.who.role} of level ${state.level}`, {
      required: step.who.role,
    });
  }
  const reason = input.reason?.trim();
  return {
    ok: true,
    state: { ...state, steps: withCurrentStep(state, { assignee: input.to.id }), updatedAt: input.at },
    events: [
      {
        type: 'REASSIGNED',
        at: input.at,
        by: input.actor.id,
        level: state.level,
        from: step.assignee,
        to: input.to.id,
        ...(reason ? { reason } : {}),
      },
    ],
  };
}

function moveTo(state: EscalationState, level: number, at: string, leftBecause: Step['leftBecause']): EscalationState {
  const who = partyFor(levelRule(state, level), state.owner);
  return {
    ...state,
    status: 'open',
    level,
    steps: [...withCurrentStep(state, { leftAt: at, leftBecause }), newStep(level, who, at)],
    updatedAt: at,
  };
}

/** Skips up the ladder by hand (one level unless `toLevel` names a higher one); a reason is required. */
export function escalate(
  state: EscalationState,
  input: { actor: Actor; reason: string; toLevel?: number; at: string },
): EscalationResult {
  const problem = badTime(input.at);
  if (problem) return problem;
  if (blank(input.reason)) return refuse('VALIDATION_FAILED', 'reason: a reason is required to escalate');
  if (state.status === 'resolved') return closed(state, 'escalate');
  const top = state.ladder.levels.length;
  if (state.level === top) return refuse('INVALID_STATE', `escalation ${state.id} is already at the top level ${top}`);
  const to = input.toLevel ?? state.level + 1;
  if (!Number.isInteger(to) || to <= state.level || to > top) {
    return refuse('VALIDATION_FAILED', `toLevel: must be a level above ${state.level} and at most ${top}`);
  }
  if (!answersAtOrBelow(state, input.actor)) return notResponder(state, input.actor, 'escalate');
  const next = moveTo(state, to, input.at, 'escalated');
  const reason = input.reason.trim();
  return {
    ok: true,
    state: next,
    events: [
      {
        type: 'ESCALATED',
        at: input.at,
        by: input.actor.id,
        from: state.level,
        to,
        reason,
        notify: currentStep(next).who,
      },
    ],
  };
}

/** When the current windows end; null for a window already answered or when the issue is resolved. */
export function deadlines(state: EscalationState): { acknowledgeBy: string | null; resolveBy: string | null } {
  if (state.status === 'resolved') return { acknowledgeBy: null, resolveBy: null };
  const step = currentStep(state);
  const rule = levelRule(state);
  return {
    acknowledgeBy: step.acknowledgedAt === null ? addMs(step.windowStartedAt, rule.acknowledgeWithin) : null,
    resolveBy: addMs(step.windowStartedAt, rule.resolveWithin),
  };
}

/** Reminder times of the current windows, moved out of the ladder's quiet hours; empty once resolved. */
export function reminderDueTimes(state: EscalationState): string[] {
  if (state.status === 'resolved') return [];
  const step = currentStep(state);
  return levelRule(state).reminders.map((offset) =>
    outsideQuietHours(addMs(step.windowStartedAt, offset), state.ladder.quietHours),
  );
}

/** The earliest moment a window can be breached; the workflow sleeps until then and calls `checkWindows`. */
export function nextBreachAt(state: EscalationState): string | null {
  const { acknowledgeBy, resolveBy } = deadlines(state);
  return acknowledgeBy ?? resolveBy;
}

/**
 * Applies at most one window breach due at `at`; call again until it returns no events to catch up after a
 * pause. A breached level is notified again while it has repeats left, then the issue climbs; at the top level
 * the breach is an SLA breach and the top level's windows start over, so its reminders keep coming. Times are
 * taken from the deadlines, not from `at`, so a late timer does not shift the ladder.
 */
export function checkWindows(state: EscalationState, at: string): EscalationResult {
  const problem = badTime(at);
  if (problem) return problem;
  const { acknowledgeBy, resolveBy } = deadlines(state);
  const atMs = Date.parse(at);
  const breach: { window: Window; dueAt: string } | null =
    acknowledgeBy !== null && atMs >= Date.parse(acknowledgeBy)
      ? { window: 'acknowledge', dueAt: acknowledgeBy }
      : resolveBy !== null && atMs >= Date.parse(resolveBy)
        ? { window: 'resolve', dueAt: resolveBy }
        : null;
  if (breach === null) return { ok: true, state, events: [] };
  const step = currentStep(state);
  const failedToRespond = responsibleParty(state);
  const top = state.ladder.levels.length;
  const record = (outcome: Breach['outcome']): Breach[] => [
    ...state.breaches,
    { level: state.level, window: breach.window, dueAt: breach.dueAt, failedToRespond, outcome },
  ];

  if (step.repeats < levelRule(state).repeat) {
    const repeat = step.repeats + 1;
    return {
      ok: true,
      state: {
        ...state,
        steps: withCurrentStep(state, { windowStartedAt: breach.dueAt, repeats: repeat }),
        breaches: record('repeated'),
        updatedAt: breach.dueAt,
      },
      events: [
        {
          type: 'LEVEL_REPEATED',
          at: breach.dueAt,
          level: state.level,
          window: breach.window,
          failedToRespond,
          repeat,
        },
      ],
    };
  }
  if (state.level < top) {
    const next = { ...moveTo(state, state.level + 1, breach.dueAt, 'climbed'), breaches: record('climbed') };
    return {
      ok: true,
      state: next,
      events: [
        {
          type: 'CLIMBED',
          at: breach.dueAt,
          from: state.level,
          to: next.level,
          window: breach.window,
          failedToRespond,
          notify: currentStep(next).who,
        },
      ],
    };
  }
  const breaches = record('top-level');
  return {
    ok: true,
    state: {
      ...state,
      steps: withCurrentStep(state, { windowStartedAt: breach.dueAt, repeats: step.repeats + 1 }),
      breaches,
      slaBreachedAt: state.slaBreachedAt ?? breach.dueAt,
      updatedAt: breach.dueAt,
    },
    events: [
      {
        type: 'SLA_BREACHED',
        at: breach.dueAt,
        level: state.level,
        window: breach.window,
        failedToRespond,
        count: breaches.filter((b) => b.outcome === 'top-level').length,
      },
    ],
  };
}

/**
 * What the cost ledger knows about the cycle a cost falls in: either what other issues had booked in it, or (once
 * the ledger has booked this cost) the cycle's total across all issues including this cost.
 */
export type CycleLedger = { otherCostsInCycleCents: number } | { cycleTotalCents: number };

/**
 * Records a cost and re-routes the cycle. The route follows the sum of the cycle's costs across all issues, so
 * the caller passes what the ledger holds for the cycle containing `at`.
 */
export function addCost(
  state: EscalationState,
  input: { amount: number; currency: string; note: string; by: string; at: string },
  ledger: CycleLedger = { otherCostsInCycleCents: 0 },
): EscalationResult {
  const problem = badTime(input.at);
  if (problem) return problem;
  const amountCents = toCents(input.amount);
  if (amountCents === null || amountCents <= 0) {
    return refuse('VALIDATION_FAILED', `amount: ${input.amount} is not a positive amount in whole cents`);
  }
  if (input.currency !== state.costRouting.currency) {
    return refuse(
      'VALIDATION_FAILED',
      `currency: costs are booked in ${state.costRouting.currency}, not ${input.currency}`,
    );
  }
  if (blank(input.note)) return refuse('VALIDATION_FAILED', 'note: a note is required for a cost');
  const ledgerCents = 'cycleTotalCents' in ledger ? ledger.cycleTotalCents : ledger.otherCostsInCycleCents;
  if (!Number.isInteger(ledgerCents) || ledgerCents < 0) {
    return refuse('VALIDATION_FAILED', 'ledger: cycle amounts must be whole, non-negative numbers of cents');
  }
  const entry: CostEntry = {
    amountCents,
    currency: input.currency,
    note: input.note.trim(),
    by: input.by,
    at: input.at,
    cycle: cycleOf(input.at, state.costRouting.cycle).key,
  };
  const costs = [...state.costs, entry];
  const own = routeCycle(costs, input.at, state.costRouting);
  // The ledger's total already holds this issue's own costs of the cycle; it can never be less than they are.
  if ('cycleTotalCents' in ledger && ledger.cycleTotalCents < own.totalCents) {
    return refuse(
      'VALIDATION_FAILED',
      `ledger: cycle total ${ledger.cycleTotalCents} is below this issue's own ${own.totalCents} cents`,
    );
  }
  const cycleTotalCents = 'cycleTotalCents' in ledger ? ledger.cycleTotalCents : own.totalCents + ledgerCents;
  const route = costRoute(cycleTotalCents, state.costRouting);
  const events: EscalationEvent[] = [{ type: 'COST_ADDED', at: input.at, by: input.by, entry, cycleTotalCents, route }];
  if (route !== state.costRoute) {
    events.push({
      type: 'COST_ROUTED',
      at: input.at,
      from: state.costRoute,
      to: route,
      cycle: own.cycle,
      cycleTotalCents,
    });
  }
  return { ok: true, state: { ...state, costs, costRoute: route, updatedAt: input.at }, events };
}

/** When a resolved escalation can no longer be reopened; null while it is not resolved. */
export function reopenableUntil(state: EscalationState): string | null {
  if (state.status !== 'resolved' || state.resolution === null) return null;
  return addMs(state.resolution.at, state.ladder.reopenWithin);
}

/** Reopens a resolved issue at the level that resolved it, with fresh windows; only within the reopen window. */
export function reopen(state: EscalationState, input: { actor: Actor; reason: string; at: string }): EscalationResult {
  const problem = badTime(input.at);
  if (problem) return problem;
  if (blank(input.reason)) return refuse('VALIDATION_FAILED', 'reason: a reason is required to reopen');
  const until = reopenableUntil(state);
  if (until === null) return closed(state, 'reopen');
  if (Date.parse(input.at) > Date.parse(until)) {
    return refuse('INVALID_STATE', `escalation ${state.id} could be reopened until ${until}`, {
      reopenableUntil: until,
    });
  }
  const isParty =
    state.steps.some((step) => answersFor(step, input.actor)) ||
    ('user' in state.owner ? state.owner.user === input.actor.id : input.actor.roles.includes(state.owner.role));
  if (!isParty) {
    return refuse('ROLE_REQUIRED', `${input.actor.id} is neither the owner nor a responder of escalation ${state.id}`);
  }
  const who = partyFor(levelRule(state), state.owner);
  const reason = input.reason.trim();
  return {
    ok: true,
    state: {
      ...state,
      status: 'open',
      steps: [...state.steps, newStep(state.level, who, input.at)],
      resolution: null,
      reopenCount: state.reopenCount + 1,
      updatedAt: input.at,
    },
    events: [{ type: 'REOPENED', at: input.at, by: input.actor.id, level: state.level, reason, notify: who }],
  };
}

/** Response times of one step, for projections and reports; null where the step never got that far. */
export type StepTiming = {
  level: number;
  enteredAt: string;
  timeToAcknowledgeMs: number | null;
  timeToResolveMs: number | null;
};

/** Time to acknowledge and to resolve, measured from reaching each level, for every step taken. */
export function stepTimings(state: EscalationState): StepTiming[] {
  return state.steps.map((step) => ({
    level: step.level,
    enteredAt: step.enteredAt,
    timeToAcknowledgeMs:
      step.acknowledgedAt === null ? null : Date.parse(step.acknowledgedAt) - Date.parse(step.enteredAt),
    timeToResolveMs: step.resolvedAt === null ? null : Date.parse(step.resolvedAt) - Date.parse(step.enteredAt),
  }));
}

/** What queries and the API show: the escalation without its ladder, plus what it is waiting for. */
export type EscalationView = Omit<EscalationState, 'ladder' | 'costRouting'> & {
  levelName: string | null;
  topLevel: number;
  responsible: Party | null;
  acknowledgeBy: string | null;
  resolveBy: string | null;
  reminderDueTimes: string[];
  reopenableUntil: string | null;
};

/** Projects the state into its read-only view. */
export function toView(state: EscalationState): EscalationView {
  const { ladder: _ladder, costRouting: _costRouting, ...rest } = state;
  return {
    ...rest,
    // Runs carried over from before subjects existed have none.
    subject: state.subject ?? null,
    levelName: levelRule(state).name ?? null,
    topLevel: state.ladder.levels.length,
    responsible: state.status === 'resolved' ? null : responsibleParty(state),
    ...deadlines(state),
    reminderDueTimes: reminderDueTimes(state),
    reopenableUntil: reopenableUntil(state),
  };
}
