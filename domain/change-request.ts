import { z } from 'zod';
import type { Actor } from './actor';
import {
  ChangeClass,
  DataCategory,
  EvidenceKind,
  effectiveQuorum,
  optionalRolesFor,
  requiredEvidenceFor,
  requiredRolesFor,
  type BreachAction,
  type ChangeControlPolicy,
  type ClassPolicy,
  type OverdueAction,
} from './change-request-policy';
import { addMs, toMs } from './duration';
import { refuse, type Refusal, type Transition } from './result';
import { RoleName } from './role-name';
import type { Role } from './roles';
import { maxChars } from './text';

export const CHANGE_REQUEST_STATUSES = [
  'draft',
  'under_review',
  'changes_requested',
  'approved',
  'rejected',
  'withdrawn',
  'expired',
] as const;
export type ChangeRequestStatus = (typeof CHANGE_REQUEST_STATUSES)[number];

const CLOSED: readonly ChangeRequestStatus[] = ['approved', 'rejected', 'withdrawn', 'expired'];
const EDITABLE: readonly ChangeRequestStatus[] = ['draft', 'changes_requested'];

export const RISKS = ['low', 'medium', 'high', 'critical'] as const;
export const Risk = z.enum(RISKS);
export type Risk = z.infer<typeof Risk>;

const Text = z.string().trim().min(1);

/** What a requester describes and may edit while the change is with them. */
export const ChangeRequestFields = z.strictObject({
  title: maxChars(Text, 200),
  description: maxChars(Text, 20_000),
  class: ChangeClass,
  risk: Risk,
  affectedSystems: z.array(Text).min(1),
  touches: z.array(DataCategory).default([]),
});
export type ChangeRequestFields = z.infer<typeof ChangeRequestFields>;

/** The longest evidence link accepted, in characters. */
export const MAX_URI_CHARS = 2_000;

/** A piece of evidence as supplied; who added it and when come from the call, not the body. */
export const EvidenceInput = z.strictObject({
  kind: EvidenceKind,
  title: maxChars(Text, 200),
  uri: maxChars(Text, MAX_URI_CHARS).optional(),
});
export type EvidenceInput = z.infer<typeof EvidenceInput>;
export type Evidence = EvidenceInput & { addedBy: string; addedAt: string };

export const DECISION_KINDS = ['approve', 'reject', 'request_changes'] as const;
export const DecisionKind = z.enum(DECISION_KINDS);
export type DecisionKind = z.infer<typeof DecisionKind>;

const IsoTime = z.string().refine((s) => toMs(s) !== null, { error: 'expected an ISO-8601 timestamp' });

/** One board member's decision, in one role; a reason is required unless approving. */
export const Decision = z
  .strictObject({
    decision: DecisionKind,
    role: RoleName,
    reason: maxChars(z.string().trim(), 5_000).optional(),
    by: Text,
    at: IsoTime,
  })
  .refine((d) => d.decision === 'approve' || (d.reason !== undefined && d.reason.length > 0), {
    path: ['reason'],
    error: 'a reason is required to reject or request changes',
  });
export type Decision = z.infer<typeof Decision>;

export type Vote = { round: number; role: Role; decision: DecisionKind; reason?: string; by: string; at: string };

export type EscalationCause = 'decision' | 'retrospective';

/**
 * An escalation a passed decision SLA started, and what became of it. Its resolution is recorded here for the
 * board to see; it decides nothing about the change, which still needs its votes.
 */
export type EscalationLink = {
  round: number;
  /** What was late: the round's decision (absent on links recorded before retrospectives were chased) or the review. */
  cause?: EscalationCause;
  escalationId: string;
  ladder: string;
  startedAt: string;
  status: 'open' | 'resolved';
  resolution: { note: string; by: string; at: string } | null;
};
export const RETROSPECTIVE_OUTCOMES = ['ratified', 'follow_up_required'] as const;
export const RetrospectiveOutcome = z.enum(RETROSPECTIVE_OUTCOMES);
export type RetrospectiveOutcome = z.infer<typeof RetrospectiveOutcome>;

/** What the reviewer of an emergency change found afterwards: the change stands, or it needs follow-up work. */
export const RetrospectiveInput = z.strictObject({
  outcome: RetrospectiveOutcome,
  notes: maxChars(Text, 5_000),
});
export type RetrospectiveInput = z.infer<typeof RetrospectiveInput>;

/**
 * The review an approved change of a class that demands one is owed afterwards: by a holder of `owner`, before
 * `dueAt`. `overdueAt` is when the deadline was seen to pass without it.
 */
