import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { RolloutRecordEvent, RolloutWrite } from '../../../activities/rollout';
import { SYSTEM_ACTOR } from '../../../domain/actor';
import { ClearwayError } from '../../../errors';
import { rolloutWorkflowId } from '../../../workflows/rollout';
import { findRollout } from '../../rollouts';
import { defineRoute } from '../../define-route';
import { z } from '../../schemas';
import { nameActors } from '../../actor-names';
import { HistoryEntry } from '../change-requests/history';
import { RolloutParams } from './schemas';

const EventType = temporal.api.enums.v1.EventType;

export const RolloutHistoryEntry = HistoryEntry.extend({
  runId: z.string().openapi({ description: 'The workflow run the entry comes from (a long rollout continues as new)' }),
}).openapi('RolloutHistoryEntry');
export type RolloutHistoryEntry = z.infer<typeof RolloutHistoryEntry>;

export const RolloutHistory = z
  .object({ workflowId: z.string(), entries: z.array(RolloutHistoryEntry) })
  .openapi('RolloutHistory');

type History = { events?: temporal.api.history.v1.IHistoryEvent[] | null };

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

/** The rollout's story from one run's workflow history: every event it recorded, who caused it, and when. */
export function readableRolloutHistory(events: temporal.api.history.v1.IHistoryEvent[]): Omit<RolloutHistoryEntry, 'whoName'>[] {
  const runId = events[0]?.workflowExecutionStartedEventAttributes?.originalExecutionRunId ?? '';
  const entries: Omit<RolloutHistoryEntry, 'whoName'>[] = [];
  for (const event of events) {
    if (event.eventType !== EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) continue;
    const attrs = event.activityTaskScheduledEventAttributes;
    const payload = attrs?.input?.payloads?.[0];
    if (!payload || attrs?.activityType?.name !== 'projectRollout') continue;
    const write = defaultPayloadConverter.fromPayload<RolloutWrite>(payload);
    for (const e of write.events) {
      const who = 'by' in e ? e.by : SYSTEM_ACTOR;
      entries.push({ eventId: String(event.eventId ?? ''), runId, type: e.type, time: e.at, who, what: describe(e) });
    }
  }
  return entries;
}

/**
 * The histories of a workflow's runs, oldest first: the current run's, then each run it continued from, back to the
 * first or to the oldest still retained.
 */
export async function runHistories(client: Client, workflowId: string): Promise<History[]> {
  const runs: History[] = [await client.workflow.getHandle(workflowId).fetchHistory()];
  for (;;) {
    const previous = runs[0].events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!previous) return runs;
    try {
      runs.unshift(await client.workflow.getHandle(workflowId, previous).fetchHistory());
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return runs;
      throw e;
    }
  }
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
      const runs = await runHistories(deps.temporal(), workflowId);
      return { workflowId, entries: await nameActors(deps.prisma, runs.flatMap((run) => readableRolloutHistory(run.events ?? []))) };
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) {
        throw new ClearwayError('NOT_FOUND', `the history of rollout ${params.id} is no longer retained`);
      }
      throw e;
    }
  },
});
