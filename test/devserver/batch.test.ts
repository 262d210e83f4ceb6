// Batch operations as the Temporal UI and CLI start them: a query or a list of workflows, one operation each.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startHarness, suiteHarness } from './harness';
import { echo, waiter } from './workflows';

const State = temporal.api.enums.v1.BatchOperationState;
const EventType = temporal.api.enums.v1.EventType;
const h = suiteHarness();

const svc = () => h.connection.workflowService;
const namespace = 'default';

/** Waits until the job has left RUNNING and returns its description. */
async function finished(jobId: string) {
  for (let i = 0; i < 200; i++) {
    const d = await svc().describeBatchOperation({ namespace, jobId });
    if (d.state !== State.BATCH_OPERATION_STATE_RUNNING) return d;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`batch ${jobId} still running`);
}

test('batch: when a terminate job names its workflows by query, exactly the matching runs are terminated and the job reports their count', async () => {
  const tq = h.taskQueue();
  for (const id of ['bt-a', 'bt-b', 'bt-c']) await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: id });
  await h.client.workflow.start(echo, { taskQueue: tq, workflowId: 'bt-other', args: ['x'] });
  await svc().startBatchOperation({
    namespace,
    jobId: 'terminate-waiters',
    visibilityQuery: `WorkflowType = 'waiter' AND TaskQueue = '${tq}' AND ExecutionStatus = 'Running'`,
    reason: 'clean up',
    terminationOperation: { identity: 'operator' },
  });
  const d = await finished('terminate-waiters');
  expect(d).toMatchObject({ state: State.BATCH_OPERATION_STATE_COMPLETED, reason: 'clean up', identity: 'operator', operationType: temporal.api.enums.v1.BatchOperationType.BATCH_OPERATION_TYPE_TERMINATE });
  expect([Number(d.totalOperationCount), Number(d.completeOperationCount), Number(d.failureOperationCount)]).toEqual([3, 3, 0]);
  expect(d.closeTime).toBeTruthy();
  for (const id of ['bt-a', 'bt-b', 'bt-c']) {
    const events = (await h.client.workflow.getHandle(id).fetchHistory()).events!;
    expect(events.at(-1)!.workflowExecutionTerminatedEventAttributes).toMatchObject({ reason: 'clean up', identity: 'operator' });
  }
  expect((await h.client.workflow.getHandle('bt-other').describe()).status.name).toBe('RUNNING');
  const listed = await svc().listBatchOperations({ namespace });
  expect(listed.operationInfo!.map((o) => [o.jobId, o.state])).toContainEqual(['terminate-waiters', State.BATCH_OPERATION_STATE_COMPLETED]);
  await h.client.workflow.getHandle('bt-other').terminate('cleanup');
});

test('batch: when a signal job lists its workflows and one does not exist, the others are signalled and the missing one counts as a failure', async () => {
  const tq = h.taskQueue();
  for (const id of ['bs-a', 'bs-b']) await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: id });
  const input = { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"go"') }] };
  await svc().startBatchOperation({
    namespace,
    jobId: 'signal-listed',
    executions: [{ workflowId: 'bs-a' }, { workflowId: 'bs-b' }, { workflowId: 'bs-missing' }],
    reason: 'wake up',
    signalOperation: { signal: 'unblock', input, identity: 'operator' },
  });
  const d = await finished('signal-listed');
  expect([Number(d.totalOperationCount), Number(d.completeOperationCount), Number(d.failureOperationCount)]).toEqual([3, 2, 1]);
  for (const id of ['bs-a', 'bs-b']) {
    const signalled = (await h.client.workflow.getHandle(id).fetchHistory()).events!.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    expect(signalled.map((e) => e.workflowExecutionSignaledEventAttributes!.signalName)).toEqual(['unblock']);
    await h.client.workflow.getHandle(id).terminate('cleanup');
  }
});

test('batch: when a reset job names a completed workflow, it gets a new run from its first workflow task, which runs to completion again', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  await worker.runUntil(async () => {
    await h.client.workflow.execute(echo, { taskQueue: tq, workflowId: 'br-echo', args: ['again'] });
    const before = (await h.client.workflow.getHandle('br-echo').describe()).runId;
    await svc().startBatchOperation({
      namespace,
      jobId: 'reset-echo',
      executions: [{ workflowId: 'br-echo', runId: before }],
      reason: 'replay it',
      resetOperation: { identity: 'operator', options: { firstWorkflowTask: {} } },
    });
    expect(Number((await finished('reset-echo')).completeOperationCount)).toBe(1);
    const handle = h.client.workflow.getHandle('br-echo');
    expect(await handle.result()).toBe('again');
    expect((await handle.describe()).runId).not.toBe(before);
  });
});

test('batch: when a job is stopped, it ends failed and the workflows it had not reached are left alone', async () => {
  const tq = h.taskQueue();
  const ids = ['bp-a', 'bp-b', 'bp-c'];
  for (const id of ids) await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: id });
  await svc().startBatchOperation({
    namespace,
    jobId: 'slow-cancel',
    executions: ids.map((workflowId) => ({ workflowId })),
    reason: 'one a second',
    maxOperationsPerSecond: 1,
    cancellationOperation: { identity: 'operator' },
  });
  // One job per namespace runs at a time, as on a real server (the SDK's client retries this refusal; this one does not).
  const once = await Connection.connect({ address: h.server.address, interceptors: [] });
  try {
    await expect(
      once.workflowService.startBatchOperation({ namespace, jobId: 'second', executions: [{ workflowId: 'bp-a' }], reason: 'x', terminationOperation: {} }),
    ).rejects.toMatchObject({ code: 8, details: 'Max concurrent batch operations is reached' });
  } finally {
    await once.close();
  }
  await svc().stopBatchOperation({ namespace, jobId: 'slow-cancel', reason: 'enough' });
  const d = await finished('slow-cancel');
  expect(d.state).toBe(State.BATCH_OPERATION_STATE_FAILED);
  expect(Number(d.completeOperationCount)).toBeLessThan(3);
  const cancelled = await Promise.all(
    ids.map(async (id) => (await h.client.workflow.getHandle(id).fetchHistory()).events!.some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED)),
  );
  expect(cancelled.filter(Boolean)).toHaveLength(Number(d.completeOperationCount));
  await expect(svc().stopBatchOperation({ namespace, jobId: 'slow-cancel', reason: 'again' })).rejects.toMatchObject({ code: 5 });
  for (const id of ids) await h.client.workflow.getHandle(id).terminate('cleanup');
});

