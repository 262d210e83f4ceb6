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
  type EscalationSubject,
  type CycleLedger,
  type EscalationView,
  type Party,
} from '../domain/escalation';
import type { EscalationPolicy } from '../domain/escalation-policy';
import { refuse } from '../domain/result';
import { isRole } from '../domain/roles';
import { followResets } from './follow-resets';

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
  /** The record the issue is about, e.g. `{ type: 'change-request', id }`; shown on the escalation. */
  subject?: EscalationSubject;
  /** Id of the report that started it; the signal sent along by signal-with-start carries it and is not recounted. */
  reportId?: string;
  /** A policy to use instead of the configured one (tests, callers pinning a version). */
  policy?: { policy: EscalationPolicy; version: string };
  /** When started as a child: the signal the parent receives with an `EscalationOutcome` on resolve and reopen. */
  parentSignal?: string;
  /** History length past which a run hands its state to a fresh one; 5,000 events unless given. */
  historyLimit?: number;
  /** Internal: state handed over by continue-as-new. */
  carried?: Carried;
};

/**
 * Another report of the same issue. `reportId` identifies the report: the one that started the workflow, or one
 * delivered twice, is recognised and not counted again, and `reportReceipt` answers what became of it.
 */
export type EscalationReport = { by: string; reportId?: string };

/** What became of one report: it started the escalation, counted as an occurrence, or came while it was resolved. */
export type ReportOutcome = 'started' | 'counted' | 'recorded-while-resolved';

/** The answer to `reportReceipt`: the report's outcome, whether it is written to the projection, and the view. */
export type ReportReceipt = { reportId: string; outcome: ReportOutcome; written: boolean; view: EscalationView };

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
/** What became of the report with this id; null while the workflow has not seen it (or forgot it, see REPORTS_KEPT). */
export const reportReceipt = wf.defineQuery<ReportReceipt | null, [string]>('report-receipt');
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
type SeenReport = { id: string; outcome: ReportOutcome; seq: number };
type Carried = {
  state: EscalationState;
  seq: number;
  reminders: ReminderCursor;
  startReportId: string | null;
  /** Absent in runs carried over before reports were remembered. */
  reports?: SeenReport[];
  toldParent?: string | null;
};
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
// Report ids remembered for dedupe and receipts; a delivery repeated after this many newer reports counts again.
const REPORTS_KEPT = 200;
// Costs are booked in the database ledger (bookEscalationCost) since this change; older histories read the
// other escalations' costs without a lock (otherCycleCostsCents) and must replay that way.
const COST_LEDGER_PATCH = 'escalation-cost-ledger';
// Histories recorded before the parent was signalled by workflow id alone must replay with its run id.
const PARENT_BY_ID_PATCH = 'escalation-parent-by-id';

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

/** Who may book costs: whoever answers at the current level, the owner, and the roles costs are routed to. */
function mayBookCost(state: EscalationState, a: AddCostInput): EscalationResult | null {
  const { owner, costRouting } = state;
  const allowed =
    isResponder(state, a.actor) ||
    ('user' in owner ? owner.user === a.actor.id : a.actor.roles.includes(owner.role)) ||
    a.actor.roles.includes(costRouting.below) ||
    a.actor.roles.includes(costRouting.atOrAbove);
  if (allowed) return null;
  return refuse('ROLE_REQUIRED', `${a.actor.id} may not book costs on escalation ${state.id}`, {
    requiredAnyOf: [costRouting.below, costRouting.atOrAbove, 'owner', 'responder'],
  });
}

function costOf(a: AddCostInput, at: string) {
  return { amount: a.amount, currency: a.currency, note: String(a.note ?? ''), by: a.actor.id, at };
}

