// The change-control board's review of one change request. The domain decides every step; this file keeps its
// state durable, refuses bad updates before they reach history, runs the review clock and hands writes to activities.
import * as wf from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ApplicationFailure } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { ChangeRequestActivities, ChangeRequestWrite } from '../activities/change-request';
import type { Notification } from '../activities/notifier';
import type { Actor } from '../domain/actor';
import type { ChangeControlPolicy } from '../domain/change-request-policy';
import { optionalRolesFor, requiredRolesFor } from '../domain/change-request-policy';
import * as cr from '../domain/change-request';
import type { Role } from '../domain/roles';
import { escalation, escalationWorkflowId, type EscalationOutcome } from './escalation';
import { followResets } from './follow-resets';

/** The workflow type name clients start. */
export const CHANGE_REQUEST_WORKFLOW = 'changeRequest';

/** The workflow id of a change request: its business key. */
export function changeRequestWorkflowId(id: string): string {
  return `cr-${id}`;
}

/** What starting a change request carries; the policy travels in the input so the request never re-reads it. */
export type ChangeRequestStart = {
  id: string;
  requester: Actor;
  fields: cr.ChangeRequestFields;
  evidence?: cr.EvidenceInput[];
  policy: ChangeControlPolicy;
  policyVersion: string;
};

/** Who is acting; every update names the actor the API took from the bearer token. */
export type Acting = { actor: Actor };
export type EditInput = Acting & { patch: Partial<cr.ChangeRequestFields> };
export type EvidenceUpdateInput = Acting & { evidence: cr.EvidenceInput };
export type DecideInput = Acting & { decision: cr.DecisionKind; role: Role; reason?: string };
export type WithdrawInput = Acting & { reason?: string };
export type RetrospectiveUpdateInput = Acting & cr.RetrospectiveInput;

/** How the workflow ended. */
export type ChangeRequestOutcome = {
  id: string;
  status: cr.ChangeRequestStatus;
  round: number;
  policyVersion: string;
  closedAt: string | null;
};

export const edit = wf.defineUpdate<cr.ChangeRequestView, [EditInput]>('edit');
export const addEvidence = wf.defineUpdate<cr.ChangeRequestView, [EvidenceUpdateInput]>('addEvidence');
export const submit = wf.defineUpdate<cr.ChangeRequestView, [Acting]>('submit');
export const decide = wf.defineUpdate<cr.ChangeRequestView, [DecideInput]>('decide');
export const withdraw = wf.defineUpdate<cr.ChangeRequestView, [WithdrawInput]>('withdraw');
/** The owed retrospective review of an approved change, recorded by a holder of its owner role. */
export const recordRetrospective = wf.defineUpdate<cr.ChangeRequestView, [RetrospectiveUpdateInput]>('recordRetrospective');
/** Answers once every step accepted so far is in the database, so a caller can read its own writes. */
export const recorded = wf.defineUpdate<cr.ChangeRequestView>('recorded');
export const view = wf.defineQuery<cr.ChangeRequestView>('view');
/** Sent by the escalation a passed decision SLA started, when it is resolved or reopened. */
export const escalationSettled = wf.defineSignal<[EscalationOutcome]>('escalation-settled');

// Projection writes must land: they retry until the database answers. Notifications retry inside the notifier.
const store = wf.proxyActivities<ChangeRequestActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});
const outbox = wf.proxyActivities<ChangeRequestActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '5s', maximumAttempts: 3 },
});

const CLOSED: readonly cr.ChangeRequestStatus[] = ['approved', 'rejected', 'withdrawn', 'expired'];

function now(): string {
  return new Date().toISOString();
}

function refusal(r: cr.ChangeRequestRefusal): ApplicationFailure {
  return ApplicationFailure.create({
    type: r.code,
    message: r.message,
    nonRetryable: true,
    details: r.details === undefined ? [] : [r.details],
  });
}