export type Retrospective = {
  dueAt: string;
  owner: Role;
  status: 'pending' | 'recorded';
  overdueAt: string | null;
  review: (RetrospectiveInput & { by: string; at: string }) | null;
};

export type PastRound = { round: number; votes: Vote[]; submittedAt: string; slaBreachedAt: string | null };

/** The whole change request; plain data so it survives Temporal serialization and replay. */
export type ChangeRequestState = ChangeRequestFields & {
  id: string;
  requester: string;
  status: ChangeRequestStatus;
  /** 0 until the first submission; each submission starts the next review round. */
  round: number;
  submittedAt: string | null;
  /** Votes of the current round only; earlier rounds are kept in `pastRounds` and no longer count. */
  votes: Vote[];
  pastRounds: PastRound[];
  evidence: Evidence[];
  slaBreachedAt: string | null;
  /** Escalations started by passed decision SLAs (at most one per round) and an overdue retrospective, oldest first. */
  escalations: EscalationLink[];
  /** Set when an approval owes a retrospective review; absent on requests approved before reviews were tracked. */
  retrospective?: Retrospective | null;
  openedAt: string;
  updatedAt: string;
  closedAt: string | null;
  policyVersion: string;
  policy: ChangeControlPolicy;
};

export type ChangeRequestEvent =
  | { type: 'OPENED'; at: string; by: string; class: ChangeClass; policyVersion: string }
  | { type: 'EDITED'; at: string; by: string; fields: (keyof ChangeRequestFields)[] }
  | { type: 'EVIDENCE_ADDED'; at: string; by: string; evidence: Evidence }
  | { type: 'SUBMITTED'; at: string; by: string; round: number; requiredRoles: Role[]; slaDueAt: string }
  | { type: 'DECISION_RECORDED'; at: string; by: string; vote: Vote }
  | { type: 'APPROVED'; at: string; round: number; retrospectiveDueAt: string | null }
  | { type: 'REJECTED'; at: string; by: string; round: number; reason: string }
  | { type: 'CHANGES_REQUESTED'; at: string; by: string; round: number; reason: string }
  | { type: 'WITHDRAWN'; at: string; by: string; reason?: string }
  | { type: 'SLA_BREACHED'; at: string; round: number; dueAt: string; pendingRoles: Role[]; onBreach: BreachAction }
  | { type: 'EXPIRED'; at: string; round: number }
  | {
      type: 'ESCALATION_STARTED';
      at: string;
      round: number;
      escalationId: string;
      ladder: string;
      cause?: EscalationCause;
    }
  | { type: 'RETROSPECTIVE_OVERDUE'; at: string; dueAt: string; owner: Role; onOverdue: OverdueAction }
  | {
      type: 'RETROSPECTIVE_RECORDED';
      at: string;
      by: string;
      outcome: RetrospectiveOutcome;
      notes: string;
      dueAt: string;
    }
  | {
      type: 'ESCALATION_SETTLED';
      at: string;
      escalationId: string;
      cause?: EscalationCause;
      status: EscalationLink['status'];
      resolution: EscalationLink['resolution'];
    };

export type ChangeRequestRefusalCode =
  | 'VALIDATION_FAILED'
  | 'INVALID_STATE'
  | 'SELF_APPROVAL_FORBIDDEN'
  | 'ROLE_REQUIRED'
  | 'ALREADY_DECIDED'
  | 'EVIDENCE_MISSING';
export type ChangeRequestRefusal = Refusal<ChangeRequestRefusalCode>;
export type ChangeRequestResult = Transition<ChangeRequestState, ChangeRequestEvent, ChangeRequestRefusalCode>;

/** Who did something and when; `at` is supplied by the caller so workflows stay deterministic. */
export type Stamp = { by: string; at: string };

export type OpenInput = Stamp & {
  id: string;
  fields: z.input<typeof ChangeRequestFields>;
  evidence?: readonly EvidenceInput[];
  policy: ChangeControlPolicy;
  policyVersion: string;
};

function invalid(error: z.ZodError): ChangeRequestRefusal {
  const issue = error.issues[0];
  const path = issue.path.map(String).join('.');
  return refuse('VALIDATION_FAILED', path ? `${path}: ${issue.message}` : issue.message, {
    issues: error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  });
}

