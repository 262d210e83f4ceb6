import { WorkflowFailedError } from '@temporalio/client';
import { TerminatedFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { long } from '../../devserver/proto';
import { replayAll, startHarness, type Harness } from './harness';
import { echo, manySteps, parallelSteps } from './workflows';

const EventType = temporal.api.enums.v1.EventType;
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ limits: { historyEventsWarn: 20, historyEventsError: 40, pendingActivities: 3 } });
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
  const suggested = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED && e.workflowTaskStartedEventAttributes!.suggestContinueAsNew);
  expect(suggested.length).toBeGreaterThan(0);
});

test('pending limit: when a task schedules more activities than allowed, the task fails with PENDING_ACTIVITIES_LIMIT_EXCEEDED', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  await worker.runUntil(async () => {
    const handle = await h.client.workflow.start(parallelSteps, { taskQueue: tq, workflowId: 'too-wide', args: [5] });
    for (let i = 0; i < 100; i++) {
      const types = (await handle.fetchHistory()).events!.map((e) => e.eventType);
      if (types.includes(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const failed = (await handle.fetchHistory()).events!.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)!;
    expect(failed.workflowTaskFailedEventAttributes!.cause).toBe(
      temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_ACTIVITIES_LIMIT_EXCEEDED,
    );
    await handle.terminate('cleanup');
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
