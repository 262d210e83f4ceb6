import { WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { SYSTEM_ACTOR, type RolloutRecordEvent, type RolloutWrite } from '../../../activities/rollout';
import { ClearwayError } from '../../../errors';
import { rolloutWorkflowId } from '../../../workflows/rollout';
import { findRollout } from '../../rollouts';
import { defineRoute } from '../../define-route';
import { z } from '../../schemas';
import { HistoryEntry } from '../change-requests/history';
import { RolloutParams } from './schemas';

const EventType = temporal.api.enums.v1.EventType;

export const RolloutHistory = z
  .object({ workflowId: z.string(), entries: z.array(HistoryEntry) })
  .openapi('RolloutHistory');

function describe(e: RolloutRecordEvent): string {
  switch (e.type) {
    case 'STARTED':
      return `started in phase ${e.phase} for change request ${e.changeRequestId} under plan ${e.policyVersion}`;
    case 'ADVANCED':
      return `advanced from ${e.from} to ${e.to} with the gate passing`;
    case 'OVERRIDDEN':
      return `overrode ${e.overrode.join(', ') || 'nothing'} from ${e.from} to ${e.to ?? 'completion'}: ${e.reason}`;
    case 'COMPLETED':
      return `completed after phase ${e.phase}`;
    case 'HELD':
      return `held: ${e.reason}`;
    case 'RESUMED':
      return 'resumed';
    case 'ROLLED_BACK':
      return `rolled back from ${e.from} to ${e.to ?? 'the start'}: ${e.reason}`;
    case 'ROLLBACK_STEP':
      return `rollback step "${e.step}" (${e.action}) of ${e.phase}: ${e.outcome.outcome}, ${e.outcome.detail}`;
    case 'ADVANCE_REFUSED':
      return `advance refused (${e.code}): ${e.message}`;
    case 'REVIEW_OPENED':
      return `data-stewardship review ${e.review} of ${e.phase} opened at error rate ${e.value}, due ${e.dueAt}`;
    case 'REVIEW_OVERDUE':
      return `review ${e.review} overdue${e.escalationId ? `; escalated as ${e.escalationId}` : ''}`;
    case 'REVIEW_CLOSED':
      return `review ${e.review} closed with ${e.decision}: ${e.findings}`;
    case 'MEASUREMENTS_REJECTED':
      return `measurement batch ${e.batchId} of ${e.count} rejected: ${e.reason}`;
  }
}

/** The rollout's story from its workflow history: every event it recorded, who caused it, and when. */
export function readableRolloutHistory(events: temporal.api.history.v1.IHistoryEvent[]): HistoryEntry[] {
  const entries: HistoryEntry[] = [];
  for (const event of events) {
    if (event.eventType !== EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) continue;
    const attrs = event.activityTaskScheduledEventAttributes;
    const payload = attrs?.input?.payloads?.[0];
    if (!payload || attrs?.activityType?.name !== 'projectRollout') continue;
    const write = defaultPayloadConverter.fromPayload<RolloutWrite>(payload);
    for (const e of write.events) {
      const who = 'by' in e ? e.by : SYSTEM_ACTOR;
      entries.push({ eventId: String(event.eventId ?? ''), type: e.type, time: e.at, who, what: describe(e) });
    }
  }
  return entries;
}

/** GET /api/v1/rollouts/{id}/history: the workflow's history as readable entries (type, time, who, what). */
export const rolloutHistoryRoute = defineRoute({
  method: 'get',
  path: '/api/v1/rollouts/{id}/history',
  summary: 'What happened to a rollout, from its workflow history',
  tags: ['rollouts'],
  params: RolloutParams,
  response: RolloutHistory,
  async handler({ params, deps }) {
    await findRollout(deps, params.id);
    const workflowId = rolloutWorkflowId(params.id);
    try {
      const history = await deps.temporal().workflow.getHandle(workflowId).fetchHistory();
      return { workflowId, entries: readableRolloutHistory(history.events ?? []) };
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) {
        throw new ClearwayError('NOT_FOUND', `the history of rollout ${params.id} is no longer retained`);
      }
      throw e;
    }
  },
});