function checkStamp(stamp: Stamp): ChangeRequestRefusal | null {
  if (typeof stamp.by !== 'string' || stamp.by.trim() === '')
    return refuse('VALIDATION_FAILED', 'by: a user is required');
  if (toMs(stamp.at) === null) return refuse('VALIDATION_FAILED', `at: "${stamp.at}" is not an ISO-8601 timestamp`);
  return null;
}

function requesterOnly(state: ChangeRequestState, by: string, action: string): ChangeRequestRefusal | null {
  return by === state.requester
    ? null
    : refuse('ROLE_REQUIRED', `only the requester may ${action} change request ${state.id}`, { required: 'requester' });
}

function wrongState(state: ChangeRequestState, action: string): ChangeRequestRefusal {
  return refuse('INVALID_STATE', `cannot ${action} change request ${state.id} while it is ${state.status}`, {
    status: state.status,
  });
}

function addEvidenceItems(items: readonly EvidenceInput[], stamp: Stamp): Evidence[] | z.ZodError {
  const parsed = z.array(EvidenceInput).safeParse(items);
  if (!parsed.success) return parsed.error;
  return parsed.data.map((e) => ({ ...e, addedBy: stamp.by, addedAt: stamp.at }));
}

/** The class rules this request is judged by, from the policy version it was opened under. */
export function classRule(state: ChangeRequestState): ClassPolicy {
  return state.policy.classes[state.class];
}

/** Raises a change request as a draft owned by `by`, with any evidence supplied up front. */
export function openChangeRequest(input: OpenInput): ChangeRequestResult {
  const stampProblem = checkStamp(input);
  if (stampProblem) return stampProblem;
  if (input.id.trim() === '') return refuse('VALIDATION_FAILED', 'id: a change request id is required');
  const fields = ChangeRequestFields.safeParse(input.fields);
  if (!fields.success) return invalid(fields.error);
  const evidence = addEvidenceItems(input.evidence ?? [], input);
  if (evidence instanceof z.ZodError) return invalid(evidence);
  const state: ChangeRequestState = {
    ...fields.data,
    id: input.id,
    requester: input.by,
    status: 'draft',
    round: 0,
    submittedAt: null,
    votes: [],
    pastRounds: [],
    evidence,
    slaBreachedAt: null,
    escalations: [],
    openedAt: input.at,
    updatedAt: input.at,
    closedAt: null,
    policyVersion: input.policyVersion,
    policy: input.policy,
  };
  const events: ChangeRequestEvent[] = [
    { type: 'OPENED', at: input.at, by: input.by, class: state.class, policyVersion: input.policyVersion },
    ...evidence.map((e): ChangeRequestEvent => ({ type: 'EVIDENCE_ADDED', at: input.at, by: input.by, evidence: e })),
  ];
  return { ok: true, state, events };
}

/** What a change of this class touching these data categories demands of its review. */
function demandsOf(rule: ClassPolicy, touches: readonly DataCategory[]) {
  return {
    roles: requiredRolesFor(rule, touches),
    quorum: effectiveQuorum(rule, touches),
    evidence: requiredEvidenceFor(rule, touches),
    retrospective: rule.retrospective !== undefined,
  };
}

/** The demands `before` made that `after` drops, in words; empty when `after` asks as much or more. */
function loosened(before: ReturnType<typeof demandsOf>, after: ReturnType<typeof demandsOf>): string[] {
  const dropped = [
    ...before.roles.filter((r) => !after.roles.includes(r)).map((r) => `the role ${r}`),
    ...before.evidence.filter((k) => !after.evidence.includes(k)).map((k) => `${k} evidence`),
  ];
  if (after.quorum < before.quorum) dropped.push(`a quorum of ${before.quorum}`);
  if (before.retrospective && !after.retrospective) dropped.push('the retrospective review');
  return dropped;
}

/**
 * Changes the description of a draft or of a request sent back for rework; only the requester may. With
 * `keepDemands`, a request the board has already seen may not be edited into needing less of its review (another
 * class or fewer data categories that drop a role, evidence, quorum or the retrospective): rework answers the
 * board, it does not pick an easier one.
 */
