// What the SDK's own integration tests showed a real server does and the embedded one must too: the started event's
// timeouts and root, retry state of a timed-out execution, updates outlived by their workflow, memo removal,
// namespace checks on task-token calls, priority and user metadata.
import { AsyncCompletionClient, NamespaceNotFoundError, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { suiteHarness } from './harness';
import { memoEditor, outlivedUpdate, selfInfo, setValue, summarised, unblock, waiter } from './workflows';

const EventType = temporal.api.enums.v1.EventType;
const h = suiteHarness();

const eventsOf = async (workflowId: string) => (await h.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];

test('start: unset timeouts are left out and the task timeout is the 10 s default; only a child names its root', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  const info = await worker.runUntil(h.client.workflow.execute(selfInfo, { taskQueue: tq, workflowId: 'parity-info', args: [1] }));
  expect(info).toEqual({
    taskTimeoutMs: 10_000,
    executionTimeoutMs: null,
    runTimeoutMs: null,
    root: null,
    priorityKey: null,
    child: { taskTimeoutMs: 10_000, executionTimeoutMs: null, runTimeoutMs: null, root: 'parity-info', priorityKey: null, child: null },
  });
  const started = (await eventsOf('parity-info'))[0].workflowExecutionStartedEventAttributes!;
  expect(started.workflowExecutionTimeout).toBeNull();
  expect(started.workflowRunTimeout).toBeNull();
  expect(Number(started.workflowTaskTimeout!.seconds)).toBe(10);
  // Describe answers the root of a top-level run as the run itself.
  const described = await h.client.workflow.getHandle('parity-info').describe();
  expect(described.rootExecution?.workflowId).toBe('parity-info');
  expect(described.raw.executionConfig?.workflowExecutionTimeout).toBeNull();
});

test('start: a task timeout is capped by the run timeout', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  const info = await worker.runUntil(
    h.client.workflow.execute(selfInfo, { taskQueue: tq, workflowId: 'parity-capped', args: [0], workflowRunTimeout: '5s', workflowTaskTimeout: '30s' }),
  );
  expect(info).toMatchObject({ taskTimeoutMs: 5_000, runTimeoutMs: 5_000, executionTimeoutMs: null });
});

test('timeout: a run past its execution timeout is not retried, with retry state TIMEOUT', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  const err = await worker.runUntil(
    h.client.workflow
      .execute(waiter, { taskQueue: tq, workflowId: 'parity-expired', workflowExecutionTimeout: '1s', retry: { initialInterval: '10ms', maximumAttempts: 5 } })
      .catch((e: unknown) => e),
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).retryState).toBe('TIMEOUT');
  const closed = (await eventsOf('parity-expired')).at(-1)!;
  expect(closed.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT);
  expect(closed.workflowExecutionTimedOutEventAttributes!.newExecutionRunId).toBeFalsy();
});

test('update: an accepted update whose workflow completes first fails with AcceptedUpdateCompletedWorkflow', async () => {
  await h.withWorker(async (tq) => {
    const handle = await h.client.workflow.start(outlivedUpdate, { taskQueue: tq, workflowId: 'parity-outlived' });
    const pending = await handle.startUpdate(setValue, { args: ['x'], waitForStage: 'ACCEPTED' });
    await handle.signal(unblock, 'go');
    expect(await handle.result()).toBe('closed');
    const err = await pending.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (err as WorkflowUpdateFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause).toMatchObject({ type: 'AcceptedUpdateCompletedWorkflow', nonRetryable: true });
    expect(cause.message).toBe('Workflow Update failed because the Workflow completed before the Update completed.');
  });
});

test('memo: a key upserted as undefined is removed', async () => {
  await h.withWorker(async (tq) => {
    const handle = await h.client.workflow.start(memoEditor, { taskQueue: tq, workflowId: 'parity-memo' });
    for (let i = 0; i < 100; i++) {
      if ((await eventsOf('parity-memo')).filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED).length === 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await handle.describe()).memo).toEqual({ alpha: 'a' });
    await handle.signal(unblock, 'go');
    await handle.result();
  });
});

test('async completion: a namespace that does not exist is NamespaceNotFound, whatever the token', async () => {
  const client = new AsyncCompletionClient({ connection: h.connection, namespace: 'parity-no-such-namespace' });
  await expect(client.complete(new Uint8Array([1, 2, 3]), 'x')).rejects.toBeInstanceOf(NamespaceNotFoundError);
});

test('metadata: priority and summaries given at start, on timers and on activities are kept where the UI reads them', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  await worker.runUntil(
    h.client.workflow.execute(summarised, { taskQueue: tq, workflowId: 'parity-meta', staticSummary: 'the summary', staticDetails: 'the details', priority: { priorityKey: 2 } }),
  );
  const described = await h.client.workflow.getHandle('parity-meta').describe();
  expect(await described.staticSummary()).toBe('the summary');
  expect(await described.staticDetails()).toBe('the details');
  expect(described.priority?.priorityKey).toBe(2);
  const events = await eventsOf('parity-meta');
  const summaryOf = (type: number) => {
    const data = events.find((e) => e.eventType === type)?.userMetadata?.summary?.data;
    return data ? JSON.parse(Buffer.from(data).toString()) : undefined;
  };
  expect(summaryOf(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)).toBe('the summary');
  expect(summaryOf(EventType.EVENT_TYPE_TIMER_STARTED)).toBe('short nap');
  expect(summaryOf(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe('say hello');
  expect(events[0].workflowExecutionStartedEventAttributes!.priority?.priorityKey).toBe(2);
});

test('priority: a child without one of its own inherits its parent’s', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  const info = await worker.runUntil(
    h.client.workflow.execute(selfInfo, { taskQueue: tq, workflowId: 'parity-priority', args: [1], priority: { priorityKey: 4 } }),
  );
  expect(info).toMatchObject({ priorityKey: 4, child: { priorityKey: 4 } });
});

test('search attributes: values set without a type are stored with their registered one, so they decode by type', async () => {
  await h.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: { ParityWhen: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME },
  });
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  const when = new Date('2026-01-02T03:04:05.000Z');
  await worker.runUntil(async () => {
    // The deprecated untyped form sends the values without type metadata, as older clients do.
    const handle = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'parity-typed', searchAttributes: { ParityWhen: [when] } });
    const described = await handle.describe();
    expect(described.searchAttributes.ParityWhen).toEqual([when]);
    const started = (await eventsOf('parity-typed'))[0].workflowExecutionStartedEventAttributes!;
    expect(Buffer.from(started.searchAttributes!.indexedFields!.ParityWhen.metadata!.type!).toString()).toBe('Datetime');
    await handle.signal(unblock, 'go');
    await handle.result();
  });
});

test('search attributes: BinaryChecksums lists the workers that completed the run’s tasks and can be queried', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  await worker.runUntil(h.client.workflow.execute(selfInfo, { taskQueue: tq, workflowId: 'parity-checksums', args: [0] }));
  const { searchAttributes } = await h.client.workflow.getHandle('parity-checksums').describe();
  expect(searchAttributes.BinaryChecksums).toEqual([expect.stringMatching(/^@temporalio\/worker@1\.24\.0\+[a-f0-9]{64}$/)]);
  const { count } = await h.client.workflow.count(`WorkflowId = 'parity-checksums' AND BinaryChecksums = '${searchAttributes.BinaryChecksums![0]}'`);
  expect(count).toBe(1);
});
