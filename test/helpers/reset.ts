// Resetting a workflow as an operator would (temporal workflow reset), for suites that check a process follows it.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

/** Whether the event completed a workflow task, i.e. is a point a reset may go back to. */
export const isTaskCompleted = (e: HistoryEvent) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED;

/** The workflow task completed right after the run's `nth` completed update (0: the first). */
export function afterUpdate(nth: number): (events: HistoryEvent[]) => HistoryEvent {
  return (events) => {
    const updates = events.flatMap((e, i) => (e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED ? [i] : []));
    return events.slice(updates[nth]).find(isTaskCompleted)!;
  };
}

/** Resets a run to the workflow task `pick` chooses in its history and answers the new run's id. */
export async function resetTo(
  client: Client,
  workflowId: string,
  runId: string,
  pick: (events: HistoryEvent[]) => HistoryEvent,
): Promise<string> {
  const events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
  const { runId: newRunId } = await client.workflowService.resetWorkflowExecution({
    namespace: 'default',
    workflowExecution: { workflowId, runId },
    workflowTaskFinishEventId: pick(events).eventId,
    reason: 'back to the review',
    requestId: randomUUID(),
  });
  return newRunId!;
}

/** What `read` answers once `ok` holds, polled every 50 ms; after `ms` the last answer, whatever it is. */
export async function whenHolds<T>(read: () => Promise<T>, ok: (value: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