export function editChangeRequest(
  state: ChangeRequestState,
  patch: Partial<z.input<typeof ChangeRequestFields>>,
  stamp: Stamp,
  opts: { keepDemands?: boolean } = {},
): ChangeRequestResult {
  const problem = checkStamp(stamp) ?? requesterOnly(state, stamp.by, 'edit');
  if (problem) return problem;
  if (!EDITABLE.includes(state.status)) return wrongState(state, 'edit');
  const current: ChangeRequestFields = {
    title: state.title,
    description: state.description,
    class: state.class,
    risk: state.risk,
    affectedSystems: state.affectedSystems,
    touches: state.touches,
  };
  const parsed = ChangeRequestFields.safeParse({ ...current, ...patch });
  if (!parsed.success) return invalid(parsed.error);
  const changed = (Object.keys(current) as (keyof ChangeRequestFields)[]).filter(
    (key) => JSON.stringify(current[key]) !== JSON.stringify(parsed.data[key]),
  );
  if (changed.length === 0) return { ok: true, state, events: [] };
  if (opts.keepDemands && state.round > 0) {
    const rule = classRule(state);
    const dropped = loosened(demandsOf(rule, state.touches), demandsOf(state.policy.classes[parsed.data.class], parsed.data.touches));
    if (dropped.length > 0) {
      return refuse(
        'INVALID_STATE',
        `change request ${state.id} has been reviewed; the edit would drop ${dropped.join(', ')} from its review`,
        { dropped },
      );
    }
  }
  return {
    ok: true,
    state: { ...state, ...parsed.data, updatedAt: stamp.at },
    events: [{ type: 'EDITED', at: stamp.at, by: stamp.by, fields: changed }],
  };
}

/**
 * Attaches evidence. Anyone may add it (a security officer supplies the sign-off) until the request is closed;
 * authorization of who may add evidence at all belongs to the caller.
 */
export function addEvidence(
  state: ChangeRequestState,
  input: EvidenceInput,
  stamp: Stamp,
  opts: { max?: number } = {},
): ChangeRequestResult {
  const problem = checkStamp(stamp);
  if (problem) return problem;
  if (CLOSED.includes(state.status)) return wrongState(state, 'add evidence to');
  if (opts.max !== undefined && state.evidence.length >= opts.max) {
    return refuse('INVALID_STATE', `change request ${state.id} already holds ${state.evidence.length} pieces of evidence, the most it may`, {
      max: opts.max,
    });
  }
  const added = addEvidenceItems([input], stamp);
  if (added instanceof z.ZodError) return invalid(added);
  return {
    ok: true,
    state: { ...state, evidence: [...state.evidence, ...added], updatedAt: stamp.at },
    events: [{ type: 'EVIDENCE_ADDED', at: stamp.at, by: stamp.by, evidence: added[0] }],
  };
}

/** The most evidence one change request holds, as many as it may be raised with. */
export const MAX_EVIDENCE = 50;

/** Evidence kinds the class (and the data the change touches) requires but the request does not yet carry. */
export function missingEvidence(state: ChangeRequestState): EvidenceKind[] {
  const present = new Set(state.evidence.map((e) => e.kind));
  return requiredEvidenceFor(classRule(state), state.touches).filter((kind) => !present.has(kind));
}

/** Sends the request to the board, starting a new review round with no votes and a fresh SLA. */
export function submitChangeRequest(state: ChangeRequestState, stamp: Stamp): ChangeRequestResult {
  const problem = checkStamp(stamp) ?? requesterOnly(state, stamp.by, 'submit');
  if (problem) return problem;
  if (!EDITABLE.includes(state.status)) return wrongState(state, 'submit');
  const missing = missingEvidence(state);
  if (missing.length > 0) {
    return refuse('EVIDENCE_MISSING', `change request ${state.id} lacks evidence: ${missing.join(', ')}`, { missing });
  }
  const pastRounds =
    state.round > 0 && state.submittedAt !== null
      ? [
          ...state.pastRounds,
          {
            round: state.round,
            votes: state.votes,
            submittedAt: state.submittedAt,
            slaBreachedAt: state.slaBreachedAt,
          },
        ]
      : state.pastRounds;
  const next: ChangeRequestState = {
    ...state,
    status: 'under_review',
    round: state.round + 1,
    submittedAt: stamp.at,
    votes: [],
    pastRounds,
    slaBreachedAt: null,
    updatedAt: stamp.at,
  };
  return {
    ok: true,
    state: next,
    events: [
      {
        type: 'SUBMITTED',
        at: stamp.at,
        by: stamp.by,
        round: next.round,
        requiredRoles: requiredRolesFor(classRule(next), next.touches),
        slaDueAt: addMs(stamp.at, classRule(next).decisionSla),
      },
    ],
  };
}

/** Roles every one of which must approve in this round (class roles plus those added by touched data). */
export function requiredRoles(state: ChangeRequestState): Role[] {
  return requiredRolesFor(classRule(state), state.touches);
}