/** Books a cost after checking who books it; `ledger` is what the database holds for the cycle. */
function bookCost(state: EscalationState, a: AddCostInput, at: string, ledger: CycleLedger): EscalationResult {
  return mayBookCost(state, a) ?? addCost(state, costOf(a, at), ledger);
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
    data: { severity: state.severity, level: state.level, ...(state.ladder.page ? { page: true } : {}) },
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
  let reports: SeenReport[] =
    input.carried?.reports ?? (startReportId === null ? [] : [{ id: startReportId, outcome: 'started', seq: 1 }]);
  const remember = (id: string, outcome: ReportOutcome, at: number) => {
    reports = [...reports, { id, outcome, seq: at }].slice(-REPORTS_KEPT);
  };

  const enqueue = (events: EscalationRecordEvent[]): number => {
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
  const watch = followResets(() => void enqueue([]));
  const commit = (next: EscalationState, events: EscalationRecordEvent[]): number => {
    state = next;
    if (events.length === 0) return seq;
    return enqueue(events);
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
  // Costs of one escalation are booked one at a time, so each one's position (the ledger key) is fixed before it
  // is booked and the state it is added to is the one the ledger saw.
  let booking = false;
  wf.setHandler(
    addEscalationCost,
    async (a) => {
      await wf.condition(() => ready && !booking);
      booking = true;
      try {
        const at = now();
        const cycle = cycleOf(at, state.costRouting.cycle).key;
        if (!wf.patched(COST_LEDGER_PATCH)) {
          const others = await acts.otherCycleCostsCents({ escalationId: id, currency: a.currency, cycle });
          return await settle(bookCost(state, a, at, { otherCostsInCycleCents: others }));
        }
        // Refused before anything is booked; once booked, only the ledger's total is added (no second role check,
        // which a climb during the booking could turn into a refusal of a cost already in the ledger).
        const checked = bookCost(state, a, at, { otherCostsInCycleCents: 0 });
        if (!checked.ok) return fail(checked.code, checked.message, checked.details);
        const entry = checked.state.costs[checked.state.costs.length - 1];
        // The ledger row references the escalation's projection, which the opening write creates.
        await wf.condition(() => projected >= 1);
        const { cycleTotalCents } = await acts.bookEscalationCost({
          escalationId: id,
          index: state.costs.length,
          amountCents: entry.amountCents,
          currency: entry.currency,
          note: entry.note,
          by: entry.by,
          at,
          cycle: entry.cycle,
        });
        return await settle(addCost(state, costOf(a, at), { cycleTotalCents }));
      } finally {
        booking = false;
      }
    },
    {
      validator: (a) => {
        requireActor(a?.actor);
        if (ready) check(bookCost(state, a, now(), { otherCostsInCycleCents: 0 }));
      },
    },
  );

  let toldParent: string | null = input.carried?.toldParent ?? null;
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
      subject: input.subject ?? null,
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
  wf.setHandler(reportReceipt, (reportId) => {
    const seen = reports.find((r) => r.id === reportId);
    return seen ? { reportId, outcome: seen.outcome, written: projected >= seen.seq, view: toView(state) } : null;
  });
  wf.setHandler(reportEscalation, (report) => {
    const reportId = typeof report?.reportId === 'string' && report.reportId !== '' ? report.reportId : null;
    // The start's own signal, or a delivery repeated by its sender: already counted.
    if (reportId !== null && reports.some((r) => r.id === reportId)) return;
    const by = typeof report?.by === 'string' ? report.by : 'unknown';
    let outcome: ReportOutcome;
    let at: number;
    if (state.status === 'resolved') {
      outcome = 'recorded-while-resolved';
      at = commit(state, [{ type: 'REPORTED_WHILE_RESOLVED', at: now(), by }]);
    } else {
      const result = recordOccurrence(state, now());
      if (!result.ok) return;
      outcome = 'counted';
      at = commit(result.state, result.events);
    }
    if (reportId !== null) remember(reportId, outcome, at);
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
    // A parent reset since it started this escalation goes on under a new run id; its workflow id names it still.
    const runId = wf.patched(PARENT_BY_ID_PATCH) ? undefined : parent.runId;
    try {
      await wf.getExternalWorkflowHandle(parent.workflowId, runId).signal(input.parentSignal, outcome);
    } catch (err) {
      // A parent that has closed no longer needs to know; the escalation carries on regardless.
      wf.log.warn('could not signal the parent workflow', { parent: parent.workflowId, error: String(err) });
    }
  };

  const drain = async () => {
    while (queue.length > 0) {
      const next = queue[0];
      await watch(acts.recordEscalation({ seq: next.seq, view: next.view, timings: next.timings, events: next.events }));
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
    if (info.continueAsNewSuggested || info.historyLength > (input.historyLimit ?? HISTORY_LIMIT)) {
      await settleHandlers();
      await wf.continueAsNew<typeof escalation>({
        ...input,
        policy: undefined,
        carried: { state, seq, reminders, startReportId, reports, toldParent },
      });
    }
    const wake = nextWake();
    if (Number.isFinite(wake)) await wf.condition(() => queue.length > 0, Math.max(1, wake - Date.now()));
    else await wf.condition(() => queue.length > 0);
  }
  await settleHandlers();
  return toView(state);
}