/** Who may attach evidence: the requester, or anyone holding a role that votes on this request's class. */
function mayAddEvidence(state: cr.ChangeRequestState, actor: Actor): cr.ChangeRequestRefusal | null {
  if (actor.id === state.requester) return null;
  const rule = cr.classRule(state);
  const voting = [...requiredRolesFor(rule, state.touches), ...optionalRolesFor(rule, state.touches)];
  if (actor.roles.some((role) => voting.includes(role))) return null;
  return {
    ok: false,
    code: 'ROLE_REQUIRED',
    message: `only the requester or a reviewer of ${state.class} changes may add evidence`,
    details: { requiredAnyOf: voting },
  };
}

/** Who hears about an event, in what words; empty when nobody needs telling. */
function announcements(state: cr.ChangeRequestState, event: cr.ChangeRequestEvent): Omit<Notification, 'dedupeKey'>[] {
  const about = (kind: string, to: string[], text: string, data: Record<string, unknown> = {}) =>
    to.map((recipient) => ({
      kind,
      subjectType: 'change-request',
      subjectId: state.id,
      to: recipient,
      text,
      at: event.at,
      data: { title: state.title, ...data },
    }));
  const requester = [`user:${state.requester}`];
  const name = `change request "${state.title}"`;
  switch (event.type) {
    case 'SUBMITTED':
      return about(
        'cr.submitted',
        cr.pendingRoles(state).map((role) => `role:${role}`),
        `${name} awaits your decision by ${event.slaDueAt}`,
        { round: event.round, slaDueAt: event.slaDueAt },
      );
    case 'SLA_BREACHED':
      return about(
        'cr.sla-breached',
        [...event.pendingRoles.map((role) => `role:${role}`), ...requester],
        `${name} passed its decision deadline ${event.dueAt}`,
        { round: event.round, dueAt: event.dueAt, pendingRoles: event.pendingRoles, onBreach: event.onBreach },
      );
    case 'APPROVED':
      return about('cr.approved', requester, `${name} is approved`, { round: event.round });
    case 'RETROSPECTIVE_OVERDUE':
      return about(
        'cr.retrospective-overdue',
        [`role:${event.owner}`, ...requester],
        `the retrospective review of ${name} was due ${event.dueAt} and is not recorded`,
        { dueAt: event.dueAt, onOverdue: event.onOverdue },
      );
    case 'RETROSPECTIVE_RECORDED':
      return about(
        'cr.retrospective-recorded',
        requester,
        `the retrospective review of ${name} is recorded: ${event.outcome === 'ratified' ? 'ratified' : 'follow-up required'}`,
        { by: event.by, outcome: event.outcome },
      );
    case 'REJECTED':
      return about('cr.rejected', requester, `${name} is rejected: ${event.reason}`, { by: event.by });
    case 'CHANGES_REQUESTED':
      return about('cr.changes-requested', requester, `${name} needs changes: ${event.reason}`, { by: event.by });
    case 'EXPIRED':
      return about('cr.expired', requester, `${name} expired without a decision`, { round: event.round });
    case 'ESCALATION_STARTED':
      return about(
        'cr.escalated',
        requester,
        `${name} is escalated (${event.escalationId}) for its late ${event.cause === 'retrospective' ? 'retrospective review' : 'decision'}`,
        { round: event.round, escalationId: event.escalationId, ...(event.cause ? { cause: event.cause } : {}) },
      );
    default:
      return [];
  }
}

// Histories recorded before a passed SLA started an escalation must replay without the child.
const SLA_ESCALATION_PATCH = 'cr-sla-escalation';
const EDIT_KEEPS_DEMANDS_PATCH = 'cr-edit-keeps-demands';
const EVIDENCE_CAP_PATCH = 'cr-evidence-cap';
// Histories whose breach was written before the expiry that followed it replay in two steps.
const BREACH_EXPIRES_AT_ONCE_PATCH = 'cr-breach-expires-at-once';
// Histories of approvals that owed a retrospective review ended at the approval; newer ones wait for the review.
const RETROSPECTIVE_REVIEW_PATCH = 'cr-retrospective-review';

/** The escalation key of a round's passed decision SLA: one escalation per round, whatever retries happen. */
export function slaEscalationKey(workflowId: string, round: number): string {
  return `${workflowId}-round-${round}-sla`;
}