/**
 * Roles in which a vote is still accepted: required roles without an approval, plus the optional roles while the
 * approvals so far and the outstanding required roles together still fall short of the quorum.
 */
export function pendingRoles(state: ChangeRequestState): Role[] {
  if (state.status !== 'under_review') return [];
  const rule = classRule(state);
  const approvals = state.votes.filter((v) => v.decision === 'approve');
  const approved = new Set(approvals.map((v) => v.role));
  const pendingRequired = requiredRolesFor(rule, state.touches).filter((role) => !approved.has(role));
  const shortfall = effectiveQuorum(rule, state.touches) - approvals.length - pendingRequired.length;
  return shortfall > 0 ? [...pendingRequired, ...optionalRolesFor(rule, state.touches)] : pendingRequired;
}

/** The refusal of a second vote by `by` in `round`, naming the vote they already cast. */
export function alreadyDecided(
  by: string,
  round: number,
  earlier: { role: string; decision: string },
): ChangeRequestRefusal {
  return refuse('ALREADY_DECIDED', `${by} already decided round ${round} as ${earlier.role}`, {
    role: earlier.role,
    decision: earlier.decision,
  });
}

/**
 * Checks a decision without changing anything, so a Temporal update validator can refuse it before history is
 * written. Input problems come first, then one vote per user per round, state, separation of duties and role.
 */
export function canDecide(
  state: ChangeRequestState,
  decision: Decision,
  actor: Actor,
): { ok: true; decision: Decision } | ChangeRequestRefusal {
  const parsed = Decision.safeParse(decision);
  if (!parsed.success) return invalid(parsed.error);
  const d = parsed.data;
  if (d.by !== actor.id) return refuse('VALIDATION_FAILED', `by: ${d.by} is not the acting user ${actor.id}`);
  // Before the state: a user whose own vote closed the round and who sends it again (a retry, a double click) is
  // told they already decided, not that the request moved on.
  const earlier = state.votes.find((v) => v.by === d.by);
  if (earlier) return alreadyDecided(d.by, state.round, earlier);
  if (state.status !== 'under_review') return wrongState(state, 'decide');
  if (d.by === state.requester) {
    return refuse('SELF_APPROVAL_FORBIDDEN', `${d.by} requested change ${state.id} and cannot decide it`);
  }
  if (!actor.roles.includes(d.role)) {
    return refuse('ROLE_REQUIRED', `${d.by} does not hold the role ${d.role}`, { required: d.role });
  }
  const pending = pendingRoles(state);
  if (!pending.includes(d.role)) {
    return refuse('INVALID_STATE', `role ${d.role} is not awaiting a decision in round ${state.round}`, { pending });
  }
  return { ok: true, decision: d };
}

/**
 * Records a decision. Approval completes the request once every required role has approved and the quorum is met.
 * A rejection by anyone voting in a pending role is a veto and closes the request: a change the board cannot agree
 * on does not ship, and the requester raises a new one. Requesting changes hands the request back for rework.
 */
export function applyDecision(state: ChangeRequestState, decision: Decision, actor: Actor): ChangeRequestResult {
  const check = canDecide(state, decision, actor);
  if (!check.ok) return check;
  const d = check.decision;
  const vote: Vote = {
    round: state.round,
    role: d.role,
    decision: d.decision,
    ...(d.reason ? { reason: d.reason } : {}),
    by: d.by,
    at: d.at,
  };
  const voted: ChangeRequestState = { ...state, votes: [...state.votes, vote], updatedAt: d.at };
  const recorded: ChangeRequestEvent = { type: 'DECISION_RECORDED', at: d.at, by: d.by, vote };
  const reason = d.reason ?? '';
  switch (d.decision) {
    case 'reject':
      return {
        ok: true,
        state: { ...voted, status: 'rejected', closedAt: d.at },
        events: [recorded, { type: 'REJECTED', at: d.at, by: d.by, round: state.round, reason }],
      };
    case 'request_changes':
      return {
        ok: true,
        state: { ...voted, status: 'changes_requested' },
        events: [recorded, { type: 'CHANGES_REQUESTED', at: d.at, by: d.by, round: state.round, reason }],
      };
    case 'approve': {
      if (pendingRoles(voted).length > 0) return { ok: true, state: voted, events: [recorded] };
      const closed: ChangeRequestState = { ...voted, status: 'approved', closedAt: d.at };
      const retrospective = retrospectiveDueAt(closed);
      const owed: Retrospective | null =
        retrospective === null
          ? null
          : { dueAt: retrospective, owner: retrospectiveOwner(closed), status: 'pending', overdueAt: null, review: null };
      const approved: ChangeRequestState = { ...closed, retrospective: owed };
      return {
        ok: true,
        state: approved,
        events: [recorded, { type: 'APPROVED', at: d.at, round: state.round, retrospectiveDueAt: retrospective }],
      };
    }
  }
}

