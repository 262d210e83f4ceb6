import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { suiteHarness } from './harness';
import { activityFailure, cancelsActivity, cancelsUnstartedActivity, greet, resumesFromHeartbeat, retriesUntilSuccess } from './workflows';

const EventType = temporal.api.enums.v1.EventType;
const h = suiteHarness();

async function run<T>(fn: (...a: any[]) => Promise<T>, workflowId: string, args: unknown[] = []): Promise<T> {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  return worker.runUntil(h.client.workflow.execute(fn as any, { taskQueue: tq, workflowId, args }) as Promise<T>);
}

function eventsOf(workflowId: string) {
  const r = [...h.server.engine.runs.values()].find((x) => x.workflowId === workflowId)!;
  return r.events;
}

test('retry: when an activity fails twice and then succeeds, the workflow gets attempt 3 and the history has one started event', async () => {
  expect(await run(retriesUntilSuccess, 'retry-ok', [2])).toBe(3);
  const events = eventsOf('retry-ok');
  const started = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED);
  expect(started).toHaveLength(1);
  expect(started[0].activityTaskStartedEventAttributes!.attempt).toBe(3);
  expect(started[0].activityTaskStartedEventAttributes!.lastFailure?.message).toBe('attempt 2 failed');
});

test('retry: when attempts run out, the workflow gets an ActivityFailure with MAXIMUM_ATTEMPTS_REACHED', async () => {
  expect(await run(activityFailure, 'retry-exhausted', ['exhausted'])).toBe('MAXIMUM_ATTEMPTS_REACHED|app:AlwaysFails');
});

test('retry: when an activity fails non-retryably, it is not retried', async () => {
  expect(await run(activityFailure, 'retry-fatal', ['fatal'])).toBe('NON_RETRYABLE_FAILURE|app:Fatal');
  const failed = eventsOf('retry-fatal').find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED);
  expect(failed!.activityTaskStartedEventAttributes!.attempt).toBe(1);
});

test('timeout: when every attempt passes its start-to-close timeout, the workflow sees a START_TO_CLOSE timeout', async () => {
  expect(await run(activityFailure, 'timeout-stc', ['startToClose'])).toBe('MAXIMUM_ATTEMPTS_REACHED|timeout:START_TO_CLOSE');
});

test('timeout: when the schedule-to-close deadline passes, the workflow sees a SCHEDULE_TO_CLOSE timeout', async () => {
  expect(await run(activityFailure, 'timeout-s2c', ['scheduleToClose'])).toBe('TIMEOUT|timeout:SCHEDULE_TO_CLOSE');
});

test('heartbeat: when an attempt stops heartbeating, it times out and the next attempt resumes from its details', async () => {
  expect(await run(resumesFromHeartbeat, 'heartbeat-resume')).toBe('attempt 2 resumed from 2');
});

test('cancel: when a running activity is cancelled, it learns through its heartbeat and the workflow sees the cancellation', async () => {
  expect(await run(cancelsActivity, 'cancel-running')).toBe('activity cancelled');
  const types = eventsOf('cancel-running').map((e) => e.eventType);
  expect(types).toContain(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED);
  expect(types).toContain(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED);
});

test('cancel: when an activity that never started is cancelled, it is cancelled at once without a started event', async () => {
  expect(await run(cancelsUnstartedActivity, 'cancel-unstarted')).toBe('activity cancelled');
  const types = eventsOf('cancel-unstarted').map((e) => e.eventType);
  expect(types).toContain(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED);
  expect(types).not.toContain(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED);
});

test('complete by id: when an activity completes asynchronously by workflow and activity id, the workflow gets the result', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq, {
    activities: {
      async greet() {
        const { Context } = await import('@temporalio/activity');
        Context.current();
        const { CompleteAsyncError } = await import('@temporalio/activity');
        throw new CompleteAsyncError();
      },
    },
  });
  const result = await worker.runUntil(async () => {
    const handle = await h.client.workflow.start(greet, { taskQueue: tq, workflowId: 'async-complete', args: ['x'] });
    for (let i = 0; i < 100; i++) {
      const d = await handle.describe();
      if (d.raw.pendingActivities?.[0]?.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await h.client.activity.complete({ workflowId: 'async-complete', activityId: '1' }, 'completed from outside');
    return handle.result();
  });
  expect(result).toBe('completed from outside');
});

test('fail by id: when an asynchronously completed activity is failed by id with a non-retryable error, the workflow fails with it', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq, {
    activities: {
      async greet() {
        const { CompleteAsyncError } = await import('@temporalio/activity');
        throw new CompleteAsyncError();
      },
    },
  });
  const err = await worker.runUntil(async () => {
    const handle = await h.client.workflow.start(greet, { taskQueue: tq, workflowId: 'async-fail', args: ['x'] });
    for (let i = 0; i < 100; i++) {
      const d = await handle.describe();
      if (d.raw.pendingActivities?.[0]?.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await h.client.activity.fail({ workflowId: 'async-fail', activityId: '1' }, ApplicationFailure.nonRetryable('refused outside', 'Outside'));
    return handle.result().catch((e) => e);
  });
  expect(err.cause.cause.message).toBe('refused outside');
});

test('stale token: when an activity is completed twice, the second completion is NOT_FOUND', async () => {
  const svc = h.connection.workflowService;
  const tq = h.taskQueue();
  const worker = await h.worker(tq, { activities: {} });
  await worker.runUntil(async () => {
    const handle = await h.client.workflow.start(greet, { taskQueue: tq, workflowId: 'stale-1', args: ['x'] });
    const task = await svc.pollActivityTaskQueue({ namespace: 'default', taskQueue: { name: tq }, identity: 'raw' });
    expect(task.activityType?.name).toBe('greet');
    expect(task.scheduleToCloseTimeout).toBeTruthy();
    expect(task.startToCloseTimeout).toBeTruthy();
    expect(task.scheduledTime).toBeTruthy();
    expect(task.currentAttemptScheduledTime).toBeTruthy();
    const payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"raw"') };
    await svc.respondActivityTaskCompleted({ namespace: 'default', taskToken: task.taskToken, result: { payloads: [payload] } });
    await expect(svc.respondActivityTaskCompleted({ namespace: 'default', taskToken: task.taskToken, result: { payloads: [payload] } })).rejects.toMatchObject({ code: 5 });
    expect(await handle.result()).toBe('raw');
  });
});
