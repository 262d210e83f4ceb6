import * as wf from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import { ApplicationFailure } from '@temporalio/workflow';
import type { EscalationActivities, EscalationRecordEvent } from '../activities/escalation';
import type { Notification } from '../activities/notifier';
import type { Actor } from '../domain/actor';
import { cycleOf } from '../domain/cost-routing';
import {
  acknowledge,
  addCost,
  checkWindows,
  currentStep,
  escalate,
  isResponder,
  nextBreachAt,
  openEscalation,
  reassign,
  recordOccurrence,
  reminderDueTimes,
  reopen,
  reopenableUntil,
  resolve,
  responsibleParty,
  stepTimings,
  toView,
  type EscalationResult,
  type EscalationSource,
  type EscalationState,
  type EscalationView,
  type Party,
} from '../domain/escalation';
import type { EscalationPolicy } from '../domain/escalation-policy';
import { refuse } from '../domain/result';
import { isRole } from '../domain/roles';

/** How an escalation is started: by the API, by another workflow as a child, or by signal-with-start. */
export type EscalationStart = {
  /** Caller-given deduplication key; the workflow id is `escalationWorkflowId(key)`. */
  key: string;
  /** A ladder name of the escalation policy (`normal`, `critical`, ...). */
  severity: string;
  title: string;
  owner: Party;
  /** Who raised it (a user id, or e.g. `workflow:cr-123`). */
  by: string;
  source?: EscalationSource;
  /** Id of the report that started it; the signal sent along by signal-with-start carries it and is not recounted. */
  reportId?: string;
  /** A policy to use instead of the configured one (tests, callers pinning a version). */
  policy?: { policy: EscalationPolicy; version: string };
  /** When started as a child: the signal the parent receives with an `EscalationOutcome` on resolve and reopen. */
  parentSignal?: string;
  /** Internal: state handed over by continue-as-new. */
  carried?: Carried;
};

/** Another report of the same issue; `reportId` lets the report that started the workflow be recognised. */
export type EscalationReport = { by: string; reportId?: string };

/** What a parent workflow is told when its escalation is resolved or reopened. */
export type EscalationOutcome = {
  escalationId: string;
  status: EscalationView['status'];
  level: number;
  resolution: EscalationView['resolution'];
};

export type AcknowledgeInput = { actor: Actor };
export type ResolveInput = { actor: Actor; note: string };
/** `to` carries the target user's roles, looked up by the caller, so the validator can check them. */
export type ReassignInput = { actor: Actor; to: Actor; reason?: string };
export type EscalateInput = { actor: Actor; reason: string; toLevel?: number };
export type AddCostInput = { actor: Actor; amount: number; currency: string; note: string };
export type ReopenInput = { actor: Actor; reason: string };

export const reportEscalation = wf.defineSignal<[EscalationReport]>('report');
export const escalationView = wf.defineQuery<EscalationView>('view');
export const acknowledgeEscalation = wf.defineUpdate<EscalationView, [AcknowledgeInput]>('acknowledge');
export const resolveEscalation = wf.defineUpdate<EscalationView, [ResolveInput]>('resolve');
export const reassignEscalation = wf.defineUpdate<EscalationView, [ReassignInput]>('reassign');
export const escalateEscalation = wf.defineUpdate<EscalationView, [EscalateInput]>('escalate');
export const addEscalationCost = wf.defineUpdate<EscalationView, [AddCostInput]>('add-cost');
export const reopenEscalation = wf.defineUpdate<EscalationView, [ReopenInput]>('reopen');

/** The workflow id of the escalation reported under `key`: the key is the business identity, so starts dedupe. */
export function escalationWorkflowId(key: string): string {
  return `esc-${key}`;
}

type ReminderCursor = { window: string; sent: number };
type Carried = { state: EscalationState; seq: number; reminders: ReminderCursor; startReportId: string | null };
type Pending = {
  seq: number;
  view: EscalationView;
  events: EscalationRecordEvent[];
  notifications: Notification[];
  timings: ReturnType<typeof stepTimings>;
};