/** Withdraws the request; only its requester may, and only before it is decided. */
export function withdrawChangeRequest(
  state: ChangeRequestState,
  stamp: Stamp & { reason?: string },
): ChangeRequestResult {
  const problem = checkStamp(stamp) ?? requesterOnly(state, stamp.by, 'withdraw');
  if (problem) return problem;
  if (CLOSED.includes(state.status)) return wrongState(state, 'withdraw');
  return {
    ok: true,
    state: { ...state, status: 'withdrawn', closedAt: stamp.at, updatedAt: stamp.at },
    events: [{ type: 'WITHDRAWN', at: stamp.at, by: stamp.by, ...(stamp.reason ? { reason: stamp.reason } : {}) }],
  };
}

/** When the board's decision on the current round is due, or null when no decision is awaited. */
export function slaDueAt(state: ChangeRequestState): string | null {
  if (state.status !== 'under_review' || state.submittedAt === null) return null;
  return addMs(state.submittedAt, classRule(state).decisionSla);
}

/** When pending approvers are reminded in the current round, in order; empty when no decision is awaited. */
export function reminderDueTimes(state: ChangeRequestState): string[] {
  const submittedAt = state.submittedAt;
  if (state.status !== 'under_review' || submittedAt === null) return [];
  return classRule(state).reminders.map((offset) => addMs(submittedAt, offset));
}

/** When an approved change must have had its retrospective review, for classes that require one. */
export function retrospectiveDueAt(state: ChangeRequestState): string | null {
  const within = classRule(state).retrospective?.within;
  if (state.status !== 'approved' || state.closedAt === null || within === undefined) return null;
  return addMs(state.closedAt, within);
}

/** The role that records the class's retrospective review: the policy's `owner`, else the CCB chair. */
export function retrospectiveOwner(state: ChangeRequestState): Role {
  return classRule(state).retrospective?.owner ?? 'ccb-chair';
}

/** The retrospective review still owed, or null when none is (none demanded, or already recorded). */
export function owedRetrospective(state: ChangeRequestState): Retrospective | null {
  const owed = state.retrospective ?? null;
  return owed?.status === 'pending' ? owed : null;
}

/** When the owner of an owed retrospective review is reminded, in order; empty when none is owed. */
export function retrospectiveReminderTimes(state: ChangeRequestState): string[] {
  const owed = owedRetrospective(state);
  const approvedAt = state.closedAt;
  if (owed === null || approvedAt === null) return [];
  return (classRule(state).retrospective?.reminders ?? []).map((offset) => addMs(approvedAt, offset));
}

/** What an overdue retrospective review does under the request's policy; telling its owner unless it says more. */
export function overdueAction(state: ChangeRequestState): OverdueAction {
  return classRule(state).retrospective?.onOverdue ?? { action: 'notify' };
}

/** Records, once, that an owed retrospective review passed its due time without being recorded. */
export function markRetrospectiveOverdue(state: ChangeRequestState, at: string): ChangeRequestResult {
  const atMs = toMs(at);
  if (atMs === null) return refuse('VALIDATION_FAILED', `at: "${at}" is not an ISO-8601 timestamp`);
  const owed = owedRetrospective(state);
  if (owed === null) return refuse('INVALID_STATE', `change request ${state.id} owes no retrospective review`);
  if (atMs < Date.parse(owed.dueAt)) {
    return refuse('INVALID_STATE', `the retrospective review of change request ${state.id} is due ${owed.dueAt}`, {
      dueAt: owed.dueAt,
    });
  }
  if (owed.overdueAt !== null) {
    return refuse('INVALID_STATE', `the retrospective review of change request ${state.id} was overdue at ${owed.overdueAt}`);
  }
  return {
    ok: true,
    state: { ...state, retrospective: { ...owed, overdueAt: at }, updatedAt: at },
    events: [{ type: 'RETROSPECTIVE_OVERDUE', at, dueAt: owed.dueAt, owner: owed.owner, onOverdue: overdueAction(state) }],
  };
}

