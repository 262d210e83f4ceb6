// Sticky execution: a worker that keeps a run cached asks, when it completes a workflow task, for the run's next tasks
// on its own sticky queue; they come there with only the events since its last task. A sticky queue nobody serves, a
// sticky task nobody starts in time and a worker shutting down all send the run back to its own task queue with the
// full history, as on a real server.
import { temporal } from '@temporalio/proto';
import { long } from '../../devserver/proto';
import { rawRunPastFirstTask, suiteHarness, suiteRawServer } from './harness';
import { setValue, unblock, waiter } from './workflows';

const { EventType, TaskQueueKind, TimeoutType } = temporal.api.enums.v1;
type Poll = temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse;

describe('raw protocol', () => {
  const raw = suiteRawServer();
  const svc = () => raw.connection.workflowService;
  const normal = (name: string) => ({ name, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL });
  const sticky = (name: string, normalName: string) => ({
    name,
    kind: TaskQueueKind.TASK_QUEUE_KIND_STICKY,
    normalName,
  });

  const pollNormal = (tq: string): Promise<Poll> =>
    svc().pollWorkflowTaskQueue({ namespace: 'default', taskQueue: normal(tq), identity: 'raw-worker' });
  const pollSticky = (stickyName: string, tq: string): Promise<Poll> =>
    svc().pollWorkflowTaskQueue({ namespace: 'default', taskQueue: sticky(stickyName, tq), identity: 'raw-worker' });
  /** Starts a workflow and completes its first task asking for stickiness on `stickyName`. */
  const startSticky = (workflowId: string, stickyName: string, scheduleToStartSeconds = 60) =>
    rawRunPastFirstTask(svc(), workflowId, {
      stickyAttributes: {
        workerTaskQueue: sticky(stickyName, `tq-${workflowId}`),
        scheduleToStartTimeout: { seconds: long(scheduleToStartSeconds) },
      },
    });
  const signal = (workflowId: string) =>
    svc().signalWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId },
      signalName: 'poke',
      identity: 'raw-client',
    });
  /** A sticky poll that ends empty after half a second (not cancelled): the queue counts as served for a while. */
  const briefPoll = (stickyName: string, tq: string) =>
    raw.connection.withDeadline(Date.now() + 1500, () => pollSticky(stickyName, tq));
  /** Resolves once a poll of the sticky queue is waiting: the queue names its poller. */
  const pollerSeen = async (stickyName: string, tq: string) => {
    for (;;) {
      const d = await svc().describeTaskQueue({
        namespace: 'default',
        taskQueue: sticky(stickyName, tq),
        taskQueueType: 1,
      });
      if ((d.pollers ?? []).length > 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const scheduledQueues = async (workflowId: string) => {
    const { history } = await svc().getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId } });
    return history!
      .events!.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)
      .map((e) => e.workflowTaskScheduledEventAttributes!.taskQueue!);
  };

  test('a served sticky queue gets the next task, with only the events since the last completed task', async () => {
    const { tq } = await startSticky('sticky-served', 'worker-1-sticky');
    const polled: Promise<Poll> = pollSticky('worker-1-sticky', tq);
    await pollerSeen('worker-1-sticky', tq);
    await signal('sticky-served');
    const task = await polled;
    const events = task.history!.events!;
    expect(Number(events[0].eventId)).toBe(Number(task.previousStartedEventId) + 1);
    expect(events.map((e) => e.eventType)).toEqual([
      EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    ]);
    expect(task.workflowExecutionTaskQueue).toMatchObject(normal(tq));
    expect(await scheduledQueues('sticky-served')).toEqual([normal(tq), sticky('worker-1-sticky', tq)]);
  });

  test('a sticky queue nobody polls is passed over: the task goes to the run’s own queue with the full history', async () => {
    const { tq } = await startSticky('sticky-unserved', 'worker-2-sticky');
    await signal('sticky-unserved');
    const task = await pollNormal(tq);
    expect(Number(task.history!.events![0].eventId)).toBe(1);
    expect(task.attempt).toBe(1);
    expect(await scheduledQueues('sticky-unserved')).toEqual([normal(tq), normal(tq)]);
  });

  test('a sticky task not started within its schedule-to-start timeout times out and moves to the run’s own queue', async () => {
    const { tq } = await startSticky('sticky-timeout', 'worker-3-sticky', 1);
    await briefPoll('worker-3-sticky', tq);
    await signal('sticky-timeout');
    const task = await pollNormal(tq);
    expect(Number(task.history!.events![0].eventId)).toBe(1);
    expect(task.attempt).toBe(1);
    const events = task.history!.events!;
    const timedOut = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT)!;
    expect(timedOut.workflowTaskTimedOutEventAttributes).toMatchObject({
      timeoutType: TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START,
    });
    expect(await scheduledQueues('sticky-timeout')).toEqual([normal(tq), sticky('worker-3-sticky', tq), normal(tq)]);
  });

  test('ShutdownWorker moves a task waiting on the worker’s sticky queue to the run’s own queue at once', async () => {
    const { tq } = await startSticky('sticky-shutdown', 'worker-4-sticky', 3600);
    await briefPoll('worker-4-sticky', tq);
    await signal('sticky-shutdown');
    expect((await scheduledQueues('sticky-shutdown')).at(-1)).toEqual(sticky('worker-4-sticky', tq));
    await svc().shutdownWorker({ namespace: 'default', stickyTaskQueue: 'worker-4-sticky', identity: 'raw-worker' });
    // Without the shutdown this poll would wait an hour for the schedule-to-start timeout.
    const task = await pollNormal(tq);
    expect(Number(task.history!.events![0].eventId)).toBe(1);
    expect(await scheduledQueues('sticky-shutdown')).toEqual([normal(tq), sticky('worker-4-sticky', tq), normal(tq)]);
  });

  test('ShutdownWorker answers the worker’s waiting sticky polls with nothing; later tasks go to the run’s own queue', async () => {
    const { tq } = await startSticky('sticky-shutdown-poll', 'worker-7-sticky');
    const waiting = pollSticky('worker-7-sticky', tq);
    await pollerSeen('worker-7-sticky', tq);
    await svc().shutdownWorker({ namespace: 'default', stickyTaskQueue: 'worker-7-sticky', identity: 'raw-worker' });
    // Answered now, not after the minute a poll waits.
    expect((await waiting).taskToken ?? new Uint8Array()).toHaveLength(0);
    await signal('sticky-shutdown-poll');
    const task = await pollNormal(tq);
    expect(Number(task.history!.events![0].eventId)).toBe(1);
    expect(await scheduledQueues('sticky-shutdown-poll')).toEqual([normal(tq), normal(tq)]);
  });

  test('a query goes to the served sticky queue, with only the events since the last completed task', async () => {
    const { tq, first } = await startSticky('sticky-query', 'worker-8-sticky');
    const polled = pollSticky('worker-8-sticky', tq);
    await pollerSeen('worker-8-sticky', tq);
    const asked = svc().queryWorkflow({
      namespace: 'default',
      execution: { workflowId: 'sticky-query' },
      query: { queryType: 'state' },
    });
    const task = await polled;
    expect(task.query?.queryType).toBe('state');
    expect(task.history!.events!.map((e) => Number(e.eventId))).toEqual([Number(first.startedEventId) + 1]);
    await svc().respondQueryTaskCompleted({
      namespace: 'default',
      taskToken: task.taskToken,
      completedType: temporal.api.enums.v1.QueryResultType.QUERY_RESULT_TYPE_ANSWERED,
      queryResult: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"cached"') }] },
    });
    expect(Buffer.from((await asked).queryResult!.payloads![0].data!).toString()).toBe('"cached"');
  });

  test('ShutdownWorker sends a query waiting on the worker’s sticky queue to the run’s own queue', async () => {
    const { tq } = await startSticky('sticky-query-shutdown', 'worker-9-sticky');
    await briefPoll('worker-9-sticky', tq);
    const asked = svc().queryWorkflow({
      namespace: 'default',
      execution: { workflowId: 'sticky-query-shutdown' },
      query: { queryType: 'state' },
    });
    // The query waits on the sticky queue, which counts as served for a while after the poll.
    for (;;) {
      const d = await svc().describeTaskQueue({
        namespace: 'default',
        taskQueue: sticky('worker-9-sticky', tq),
        taskQueueType: 1,
      });
      if (Number(d.taskQueueStatus?.backlogCountHint ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await svc().shutdownWorker({ namespace: 'default', stickyTaskQueue: 'worker-9-sticky', identity: 'raw-worker' });
    const task = await pollNormal(tq);
    expect(task.query?.queryType).toBe('state');
    expect(Number(task.history!.events![0].eventId)).toBe(1);
    await svc().respondQueryTaskCompleted({
      namespace: 'default',
      taskToken: task.taskToken,
      completedType: temporal.api.enums.v1.QueryResultType.QUERY_RESULT_TYPE_ANSWERED,
      queryResult: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"full"') }] },
    });
    expect(Buffer.from((await asked).queryResult!.payloads![0].data!).toString()).toBe('"full"');
  });

  test('ShutdownWorker ends every poll the worker instance has waiting, and answers its late ones at once', async () => {
    const info = await svc().describeNamespace({ namespace: 'default' });
    expect(info.namespaceInfo?.capabilities?.workerPollCompleteOnShutdown).toBe(true);
    const poll = (workerInstanceKey: string, tq: string, activity = false) =>
      activity
        ? svc().pollActivityTaskQueue({
            namespace: 'default',
            taskQueue: normal(tq),
            identity: 'raw-worker',
            workerInstanceKey,
          })
        : svc().pollWorkflowTaskQueue({
            namespace: 'default',
            taskQueue: normal(tq),
            identity: 'raw-worker',
            workerInstanceKey,
          });
    const leaving = [poll('worker-a', 'graceful'), poll('worker-a', 'graceful', true)];
    const staying = poll('worker-b', 'graceful');
    for (;;) {
      const d = await svc().describeTaskQueue({
        namespace: 'default',
        taskQueue: normal('graceful'),
        taskQueueType: 2,
      });
      if ((d.pollers ?? []).length > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await svc().shutdownWorker({ namespace: 'default', workerInstanceKey: 'worker-a', identity: 'raw-worker' });
    // Answered now, not after the minute a poll waits; worker-b's poll still waits, and gets the next task.
    for (const answer of await Promise.all(leaving)) expect(answer.taskToken ?? new Uint8Array()).toHaveLength(0);
    expect((await poll('worker-a', 'graceful')).taskToken ?? new Uint8Array()).toHaveLength(0);
    await svc().startWorkflowExecution({
      namespace: 'default',
      workflowId: 'graceful',
      workflowType: { name: 'raw' },
      taskQueue: { name: 'graceful' },
      requestId: 'graceful',
    });
    expect((await staying).workflowExecution?.workflowId).toBe('graceful');
  });

  test('ResetStickyTaskQueue sends the next task to the run’s own queue', async () => {
    const { tq } = await startSticky('sticky-reset', 'worker-5-sticky');
    await briefPoll('worker-5-sticky', tq);
    await svc().resetStickyTaskQueue({ namespace: 'default', execution: { workflowId: 'sticky-reset' } });
    await signal('sticky-reset');
    const task = await pollNormal(tq);
    expect(Number(task.history!.events![0].eventId)).toBe(1);
    expect(await scheduledQueues('sticky-reset')).toEqual([normal(tq), normal(tq)]);
  });

  test('a failed sticky task is tried again on the run’s own queue as attempt 1', async () => {
    const { tq } = await startSticky('sticky-failed', 'worker-6-sticky');
    const polled = pollSticky('worker-6-sticky', tq);
    await pollerSeen('worker-6-sticky', tq);
    await signal('sticky-failed');
    const task = await polled;
    await svc().respondWorkflowTaskFailed({
      namespace: 'default',
      taskToken: task.taskToken,
      cause: 1,
      identity: 'raw-worker',
      failure: { message: 'lost the cache' },
    });
    const retried = await pollNormal(tq);
    expect(retried.attempt).toBe(1);
    expect(Number(retried.history!.events![0].eventId)).toBe(1);
  });
});

describe('with the SDK', () => {
  const h = suiteHarness();

  test('a caching worker gets its runs’ tasks on its sticky queue; after it stops, another worker takes over', async () => {
    const tq = h.taskQueue();
    const first = await h.worker(tq);
    const handle = await first.runUntil(async () => {
      const started = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'sticky-sdk' });
      expect(await started.executeUpdate(setValue, { args: ['one'] })).toBe('set:one');
      expect(await started.executeUpdate(setValue, { args: ['two'] })).toBe('set:two');
      return started;
    });
    const { events } = await handle.fetchHistory();
    const queues = events!
      .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)
      .map((e) => e.workflowTaskScheduledEventAttributes!.taskQueue!);
    expect(queues[0]).toMatchObject({ name: tq, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL });
    expect(queues.slice(1).length).toBeGreaterThan(0);
    for (const q of queues.slice(1))
      expect(q).toMatchObject({ kind: TaskQueueKind.TASK_QUEUE_KIND_STICKY, normalName: tq });

    // The first worker is gone with its cache; a new one (a new sticky queue) finishes the run.
    const second = await h.worker(tq);
    const result = await second.runUntil(async () => {
      await handle.signal(unblock, 'done');
      return handle.result();
    });
    expect(result).toBe('two/done');
  });
});