const acts = wf.proxyActivities<EscalationActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

// Past this many events the run hands its state to a fresh one: a top-level SLA breach reminds forever.
const HISTORY_LIMIT = 5_000;

function describe(party: Party): string {
  return 'role' in party ? `role:${party.role}` : `user:${party.user}`;
}

function fail(code: string, message: string, details?: unknown): never {
  throw ApplicationFailure.create({ type: code, message, nonRetryable: true, details: details ? [details] : [] });
}

function check(result: EscalationResult): void {
  if (!result.ok) fail(result.code, result.message, result.details);
}

// Update arguments come from any client, so their shape is checked before the domain sees them.
function requireActor(actor: unknown, name = 'actor'): asserts actor is Actor {
  const a = actor as Partial<Actor> | null | undefined;
  if (
    typeof a?.id !== 'string' ||
    a.id === '' ||
    !Array.isArray(a.roles) ||
    !a.roles.every((r) => typeof r === 'string' && isRole(r))
  ) {
    fail('VALIDATION_FAILED', `${name}: an id and a list of known roles are required`);
  }
}

function now(): string {
  return new Date(Date.now()).toISOString();
}

/**
 * Books a cost. Whoever answers at the current level may, as may the owner and the roles costs are routed to;
 * `others` is what the rest of the cycle already holds.
 */
function bookCost(state: EscalationState, a: AddCostInput, at: string, others: number): EscalationResult {
  const { owner, costRouting } = state;
  const allowed =
    isResponder(state, a.actor) ||
    ('user' in owner ? owner.user === a.actor.id : a.actor.roles.includes(owner.role)) ||
    a.actor.roles.includes(costRouting.below) ||
    a.actor.roles.includes(costRouting.atOrAbove);
  if (!allowed) {
    return refuse('ROLE_REQUIRED', `${a.actor.id} may not book costs on escalation ${state.id}`, {
      requiredAnyOf: [costRouting.below, costRouting.atOrAbove, 'owner', 'responder'],
    });
  }
  const entry = { amount: a.amount, currency: a.currency, note: String(a.note ?? ''), by: a.actor.id, at };
  return addCost(state, entry, { otherCostsInCycleCents: others });
}

function notificationsFor(state: EscalationState, seq: number, events: EscalationRecordEvent[]): Notification[] {
  const base = (i: number, kind: string, to: Party, text: string, at: string): Notification => ({
    dedupeKey: `${state.id}#${seq}.${i}`,
    kind,
    subjectType: 'escalation',
    subjectId: state.id,
    to: describe(to),
    text: `[${state.severity}] ${state.title}: ${text}`,
    at,
  });
  return events.flatMap((e, i): Notification[] => {
    switch (e.type) {
      case 'OPENED':
        return [base(i, 'escalation.opened', e.notify, `opened at level 1; you are responsible`, e.at)];
      case 'CLIMBED':
        return [
          base(
            i,
            'escalation.climbed',
            e.notify,
            `climbed to level ${e.to}: ${describe(e.failedToRespond)} did not ${e.window} in time`,
            e.at,
          ),
        ];
      case 'ESCALATED':
        return [base(i, 'escalation.escalated', e.notify, `escalated to level ${e.to} by ${e.by}: ${e.reason}`, e.at)];
      case 'LEVEL_REPEATED':
        return [
          base(i, 'escalation.repeated', e.failedToRespond, `the ${e.window} window passed; notified again`, e.at),
        ];
      case 'SLA_BREACHED':
        return [
          base(i, 'escalation.sla-breached', e.failedToRespond, `SLA breached at the top level (${e.count})`, e.at),
        ];
      case 'REASSIGNED':
        return [base(i, 'escalation.reassigned', { user: e.to }, `reassigned to you by ${e.by}`, e.at)];
      case 'REOPENED':
        return [base(i, 'escalation.reopened', e.notify, `reopened by ${e.by}: ${e.reason}`, e.at)];
      case 'COST_ROUTED':
        return [base(i, 'escalation.cost-routed', { role: e.to }, `cycle ${e.cycle} costs now route to ${e.to}`, e.at)];
      case 'REMINDED':
        return [base(i, 'escalation.reminder', e.to, `reminder: level ${e.level} is waiting on you`, e.at)];
      default:
        return [];
    }
  });
}

