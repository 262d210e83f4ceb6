// Speculative workflow tasks: a task scheduled only to deliver an update stays out of the history, and when the workflow
// rejects the update and records nothing else, it is dropped as if it never ran (the worker is told where its history
// ends again). Rejected updates do not count toward the run's update limit. As on a real server.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { rawRunPastFirstTask, suiteHarness, suiteRawServer } from './harness';
import { setValue, unblock, waiter } from './workflows';

const { EventType } = temporal.api.enums.v1;

describe('with the SDK', () => {
  const h = suiteHarness({ dynamicConfig: { 'history.maxTotalUpdates': 5 } });

  test('rejected updates leave the history as it was and do not count toward the update limit', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: `spec-${tq}` });
      expect(await handle.executeUpdate(setValue, { args: ['one'] })).toBe('set:one');
      const before = (await handle.fetchHistory()).events!.length;
      // More rejections than the limit of five updates in the run's life.
      for (let i = 0; i < 8; i++) {
        await expect(handle.executeUpdate(setValue, { args: ['bad'] })).rejects.toBeInstanceOf(
          WorkflowUpdateFailedError,
        );
      }
      expect((await handle.fetchHistory()).events!.length).toBe(before);
      expect(Number((await handle.describe()).historyLength)).toBe(before);
      // The workflow carries on from the history it had: an accepted update and a signal after the rejections.
      expect(await handle.executeUpdate(setValue, { args: ['two'] })).toBe('set:two');
      await handle.signal(unblock, 'done');
      expect(await handle.result()).toBe('two/done');
      const types = (await handle.fetchHistory()).events!.map((e) => e.eventType);
      expect(types.filter((t) => t === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)).toHaveLength(2);
    });
  });

  test('a signal arriving while the update’s task runs keeps the task in the history, with the rejection', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: `spec-signal-${tq}` });
      expect(await handle.executeUpdate(setValue, { args: ['one'] })).toBe('set:one');
      const before = (await handle.fetchHistory()).events!.length;
      const [rejected] = await Promise.allSettled([
        handle.executeUpdate(setValue, { args: ['bad'] }),
        handle.signal(unblock, 'done'),
      ]);
      expect(rejected.status).toBe('rejected');
      expect(await handle.result()).toBe('one/done');
      const events = (await handle.fetchHistory()).events!;
      expect(events.length).toBeGreaterThan(before);
      expect(events.some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)).toBe(true);
    });
  });
});

describe('raw protocol', () => {
  const raw = suiteRawServer();

  test('a completion with only rejections drops the task and names the event the worker’s history ends at', async () => {
    const svc = raw.connection.workflowService;
    const workflowId = 'spec-raw';
    const { tq } = await rawRunPastFirstTask(svc, workflowId);
    const update = svc.updateWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId },
      waitPolicy: {
        lifecycleStage:
          temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage
            .UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED,
      },
      request: { meta: { updateId: 'u1' }, input: { name: 'anything' } },
    });
    const task = await svc.pollWorkflowTaskQueue({
      namespace: 'default',
      taskQueue: { name: tq, kind: 1 },
      identity: 'raw',
    });
    // The task shows its scheduled and started events (5 and 6) to the worker, but the history holds 4 events.
    expect(Number(task.startedEventId)).toBe(6);
    const { history } = await svc.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId } });
    expect(history!.events!.length).toBe(4);
    const rejection = temporal.api.update.v1.Rejection.encode({
      rejectedRequestMessageId: 'u1/request',
      failure: { message: 'no such update' },
    }).finish();
    const res = await svc.respondWorkflowTaskCompleted({
      namespace: 'default',
      taskToken: task.taskToken,
      identity: 'raw',
      messages: [
        {
          id: 'u1/rejection',
          protocolInstanceId: 'u1',
          body: { type_url: 'type.googleapis.com/temporal.api.update.v1.Rejection', value: rejection } as never,
        },
      ],
    });
    expect(Number(res.resetHistoryEventId)).toBe(3);
    expect((await update).outcome?.failure?.message).toBe('no such update');
    const after = await svc.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId } });
    expect(after.history!.events!.map((e) => Number(e.eventId))).toEqual([1, 2, 3, 4]);
    // The next task reuses the dropped events' ids.
    await svc.signalWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId },
      signalName: 'poke',
      identity: 'raw',
    });
    const next = await svc.pollWorkflowTaskQueue({
      namespace: 'default',
      taskQueue: { name: tq, kind: 1 },
      identity: 'raw',
    });
    expect(Number(next.previousStartedEventId)).toBe(3);
    expect(next.history!.events!.slice(4).map((e) => [Number(e.eventId), e.eventType])).toEqual([
      [5, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED],
      [6, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED],
      [7, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED],
    ]);
    await svc.terminateWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId }, reason: 'done' });
  });
});
