import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { TerminatedFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { long } from '../../devserver/proto';
import { replayAll, startHarness, type Harness } from './harness';
import { echo, longActivityId, manySteps, messagesOthers, parallelSteps, upsertsMemo, waiter } from './workflows';

const EventType = temporal.api.enums.v1.EventType;
const WftFailedCause = temporal.api.enums.v1.WorkflowTaskFailedCause;
let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    limits: {
      historyEventsSuggestContinueAsNew: 10,
      historyEventsWarn: 20,
      historyEventsError: 40,
      pendingActivities: 3,
      pendingSignals: 2,
      pendingCancels: 2,
      idMaxLength: 60,
      memoWarnBytes: 100,
      memoErrorBytes: 1000,
    },
  });
});
afterAll(async () => {
  await replayAll(h);
  await h.close();
});

test('size guard: when a history passes the event limit, the run is terminated and the worker was told to continue as new', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  const err = await worker.runUntil(h.client.workflow.execute(manySteps, { taskQueue: tq, workflowId: 'too-long', args: [50] })).catch((e) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect(err.cause).toBeInstanceOf(TerminatedFailure);
  const history = await h.client.workflow.getHandle('too-long').fetchHistory();
  const events = history.events!;
  expect(events.at(-1)!.workflowExecutionTerminatedEventAttributes!.reason).toMatch(/exceeds limit/);
  // Suggested from the suggestContinueAsNew limit on (10 events before the task), not from the warning limit.
  const started = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
  expect(started.map((e) => [Number(e.eventId), e.workflowTaskStartedEventAttributes!.suggestContinueAsNew])).toEqual(
    started.map((e) => [Number(e.eventId), Number(e.eventId) - 1 >= 10]),
  );
  expect(started.some((e) => Number(e.eventId) - 1 < 10)).toBe(true);
});

/** Waits for the run's first failed workflow task and returns its attributes. */
async function firstFailedTask(handle: WorkflowHandle): Promise<temporal.api.history.v1.IWorkflowTaskFailedEventAttributes> {
  for (let i = 0; i < 250; i++) {
    const failed = (await handle.fetchHistory()).events!.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    if (failed) return failed.workflowTaskFailedEventAttributes!;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no workflow task of ${handle.workflowId} failed`);
}

test('pending limit: when a task schedules more activities than allowed, the task fails with PENDING_ACTIVITIES_LIMIT_EXCEEDED', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  await worker.runUntil(async () => {
    const handle = await h.client.workflow.start(parallelSteps, { taskQueue: tq, workflowId: 'too-wide', args: [5] });
    const failed = await firstFailedTask(handle);
    expect(failed.cause).toBe(WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_ACTIVITIES_LIMIT_EXCEEDED);
    expect(failed.failure!.message).toBe('the number of pending activities, 3, has reached the per-workflow limit of 3');
    await handle.terminate('cleanup');
  });
});

test.each([
  ['signal', WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_SIGNALS_LIMIT_EXCEEDED, 'pending signals to external workflows'],
  ['cancel', WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_REQUEST_CANCEL_LIMIT_EXCEEDED, 'pending requests to cancel external workflows'],
] as const)('pending limit: when a task sends more %s requests to other workflows than allowed, the task fails with its cause', async (kind, cause, what) => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  await worker.runUntil(async () => {
    const targets = ['a', 'b', 'c'].map((x) => `${kind}-target-${x}`);
    for (const id of targets) await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: id });
    const within = await h.client.workflow.execute(messagesOthers, { taskQueue: tq, workflowId: `${kind}s-within`, args: [kind, targets.slice(0, 2)] });
    expect(within).toBe(2);
    const handle = await h.client.workflow.start(messagesOthers, { taskQueue: tq, workflowId: `${kind}s-past`, args: [kind, targets] });
    const failed = await firstFailedTask(handle);
    expect(failed.cause).toBe(cause);
    expect(failed.failure!.message).toBe(`the number of ${what}, 2, has reached the per-workflow limit of 2`);
    await handle.terminate('cleanup');
    for (const id of targets) await h.client.workflow.getHandle(id).terminate('cleanup').catch(() => undefined);
  });
});

test('id length: ids past limit.maxIDLength are refused on start and fail the task that schedules them', async () => {
  const tq = h.taskQueue();
  const start = (workflowId: string) => h.client.workflow.start(echo, { taskQueue: tq, workflowId, args: ['x'] });
  await expect(start('w'.repeat(61))).rejects.toMatchObject({ cause: { code: 3, details: 'WorkflowId exceeds length limit.' } });
  const worker = await h.worker(tq);
  await worker.runUntil(async () => {
    expect(await h.client.workflow.execute(longActivityId, { taskQueue: tq, workflowId: 'id-within', args: [60] })).toBe('hello id');
    const handle = await h.client.workflow.start(longActivityId, { taskQueue: tq, workflowId: 'id-past', args: [61] });
    const failed = await firstFailedTask(handle);
    expect(failed.cause).toBe(WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES);
    expect(failed.failure!.message).toBe('ActivityId exceeds length limit.');
    await handle.terminate('cleanup');
  });
});

test('memo size: a start whose memo passes limit.memoSize.error is refused; a workflow upserting one is terminated', async () => {
  const tq = h.taskQueue();
  const start = (workflowId: string, bytes: number) => h.client.workflow.start(echo, { taskQueue: tq, workflowId, args: ['x'], memo: { blob: 'm'.repeat(bytes) } });
  await expect(start('memo-past', 1000)).rejects.toMatchObject({ cause: { code: 3, details: 'Memo size exceeds limit.' } });
  await expect(start('memo-within', 500)).resolves.toBeDefined();
  await h.client.workflow.getHandle('memo-within').terminate('cleanup');
  const worker = await h.worker(tq);
  await worker.runUntil(async () => {
    await h.client.workflow.execute(upsertsMemo, { taskQueue: tq, workflowId: 'upsert-within', args: [500] });
    expect((await h.client.workflow.getHandle('upsert-within').describe()).memo).toEqual({ blob: 'm'.repeat(500) });
    const err = await h.client.workflow.execute(upsertsMemo, { taskQueue: tq, workflowId: 'upsert-past', args: [1000] }).catch((e) => e);
    expect(err.cause).toBeInstanceOf(TerminatedFailure);
    const events = (await h.client.workflow.getHandle('upsert-past').fetchHistory()).events!;
    const failed = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)!.workflowTaskFailedEventAttributes!;
    expect(failed.cause).toBe(WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_MODIFY_WORKFLOW_PROPERTIES_ATTRIBUTES);
    expect(failed.failure!.message).toBe('ModifyWorkflowPropertiesCommandAttributes exceeds size limit.');
  });
});

test('retention: when a closed run outlives its namespace retention, it is deleted', async () => {
  await h.connection.workflowService.registerNamespace({ namespace: 'short-lived', workflowExecutionRetentionPeriod: { seconds: long(1) } });
  const tq = h.taskQueue();
  const worker = await h.worker(tq, { namespace: 'short-lived' });
  const client = new (await import('@temporalio/client')).Client({ connection: h.connection, namespace: 'short-lived' });
  await worker.runUntil(client.workflow.execute(echo, { taskQueue: tq, workflowId: 'retained', args: ['x'] }));
  expect((await client.workflow.getHandle('retained').describe()).status.name).toBe('COMPLETED');
  await new Promise((r) => setTimeout(r, 1500));
  await expect(client.workflow.getHandle('retained').describe()).rejects.toThrow(/not found/);
});