/** The refusal of a second retrospective review of change request `id`, naming the one recorded. */
export function retrospectiveRecorded(
  id: string,
  done: Pick<NonNullable<Retrospective['review']>, 'by' | 'at' | 'outcome'>,
): ChangeRequestRefusal {
  return refuse('ALREADY_DECIDED', `the retrospective review of change request ${id} was recorded by ${done.by} at ${done.at}`, {
    by: done.by,
    at: done.at,
    outcome: done.outcome,
  });
}

/**
 * Checks a retrospective review without changing anything, so an update validator can refuse it before history is
 * written: input, then the state (one is owed; a second is ALREADY_DECIDED), separation of duties, the owner role.
 */
export function canRecordRetrospective(
  state: ChangeRequestState,
  input: RetrospectiveInput,
  actor: Actor,
  at: string,
): { ok: true; review: NonNullable<Retrospective['review']>; owed: Retrospective } | ChangeRequestRefusal {
  const stampProblem = checkStamp({ by: actor.id, at });
  if (stampProblem) return stampProblem;
  const parsed = RetrospectiveInput.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const done = state.retrospective?.review;
  if (done) return retrospectiveRecorded(state.id, done);
  const owed = owedRetrospective(state);
  if (owed === null) {
    return state.status === 'approved'
      ? refuse('INVALID_STATE', `change request ${state.id} owes no retrospective review`, { status: state.status })
      : wrongState(state, 'record the retrospective review of');
  }
  if (actor.id === state.requester) {
    return refuse('SELF_APPROVAL_FORBIDDEN', `${actor.id} requested change ${state.id} and cannot review it`);
  }
  if (!actor.roles.includes(owed.owner)) {
    return refuse('ROLE_REQUIRED', `${actor.id} does not hold the role ${owed.owner}`, { required: owed.owner });
  }
  return { ok: true, owed, review: { ...parsed.data, by: actor.id, at } };
}

/** Records the retrospective review an approved change owes; it settles what the approval left open. */
export function recordRetrospective(
  state: ChangeRequestState,
  input: RetrospectiveInput,
  actor: Actor,
  at: string,
): ChangeRequestResult {
  const check = canRecordRetrospective(state, input, actor, at);
  if (!check.ok) return check;
  const { owed, review } = check;
  return {
    ok: true,
    state: { ...state, retrospective: { ...owed, status: 'recorded', review }, updatedAt: at },
    events: [
      {
        type: 'RETROSPECTIVE_RECORDED',
        at,
        by: review.by,
        outcome: review.outcome,
        notes: review.notes,
        dueAt: owed.dueAt,
      },
    ],
  };
}

function slaPassed(state: ChangeRequestState, at: string): ChangeRequestRefusal | string {
  const due = slaDueAt(state);
  if (due === null) return wrongState(state, 'breach the SLA of');
  const atMs = toMs(at);
  if (atMs === null) return refuse('VALIDATION_FAILED', `at: "${at}" is not an ISO-8601 timestamp`);
  if (atMs < Date.parse(due)) {
    return refuse('INVALID_STATE', `the decision SLA of change request ${state.id} runs until ${due}`, { dueAt: due });
  }
  return due;
}

/** Records that the decision SLA passed, once per round; what follows is the class's `onBreach` action. */
export function recordSlaBreach(state: ChangeRequestState, at: string): ChangeRequestResult {
  const due = slaPassed(state, at);
  if (typeof due !== 'string') return due;
  if (state.slaBreachedAt !== null) {
    return refuse('INVALID_STATE', `the SLA breach of round ${state.round} was recorded at ${state.slaBreachedAt}`);
  }
  const pending = pendingRoles(state);
  return {
    ok: true,
    state: { ...state, slaBreachedAt: at, updatedAt: at },
    events: [
      {
        type: 'SLA_BREACHED',
        at,
        round: state.round,
        dueAt: due,
        pendingRoles: pending,
        onBreach: classRule(state).onBreach,
      },
    ],
  };
}

/** Closes a request whose decision SLA has passed without a decision. */
export function expireChangeRequest(state: ChangeRequestState, at: string): ChangeRequestResult {
  const due = slaPassed(state, at);
  if (typeof due !== 'string') return due;
  return {
    ok: true,
    state: { ...state, status: 'expired', closedAt: at, updatedAt: at },
    events: [{ type: 'EXPIRED', at, round: state.round }],
  };
}

/**
 * Links an escalation to the request: the one a passed decision SLA started (one per review round), or the one an
 * overdue retrospective review started (`cause: 'retrospective'`, once). It is a record of what happened, so it
 * holds even if a decision closed the round while the escalation was starting.
 */