test.each([
  ['no job id', { reason: 'r', visibilityQuery: 'x', terminationOperation: {} }, 3, 'JobId is not set on request.'],
  ['no targets', { jobId: 'v1', reason: 'r', terminationOperation: {} }, 3, 'VisibilityQuery or Executions must be set on request.'],
  ['a query and a list', { jobId: 'v2', reason: 'r', visibilityQuery: `WorkflowId = 'a'`, executions: [{ workflowId: 'a' }], terminationOperation: {} }, 3, 'batch query and executions are mutually exclusive'],
  ['no reason', { jobId: 'v3', executions: [{ workflowId: 'a' }], terminationOperation: {} }, 3, 'Reason is not set on request.'],
  ['no operation', { jobId: 'v4', reason: 'r', executions: [{ workflowId: 'a' }] }, 3, 'must provide required parameters: BatchType/Reason/Namespace/Query/Executions'],
  ['a signal without a name', { jobId: 'v5', reason: 'r', executions: [{ workflowId: 'a' }], signalOperation: {} }, 3, 'must provide signal name'],
  ['an operation it does not serve', { jobId: 'v6', reason: 'r', executions: [{ workflowId: 'a' }], updateWorkflowOptionsOperation: {} }, 12, expect.stringMatching(/not supported/)],
  ['a bad query', { jobId: 'v7', reason: 'r', visibilityQuery: 'WorkflowId = ', terminationOperation: {} }, 3, expect.any(String)],
] as const)('batch: a start with %s is refused and no job is recorded', async (_what, req, code, details) => {
  await expect(svc().startBatchOperation({ namespace, ...(req as object) })).rejects.toMatchObject({ code, details });
  const listed = await svc().listBatchOperations({ namespace });
  expect(listed.operationInfo!.map((o) => o.jobId)).not.toContain((req as { jobId?: string }).jobId ?? '');
});

test('batch: a second start with a job id in use is refused; an unknown job is not found', async () => {
  await expect(
    svc().startBatchOperation({ namespace, jobId: 'terminate-waiters', reason: 'again', executions: [{ workflowId: 'bt-a' }], terminationOperation: {} }),
  ).rejects.toMatchObject({ code: 6 });
  await expect(svc().describeBatchOperation({ namespace, jobId: 'no-such-job' })).rejects.toMatchObject({ code: 5 });
  const page = await svc().listBatchOperations({ namespace, pageSize: 1 });
  expect(page.operationInfo).toHaveLength(1);
  expect(page.nextPageToken?.length).toBeGreaterThan(0);
});

test('batch: when the server restarts during a job, the job carries on from its progress and its record survives', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-batch-'));
  const dbFilename = path.join(dir, 'server.db');
  let server = await startHarness({ dbFilename });
  const ids = ['br-a', 'br-b', 'br-c', 'br-d'];
  const describe = () => server.connection.workflowService.describeBatchOperation({ namespace, jobId: 'durable-terminate' });
  try {
    for (const id of ids) await server.client.workflow.start(waiter, { taskQueue: 'durable-batch', workflowId: id });
    await server.connection.workflowService.startBatchOperation({
      namespace,
      jobId: 'durable-terminate',
      executions: ids.map((workflowId) => ({ workflowId })),
      reason: 'retire',
      maxOperationsPerSecond: 1,
      terminationOperation: { identity: 'operator' },
    });
    for (let i = 0; i < 200 && Number((await describe()).completeOperationCount) < 1; i++) await new Promise((r) => setTimeout(r, 25));
    await server.close();
    server = await startHarness({ dbFilename });
    const resumed = await describe();
    expect(resumed).toMatchObject({ state: State.BATCH_OPERATION_STATE_RUNNING, reason: 'retire', identity: 'operator' });
    expect(Number(resumed.completeOperationCount)).toBeGreaterThanOrEqual(1);
    let d = resumed;
    for (let i = 0; i < 400 && d.state === State.BATCH_OPERATION_STATE_RUNNING; i++) {
      await new Promise((r) => setTimeout(r, 25));
      d = await describe();
    }
    expect(d.state).toBe(State.BATCH_OPERATION_STATE_COMPLETED);
    expect([Number(d.totalOperationCount), Number(d.completeOperationCount), Number(d.failureOperationCount)]).toEqual([4, 4, 0]);
    for (const id of ids) expect((await server.client.workflow.getHandle(id).describe()).status.name).toBe('TERMINATED');

    await server.close();
    server = await startHarness({ dbFilename });
    const listed = await server.connection.workflowService.listBatchOperations({ namespace });
    expect(listed.operationInfo!.map((o) => [o.jobId, o.state])).toEqual([['durable-terminate', State.BATCH_OPERATION_STATE_COMPLETED]]);
    expect(Number((await describe()).completeOperationCount)).toBe(4);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
