import { WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { ChangeRequestWrite } from '../../../activities/change-request';
import { SYSTEM_ACTOR } from '../../../domain/actor';
import type { Notification } from '../../../activities/notifier';
import type { ChangeRequestEvent, ChangeRequestView } from '../../../domain/change-request';
import { ClearwayError } from '../../../errors';
import { changeRequestWorkflowId, type ChangeRequestOutcome } from '../../../workflows/change-request';
import { nameActors } from '../../actor-names';
import { findChangeRequest } from '../../change-requests';
import { defineRoute } from '../../define-route';
import { z } from '../../schemas';
import { ChangeRequestParams } from './schemas';

const EventType = temporal.api.enums.v1.EventType;
const WorkflowTaskFailedCause = temporal.api.enums.v1.WorkflowTaskFailedCause;

export const HistoryEntry = z
  .object({
    eventId: z.string().openapi({ description: 'Id of the workflow history event the entry comes from' }),
    type: z.string(),
    time: z.iso.datetime(),
    who: z.string().openapi({ description: 'Id of the user who did it, or system:clearway' }),
    whoName: z.string().nullable().openapi({ description: 'That user’s name; null for the system or a removed user' }),
    what: z.string(),
  })
  .openapi('HistoryEntry');
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export const ChangeRequestHistory = z
  .object({ workflowId: z.string(), entries: z.array(HistoryEntry) })
  .openapi('ChangeRequestHistory');

type Fields = Pick<ChangeRequestView, 'title' | 'description' | 'class' | 'risk' | 'affectedSystems' | 'touches'>;

/** How a field read before and after an edit; a description only says it changed (it may be pages long). */
function change(field: keyof Fields, before: Fields | null, after: Fields): string {
  if (field === 'description' || !before) return field;
  const show = (v: Fields[keyof Fields]) => (Array.isArray(v) ? `[${v.join(', ')}]` : `"${v}"`);
  return `${field} ${show(before[field])} → ${show(after[field])}`;
}

function describe(e: ChangeRequestEvent, before: Fields | null, after: Fields): string {
  switch (e.type) {
    case 'OPENED':
      return `opened as ${/^[aeiou]/.test(e.class) ? 'an' : 'a'} ${e.class} change under policy ${e.policyVersion}`;
    case 'EDITED':
      return `edited ${e.fields.map((f) => change(f, before, after)).join('; ')}`;
    case 'EVIDENCE_ADDED':
      return `added ${e.evidence.kind} evidence "${e.evidence.title}"`;
    case 'SUBMITTED':
      return `submitted for review round ${e.round}; required: ${e.requiredRoles.join(', ') || 'any reviewer'}; decision due ${e.slaDueAt}`;
    case 'DECISION_RECORDED': {
      const verb = { approve: 'approved', reject: 'rejected', request_changes: 'requested changes' }[e.vote.decision];
      return `${verb} as ${e.vote.role} in round ${e.vote.round}${e.vote.reason ? `: ${e.vote.reason}` : ''}`;
    }
    case 'APPROVED':
      return `approved in round ${e.round}${e.retrospectiveDueAt ? `; retrospective review due ${e.retrospectiveDueAt}` : ''}`;
    case 'REJECTED':
      return `rejected in round ${e.round}: ${e.reason}`;
    case 'CHANGES_REQUESTED':
      return `sent back for changes in round ${e.round}: ${e.reason}`;
    case 'WITHDRAWN':
      return `withdrawn${e.reason ? `: ${e.reason}` : ''}`;
    case 'SLA_BREACHED':
      return `decision deadline ${e.dueAt} passed with ${e.pendingRoles.join(', ') || 'nobody'} pending; ${
        e.onBreach.action === 'escalate' ? `escalated to ladder ${e.onBreach.ladder}` : 'expires'
      }`;
    case 'EXPIRED':
      return `expired without a decision in round ${e.round}`;
    case 'ESCALATION_STARTED':
      return e.cause === 'retrospective'
        ? `escalation ${e.escalationId} started on ladder ${e.ladder} for the overdue retrospective review`
        : `escalation ${e.escalationId} started on ladder ${e.ladder} for round ${e.round}`;
    case 'RETROSPECTIVE_OVERDUE':
      return `retrospective review due ${e.dueAt} not recorded; ${
        e.onOverdue.action === 'escalate' ? `escalated to ladder ${e.onOverdue.ladder}` : `${e.owner} and the requester told`
      }`;
    case 'RETROSPECTIVE_RECORDED':
      return `recorded the retrospective review${e.at > e.dueAt ? ` (due ${e.dueAt})` : ''}: ${
        e.outcome === 'ratified' ? 'ratified' : 'follow-up required'
      }: ${e.notes}`;
    case 'ESCALATION_SETTLED':
      return e.status === 'resolved'
        ? `escalation ${e.escalationId} resolved${e.resolution ? ` by ${e.resolution.by}: ${e.resolution.note}` : ''}; ${
            e.cause === 'retrospective' ? 'it records no retrospective review' : 'the change still needs its decision'
          }`
        : `escalation ${e.escalationId} reopened`;
  }
}

function isoOf(ts: temporal.api.history.v1.IHistoryEvent['eventTime']): string {
  const ms = Number(ts?.seconds ?? 0) * 1000 + Math.floor((ts?.nanos ?? 0) / 1e6);
  return new Date(ms).toISOString();
}

/**
 * The readable story of a change request, from its workflow history: every domain event the workflow recorded
 * (who did what, when), each reminder sent, and how the workflow ended.
 */
export function readableHistory(events: temporal.api.history.v1.IHistoryEvent[]): Omit<HistoryEntry, 'whoName'>[] {
  const entries: Omit<HistoryEntry, 'whoName'>[] = [];
  // The view each write carried, so an edit can say what a field was before.
  let before: Fields | null = null;
  for (const event of events) {
    const eventId = String(event.eventId ?? '');
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const attrs = event.activityTaskScheduledEventAttributes;
      const payload = attrs?.input?.payloads?.[0];
      if (!payload) continue;
      if (attrs?.activityType?.name === 'recordChangeRequest') {
        const write = defaultPayloadConverter.fromPayload<ChangeRequestWrite>(payload);
        for (const e of write.events) {
          entries.push({ eventId, type: e.type, time: e.at, who: 'by' in e ? e.by : SYSTEM_ACTOR, what: describe(e, before, write.view) });
        }
        before = write.view;
      } else if (attrs?.activityType?.name === 'notifyChangeRequest') {
        const n = defaultPayloadConverter.fromPayload<Notification>(payload);
        if (n.kind !== 'cr.reminder') continue;
        entries.push({ eventId, type: 'REMINDER_SENT', time: n.at, who: SYSTEM_ACTOR, what: `reminded ${n.to}` });
      }
    } else if (
      event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED &&
      event.workflowTaskFailedEventAttributes?.cause === WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW
    ) {
      // What follows in the ended run is gone from this history; the audit trail keeps it.
      const attrs = event.workflowTaskFailedEventAttributes;
      const reason = attrs.failure?.message;
      entries.push({
        eventId,
        type: 'RESET',
        time: isoOf(event.eventTime),
        who: attrs.identity || SYSTEM_ACTOR,
        what: `reset to here from run ${attrs.baseRunId}${reason ? `: ${reason}` : ''}`,
      });
    } else if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED) {
      const payload = event.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0];
      const outcome = payload ? defaultPayloadConverter.fromPayload<ChangeRequestOutcome>(payload) : null;
      entries.push({
        eventId,
        type: 'CLOSED',
        time: isoOf(event.eventTime),
        who: SYSTEM_ACTOR,
        what: `review closed as ${outcome?.status ?? 'unknown'}`,
      });
    } else if (
      event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED ||
      event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED
    ) {
      entries.push({ eventId, type: 'ENDED', time: isoOf(event.eventTime), who: SYSTEM_ACTOR, what: 'workflow ended abnormally' });
    }
  }
  return entries;
}

/** GET /api/v1/change-requests/{id}/history: the workflow's history as readable entries (type, time, who, what). */
export const changeRequestHistoryRoute = defineRoute({
  method: 'get',
  path: '/api/v1/change-requests/{id}/history',
  summary: 'What happened to a change request, from its workflow history',
  tags: ['change-requests'],
  params: ChangeRequestParams,
  response: ChangeRequestHistory,
  errors: ['NOT_FOUND'],
  async handler({ params, deps }) {
    await findChangeRequest(deps, params.id);
    const workflowId = changeRequestWorkflowId(params.id);
    try {
      const history = await deps.temporal().workflow.getHandle(workflowId).fetchHistory();
      return { workflowId, entries: await nameActors(deps.prisma, readableHistory(history.events ?? [])) };
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) {
        throw new ClearwayError('NOT_FOUND', `the history of change request ${params.id} is no longer retained`);
      }
      throw e;
    }
  },
});