export function linkEscalation(
  state: ChangeRequestState,
  link: { escalationId: string; round: number; ladder: string; at: string; cause?: EscalationCause },
): ChangeRequestResult {
  if (toMs(link.at) === null) return refuse('VALIDATION_FAILED', `at: "${link.at}" is not an ISO-8601 timestamp`);
  if (link.escalationId.trim() === '') return refuse('VALIDATION_FAILED', 'escalationId: an escalation id is required');
  if (!Number.isInteger(link.round) || link.round < 1 || link.round > state.round) {
    return refuse('VALIDATION_FAILED', `round: change request ${state.id} has no review round ${link.round}`);
  }
  const cause = link.cause ?? 'decision';
  const current = (state.escalations ?? []).find((e) => e.round === link.round && (e.cause ?? 'decision') === cause);
  if (current) {
    const what = cause === 'decision' ? `round ${link.round}` : 'the retrospective review';
    return refuse('INVALID_STATE', `${what} of change request ${state.id} already escalated`, {
      escalationId: current.escalationId,
    });
  }
  const entry: EscalationLink = {
    round: link.round,
    ...(link.cause ? { cause: link.cause } : {}),
    escalationId: link.escalationId,
    ladder: link.ladder,
    startedAt: link.at,
    status: 'open',
    resolution: null,
  };
  return {
    ok: true,
    state: { ...state, escalations: [...(state.escalations ?? []), entry], updatedAt: link.at },
    events: [
      {
        type: 'ESCALATION_STARTED',
        at: link.at,
        round: link.round,
        escalationId: link.escalationId,
        ladder: link.ladder,
        ...(link.cause ? { cause: link.cause } : {}),
      },
    ],
  };
}

/**
 * Records what became of a linked escalation (resolved, or reopened and open again). The request's own status is
 * untouched: resolving the escalation answers for the delay, it does not approve the change.
 */
export function settleEscalation(
  state: ChangeRequestState,
  outcome: { escalationId: string; status: string; resolution: EscalationLink['resolution']; at: string },
): ChangeRequestResult {
  if (toMs(outcome.at) === null) {
    return refuse('VALIDATION_FAILED', `at: "${outcome.at}" is not an ISO-8601 timestamp`);
  }
  const links = state.escalations ?? [];
  const index = links.findIndex((e) => e.escalationId === outcome.escalationId);
  if (index < 0) {
    return refuse(
      'VALIDATION_FAILED',
      `escalation ${outcome.escalationId} is not linked to change request ${state.id}`,
    );
  }
  const status: EscalationLink['status'] = outcome.status === 'resolved' ? 'resolved' : 'open';
  const resolution = status === 'resolved' ? (outcome.resolution ?? null) : null;
  const before = links[index];
  if (before.status === status && before.resolution?.at === resolution?.at) return { ok: true, state, events: [] };
  const escalations = links.map((e, i) => (i === index ? { ...e, status, resolution } : e));
  return {
    ok: true,
    state: { ...state, escalations, updatedAt: outcome.at },
    events: [
      {
        type: 'ESCALATION_SETTLED',
        at: outcome.at,
        escalationId: outcome.escalationId,
        ...(before.cause ? { cause: before.cause } : {}),
        status,
        resolution,
      },
    ],
  };
}

/** What queries and the API show: the request without its policy, plus everything derived from it. */
export type ChangeRequestView = Omit<ChangeRequestState, 'policy'> & {
  requiredRoles: Role[];
  pendingRoles: Role[];
  requiredEvidence: EvidenceKind[];
  missingEvidence: EvidenceKind[];
  slaDueAt: string | null;
  reminderDueTimes: string[];
  retrospectiveDueAt: string | null;
  retrospective: Retrospective | null;
  /** The latest escalation a passed decision SLA started, if any. */
  escalationId: string | null;
};

/** Projects the state into its read-only view. */
export function toView(state: ChangeRequestState): ChangeRequestView {
  const { policy: _policy, ...rest } = state;
  return {
    ...rest,
    requiredRoles: requiredRoles(state),
    pendingRoles: pendingRoles(state),
    requiredEvidence: requiredEvidenceFor(classRule(state), state.touches),
    missingEvidence: missingEvidence(state),
    slaDueAt: slaDueAt(state),
    reminderDueTimes: reminderDueTimes(state),
    retrospectiveDueAt: retrospectiveDueAt(state),
    retrospective: state.retrospective ?? null,
    escalations: state.escalations ?? [],
    escalationId: state.escalations?.at(-1)?.escalationId ?? null,
  };
}