/** The escalation key of an approved change's overdue retrospective review: one per request. */
export function retrospectiveEscalationKey(workflowId: string): string {
  return `${workflowId}-retrospective`;
}

/**
 * Starts an escalation on `ladder` about this request as a child, under `key` so it is started once (an escalation
 * that already ran under the key is linked instead). The child outlives the request (ABANDON): a late decision or
 * review is answered for even if it comes meanwhile. It names the request as its subject and signals back when
 * resolved or reopened. Resolves with the escalation's id.
 */
async function startEscalation(
  about: { key: string; ladder: string; owner: Role; title: string },
  state: cr.ChangeRequestState,
  workflowId: string,
): Promise<string> {
  const escalationId = escalationWorkflowId(about.key);
  try {
    await wf.startChild(escalation, {
      workflowId: escalationId,
      args: [
        {
          key: about.key,
          severity: about.ladder,
          title: about.title,
          owner: { role: about.owner },
          by: `workflow:${workflowId}`,
          source: { kind: 'workflow', ref: workflowId },
          subject: { type: 'change-request', id: state.id },
          parentSignal: escalationSettled.name,
        },
      ],
      parentClosePolicy: 'ABANDON',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
  }
  return escalationId;
}

/** One change request from draft to a final decision, under the policy version it was opened with. */
export async function changeRequest(input: ChangeRequestStart): Promise<ChangeRequestOutcome> {
  const opened = cr.openChangeRequest({
    id: input.id,
    by: input.requester.id,
    at: now(),
    fields: input.fields,
    evidence: input.evidence,
    policy: input.policy,
    policyVersion: input.policyVersion,
  });
  if (!opened.ok) throw refusal(opened);

  let state = opened.state;
  let revision = 0;
  let writes: Promise<unknown> = Promise.resolve();
  let notifying = 0;
  const workflowId = wf.workflowInfo().workflowId;

  const notify = (n: Notification) => {
    notifying++;
    void outbox
      .notifyChangeRequest(n)
      .catch((err: unknown) => wf.log.warn('notification failed', { crId: state.id, kind: n.kind, err: String(err) }))
      .finally(() => notifying--);
  };

  // Writes run one after another in revision order, so the projection and the audit trail follow the history.
  const record = (events: cr.ChangeRequestEvent[]): { write: ChangeRequestWrite; written: Promise<unknown> } => {
    revision++;
    const write: ChangeRequestWrite = { revision, view: cr.toView(state), events };
    const written = writes.then(() => watch(store.recordChangeRequest(write)));
    writes = written;
    return { write, written };
  };
  const watch = followResets(() => void record([]));
  const commit = (result: { state: cr.ChangeRequestState; events: cr.ChangeRequestEvent[] }): Promise<unknown> => {
    state = result.state;
    if (result.events.length === 0) return writes;
    const after = state;
    const { write, written } = record(result.events);
    void written.then(() => {
      for (const event of result.events) {
        for (const note of announcements(after, event)) {
          notify({ ...note, dedupeKey: `${workflowId}#${write.revision}.${note.kind}.${note.to}` });
        }
      }
    });
    return written;
  };

  // Every update validates against the current state and writes nothing when refused; the handler repeats the same
  // pure step (it cannot differ: no await separates the two) and waits for its write before answering.
  const step = <A extends Acting>(op: (s: cr.ChangeRequestState, arg: A) => cr.ChangeRequestResult) => ({
    validator(arg: A) {
      const result = op(state, arg);
      if (!result.ok) throw refusal(result);
    },
    async handler(arg: A): Promise<cr.ChangeRequestView> {
      const result = op(state, arg);
      if (!result.ok) throw refusal(result);
      await commit(result);
      return cr.toView(result.state);
    },
  });
  const handle = <A extends Acting>(
    update: UpdateDefinition<cr.ChangeRequestView, [A], string>,
    op: (s: cr.ChangeRequestState, arg: A) => cr.ChangeRequestResult,
  ) => {
    const { validator, handler } = step(op);
    wf.setHandler(update, handler, { validator });
  };

  // Updates sent with the start are dispatched as soon as their handler is set, so the opening write must be queued
  // first: it takes revision 1 and every update's write follows it.
  const openedWritten = commit(opened);
  // Asked once, before any update: histories of requests opened before rework kept the review's demands, or before
  // evidence was capped, replay their updates under the rules they were accepted by.
  const keepDemands = wf.patched(EDIT_KEEPS_DEMANDS_PATCH);
  const evidenceCapped = wf.patched(EVIDENCE_CAP_PATCH);
  handle(edit, (s, { actor, patch }) => cr.editChangeRequest(s, patch, { by: actor.id, at: now() }, { keepDemands }));
  handle(
    addEvidence,
    (s, { actor, evidence }) =>
      mayAddEvidence(s, actor) ?? cr.addEvidence(s, evidence, { by: actor.id, at: now() }, { max: evidenceCapped ? cr.MAX_EVIDENCE : undefined }),
  );
  handle(submit, (s, { actor }) => cr.submitChangeRequest(s, { by: actor.id, at: now() }));
  handle(decide, (s, { actor, decision, role, reason }) =>
    cr.applyDecision(s, { decision, role, reason, by: actor.id, at: now() }, actor),
  );
  handle(withdraw, (s, { actor, reason }) => cr.withdrawChangeRequest(s, { by: actor.id, at: now(), reason }));
  handle(recordRetrospective, (s, { actor, outcome, notes }) => cr.recordRetrospective(s, { outcome, notes }, actor, now()));
  wf.setHandler(recorded, async () => {
    await writes;
    return cr.toView(state);
  });
  wf.setHandler(view, () => cr.toView(state));
  wf.setHandler(escalationSettled, (outcome) => {
    const settled = cr.settleEscalation(state, {
      escalationId: String(outcome?.escalationId ?? ''),
      status: String(outcome?.status ?? ''),
      resolution: outcome?.resolution ?? null,
      at: now(),
    });
    if (settled.ok) void commit(settled);
    else wf.log.warn('escalation outcome ignored', { crId: state.id, message: settled.message });
  });

  await openedWritten;

  const closed = () => CLOSED.includes(state.status);
  // True when the clock reached `dueAt` with `moved` still false; false as soon as `moved` holds.
  const reached = async (dueAt: string, moved: () => boolean): Promise<boolean> => {
    const ms = Date.parse(dueAt) - Date.now();
    if (ms <= 0) return !moved();
    return !(await wf.condition(moved, ms));
  };

  // Reminds the owner of an owed retrospective review on the policy's schedule, records once that it passed its
  // due time (notifying, or escalating when the policy says so) and returns when it is recorded.
  const chaseRetrospective = async (): Promise<void> => {
    const reviewed = () => cr.owedRetrospective(state) === null;
    const tellOwner = (kind: string, key: string, text: string) => {
      const owed = cr.owedRetrospective(state);
      if (owed === null) return;
      notify({
        dedupeKey: `${workflowId}#retrospective.${key}.role:${owed.owner}`,
        kind,
        subjectType: 'change-request',
        subjectId: state.id,
        to: `role:${owed.owner}`,
        text: `${text} the retrospective review of change request "${state.title}" is due by ${owed.dueAt}`,
        at: now(),
        data: { title: state.title, dueAt: owed.dueAt },
      });
    };
    // Told here rather than with the approval: histories from before reviews were tracked sent no such notice.
    tellOwner('cr.retrospective-due', 'due', 'approved on the fast path:');
    for (const at of cr.retrospectiveReminderTimes(state)) {
      if (!(await reached(at, reviewed))) break;
      tellOwner('cr.retrospective-reminder', `reminder-${at}`, 'reminder:');
    }
    const owed = cr.owedRetrospective(state);
    if (owed !== null && owed.overdueAt === null && (await reached(owed.dueAt, reviewed))) {
      const overdue = cr.markRetrospectiveOverdue(state, now());
      if (!overdue.ok) {
        wf.log.error('overdue retrospective refused', { crId: state.id, code: overdue.code, message: overdue.message });
      } else {
        await commit(overdue);
        const action = cr.overdueAction(state);
        if (action.action === 'escalate' && !reviewed()) {
          const escalationId = await startEscalation(
            {
              key: retrospectiveEscalationKey(workflowId),
              ladder: action.ladder,
              owner: action.owner ?? owed.owner,
              title: `Change request "${state.title}": its retrospective review was due ${owed.dueAt}`,
            },
            state,
            workflowId,
          );
          const link = { escalationId, round: state.round, ladder: action.ladder, at: now(), cause: 'retrospective' as const };
          const linked = cr.linkEscalation(state, link);
          if (linked.ok) await commit(linked);
          else wf.log.warn('escalation not linked', { crId: state.id, escalationId, message: linked.message });
        }
      }
    }
    await wf.condition(reviewed);
  };

  while (!closed()) {
    const round = state.round;
    const status = state.status;
    const moved = () => state.status !== status || state.round !== round;
    if (status !== 'under_review') {
      await wf.condition(moved);
      continue;
    }
    let interrupted = false;
    for (const dueAt of cr.reminderDueTimes(state)) {
      if (!(await reached(dueAt, moved))) {
        interrupted = true;
        break;
      }
      const slaDueAt = cr.slaDueAt(state);
      for (const role of cr.pendingRoles(state)) {
        notify({
          dedupeKey: `${workflowId}#round-${round}.reminder-${dueAt}.role:${role}`,
          kind: 'cr.reminder',
          subjectType: 'change-request',
          subjectId: state.id,
          to: `role:${role}`,
          text: `reminder: change request "${state.title}" awaits your decision by ${slaDueAt}`,
          at: now(),
          data: { title: state.title, round, slaDueAt },
        });
      }
    }
    if (interrupted) continue;
    const slaDueAt = cr.slaDueAt(state);
    if (slaDueAt === null || !(await reached(slaDueAt, moved))) continue;
    const breach = cr.recordSlaBreach(state, now());
    if (!breach.ok) {
      // Only a clock behind the timer gets here; waiting for the next move beats spinning on the same breach.
      wf.log.error('SLA breach refused', { crId: state.id, code: breach.code, message: breach.message });
      await wf.condition(moved);
      continue;
    }
    const action = cr.classRule(breach.state).onBreach;
    if (action.action === 'expire' && wf.patched(BREACH_EXPIRES_AT_ONCE_PATCH)) {
      // Breach and expiry are one step: no vote can land between them while the breach is being written.
      const expired = cr.expireChangeRequest(breach.state, now());
      await commit(expired.ok ? { state: expired.state, events: [...breach.events, ...expired.events] } : breach);
      continue;
    }
    await commit(breach);
    if (action.action === 'expire') {
      const expired = cr.expireChangeRequest(state, now());
      if (expired.ok) await commit(expired);
      continue;
    }
    // A decision may have closed the round while the breach was being written; then there is nothing to escalate.
    if (!moved() && wf.patched(SLA_ESCALATION_PATCH)) {
      const escalationId = await startEscalation(
        {
          key: slaEscalationKey(workflowId, round),
          ladder: action.ladder,
          owner: action.owner ?? 'ccb-chair',
          title: `Change request "${state.title}" has no decision: round ${round} passed its deadline`,
        },
        state,
        workflowId,
      );
      const linked = cr.linkEscalation(state, { escalationId, round, ladder: action.ladder, at: now() });
      if (linked.ok) await commit(linked);
      else wf.log.warn('escalation not linked', { crId: state.id, escalationId, message: linked.message });
    }
    await wf.condition(moved);
  }

  // An approval that owes a retrospective review keeps the request's workflow open until the review is recorded.
  if (cr.owedRetrospective(state) !== null && wf.patched(RETROSPECTIVE_REVIEW_PATCH)) {
    await chaseRetrospective();
  }

  await wf.condition(wf.allHandlersFinished);
  await writes;
  await wf.condition(() => notifying === 0);
  return {
    id: state.id,
    status: state.status,
    round: state.round,
    policyVersion: state.policyVersion,
    closedAt: state.closedAt,
  };
}