/**
 * One issue climbing its ladder. Deterministic: all time is workflow time, all I/O is in activities. Every change
 * is queued with a sequence number and written by the main loop alone, in order; an update returns once its change
 * is written, so a caller reading the projection afterwards sees it.
 */
export async function escalation(input: EscalationStart): Promise<EscalationView> {
  const id = wf.workflowInfo().workflowId;
  const queue: Pending[] = [];
  let projected = 0;
  let seq = 0;
  let state!: EscalationState;
  let ready = false;
  let reminders: ReminderCursor = { window: '', sent: 0 };
  const startReportId = input.carried?.startReportId ?? input.reportId ?? null;

  const commit = (next: EscalationState, events: EscalationRecordEvent[]): number => {
    state = next;
    if (events.length === 0) return seq;
    seq += 1;
    queue.push({
      seq,
      view: toView(state),
      events,
      notifications: notificationsFor(state, seq, events),
      timings: stepTimings(state),
    });
    return seq;
  };

  const settle = async (result: EscalationResult): Promise<EscalationView> => {
    if (!result.ok) fail(result.code, result.message, result.details);
    const mine = commit(result.state, result.events);
    await wf.condition(() => projected >= mine);
    return toView(state);
  };

  // Updates are registered before the policy is read, because the SDK rejects an update that finds no handler by
  // the end of its activation. Until the state exists a validator lets a well-formed update through and its handler
  // waits, then refuses it the same way.
  const handle = <A extends { actor: Actor }>(
    def: UpdateDefinition<EscalationView, [A], string>,
    transition: (s: EscalationState, a: A, at: string) => EscalationResult,
    shape: (a: A) => void = () => undefined,
  ) =>
    wf.setHandler(
      def,
      async (a) => {
        await wf.condition(() => ready);
        return settle(transition(state, a, now()));
      },
      {
        validator: (a) => {
          requireActor(a?.actor);
          shape(a);
          if (ready) check(transition(state, a, now()));
        },
      },
    );

  handle(acknowledgeEscalation, (s, a, at) => acknowledge(s, { actor: a.actor, at }));
  handle(resolveEscalation, (s, a, at) => resolve(s, { actor: a.actor, note: String(a.note ?? ''), at }));
  handle(
    reassignEscalation,
    (s, a, at) => reassign(s, { actor: a.actor, to: a.to, reason: a.reason, at }),
    (a) => requireActor(a.to, 'to'),
  );
  handle(escalateEscalation, (s, a, at) =>
    escalate(s, { actor: a.actor, reason: String(a.reason ?? ''), toLevel: a.toLevel, at }),
  );
  handle(reopenEscalation, (s, a, at) => reopen(s, { actor: a.actor, reason: String(a.reason ?? ''), at }));
  wf.setHandler(
    addEscalationCost,
    async (a) => {
      await wf.condition(() => ready);
      const at = now();
      const cycle = cycleOf(at, state.costRouting.cycle).key;
      // The route follows the cycle's sum across all escalations, which only the database knows.
      const others = await acts.otherCycleCostsCents({ escalationId: id, currency: a.currency, cycle });
      return settle(bookCost(state, a, at, others));
    },
    {
      validator: (a) => {
        requireActor(a?.actor);
        if (ready) check(bookCost(state, a, now(), 0));
      },
    },
  );

  if (input.carried) {
    ({ state, seq, reminders } = input.carried);
    projected = seq;
  } else {
    const policy = input.policy ?? (await acts.escalationPolicy());
    const parent = wf.workflowInfo().parent;
    const opened = openEscalation({
      id,
      key: input.key,
      severity: input.severity,
      title: input.title,
      owner: input.owner,
      source: input.source ?? (parent ? { kind: 'workflow', ref: parent.workflowId } : { kind: 'api' }),
      by: input.by,
      at: now(),
      policy: policy.policy,
      policyVersion: policy.version,
    });
    if (!opened.ok) fail(opened.code, opened.message, opened.details);
    commit(opened.state, opened.events);
  }
  ready = true;

  wf.setHandler(escalationView, () => toView(state));
  wf.setHandler(reportEscalation, (report) => {
    if (startReportId !== null && report?.reportId === startReportId) return;
    const by = typeof report?.by === 'string' ? report.by : 'unknown';
    if (state.status === 'resolved') {
      commit(state, [{ type: 'REPORTED_WHILE_RESOLVED', at: now(), by }]);
      return;
    }
    const result = recordOccurrence(state, now());
    if (result.ok) commit(result.state, result.events);
  });

  const dueReminderTimes = (): string[] => {
    const window = `${state.steps.length}|${currentStep(state).windowStartedAt}`;
    if (reminders.window !== window) reminders = { window, sent: 0 };
    return reminderDueTimes(state).slice(reminders.sent);
  };

  // Applies every breach and reminder due by now; after downtime this catches up in order.
  const advance = () => {
    for (let i = 0; i < 10_000; i++) {
      const result = checkWindows(state, now());
      if (!result.ok || result.events.length === 0) break;
      commit(result.state, result.events);
    }
    const due = dueReminderTimes().filter((t) => Date.parse(t) <= Date.now());
    if (due.length > 0) {
      reminders = { ...reminders, sent: reminders.sent + due.length };
      const to = responsibleParty(state);
      // Only the latest reminder is sent: after a pause, one nudge is enough.
      commit(state, [{ type: 'REMINDED', at: now(), level: state.level, to, dueAt: due[due.length - 1] }]);
    }
  };

  const nextWake = (): number => {
    const times = [nextBreachAt(state), dueReminderTimes()[0] ?? null, reopenableUntil(state)];
    return Math.min(...times.filter((t): t is string => t !== null).map((t) => Date.parse(t)));
  };

  let toldParent: string | null = null;
  const tellParent = async () => {
    const parent = wf.workflowInfo().parent;
    if (!input.parentSignal || !parent) return;
    const status = state.status === 'resolved' ? 'resolved' : state.reopenCount > 0 ? 'reopened' : null;
    const mark = status && `${status}:${state.reopenCount}`;
    if (!mark || mark === toldParent) return;
    toldParent = mark;
    const outcome: EscalationOutcome = {
      escalationId: id,
      status: state.status,
      level: state.level,
      resolution: state.resolution,
    };
    try {
      await wf.getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(input.parentSignal, outcome);
    } catch (err) {
      // A parent that has closed no longer needs to know; the escalation carries on regardless.
      wf.log.warn('could not signal the parent workflow', { parent: parent.workflowId, error: String(err) });
    }
  };

  const drain = async () => {
    while (queue.length > 0) {
      const next = queue[0];
      await acts.recordEscalation({ seq: next.seq, view: next.view, timings: next.timings, events: next.events });
      await Promise.all(next.notifications.map((n) => acts.notifyEscalation(n)));
      queue.shift();
      projected = next.seq;
    }
    await tellParent();
  };

  // Handlers wait for the main loop to write their change, so the loop keeps draining until they are done.
  const settleHandlers = async () => {
    await drain();
    while (!wf.allHandlersFinished()) {
      await wf.condition(() => queue.length > 0 || wf.allHandlersFinished());
      await drain();
    }
  };

  for (;;) {
    await drain();
    advance();
    if (queue.length > 0) continue;
    const until = reopenableUntil(state);
    if (until !== null && Date.now() >= Date.parse(until)) break;
    const info = wf.workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > HISTORY_LIMIT) {
      await settleHandlers();
      await wf.continueAsNew<typeof escalation>({
        ...input,
        policy: undefined,
        carried: { state, seq, reminders, startReportId },
      });
    }
    const wake = nextWake();
    if (Number.isFinite(wake)) await wf.condition(() => queue.length > 0, Math.max(1, wake - Date.now()));
    else await wf.condition(() => queue.length > 0);
  }
  await settleHandlers();
  return toView(state);
}
