import { QueryNotRegisteredError, WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { suiteHarness } from './harness';
import { echo, failingQuery, setValue, state, unblock, waiter } from './workflows';

const EventType = temporal.api.enums.v1.EventType;
const h = suiteHarness();

function eventTypes(workflowId: string): number[] {
  const r = [...h.server.engine.runs.values()].find((x) => x.workflowId === workflowId)!;
  return r.events.map((e) => Number(e.eventType));
}

describe('queries', () => {
  test('query: when a running idle workflow is queried, the handler answers', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'q-idle' });
      expect(await handle.query(state)).toBe('initial');
      await handle.signal(unblock, 'x');
      await handle.result();
    });
  });

  test('query: when a closed workflow is queried, a worker replays it and answers', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'q-closed' });
      await handle.executeUpdate(setValue, { args: ['v1'] });
      await handle.signal(unblock, 'x');
      await handle.result();
      expect(await handle.query(state)).toBe('v1');
    });
  });

  test('query: when the stack trace built-in is queried, a trace comes back', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'q-stack' });
      const trace = await handle.query<string>('__stack_trace');
      expect(typeof trace).toBe('string');
      await handle.terminate('cleanup');
    });
  });

  test('query: when the handler throws, the client gets QueryNotRegisteredError-style INVALID_ARGUMENT with the message', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'q-fail' });
      await expect(handle.query(failingQuery)).rejects.toThrow(/query handler failed on purpose/);
      await expect(handle.query('noSuchQuery')).rejects.toBeInstanceOf(QueryNotRegisteredError);
      await handle.terminate('cleanup');
    });
  });

  test('query: when the reject condition is NOT_OPEN and the workflow has closed, the query is rejected', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    await worker.runUntil(h.client.workflow.execute(echo, { taskQueue: tq, workflowId: 'q-reject', args: ['x'] }));
    const res = await h.connection.workflowService.queryWorkflow({
      namespace: 'default',
      execution: { workflowId: 'q-reject' },
      query: { queryType: 'anything' },
      queryRejectCondition: temporal.api.enums.v1.QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_OPEN,
    });
    expect(res.queryRejected?.status).toBe(temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED);
  });

  test('query: when many queries race with signals, every query is answered', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'q-race' });
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 4 === 0 ? handle.executeUpdate(setValue, { args: ['v'] }) : handle.query(state))));
      expect(answers.every((a) => typeof a === 'string')).toBe(true);
      await handle.signal(unblock, 'x');
      await handle.result();
    });
  });
});

describe('updates', () => {
  test('update: when an update is accepted and completes, the caller gets its result and the history has both events', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'u-ok' });
      expect(await handle.executeUpdate(setValue, { args: ['v2'] })).toBe('set:v2');
      expect(await handle.query(state)).toBe('v2');
      await handle.signal(unblock, 'x');
      expect(await handle.result()).toBe('v2/x');
    });
    const types = eventTypes('u-ok');
    expect(types).toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED);
    expect(types).toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED);
  });

  test('update: when the validator refuses, the caller gets WorkflowUpdateFailedError and no update event is written', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'u-reject' });
      const err = await handle.executeUpdate(setValue, { args: ['bad'] }).catch((e) => e);
      expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(err.cause.message).toBe('bad value refused');
      expect(await handle.query(state)).toBe('initial');
      await handle.terminate('cleanup');
    });
    const types = eventTypes('u-reject');
    expect(types).not.toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED);
  });

  test('update: when started with wait-for-accepted, the result is fetched later by polling', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'u-async' });
      const upd = await handle.startUpdate(setValue, { args: ['later'], waitForStage: WorkflowUpdateStage.ACCEPTED });
      expect(await upd.result()).toBe('set:later');
      await handle.terminate('cleanup');
    });
  });

  test('update: when the same update id is sent twice, the update runs once and both get its result', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'u-dedupe' });
      const a = await handle.executeUpdate(setValue, { args: ['once'], updateId: 'same-id' });
      const b = await handle.executeUpdate(setValue, { args: ['twice'], updateId: 'same-id' });
      expect([a, b]).toEqual(['set:once', 'set:once']);
      await handle.terminate('cleanup');
    });
    expect(eventTypes('u-dedupe').filter((t) => t === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)).toHaveLength(1);
  });

  test('update: when a closed workflow is updated, the call fails with not found', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    await worker.runUntil(h.client.workflow.execute(echo, { taskQueue: tq, workflowId: 'u-closed', args: ['x'] }));
    await expect(h.client.workflow.getHandle('u-closed').executeUpdate(setValue, { args: ['x'] })).rejects.toThrow(/already completed|not found/);
  });

  test('update: when updates race with the signal that completes the workflow, each either completes or fails cleanly', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'u-race' });
      const updates = Array.from({ length: 10 }, (_, i) => handle.executeUpdate(setValue, { args: [`v${i}`] }).then(
        (r) => r,
        (e) => `error:${(e as Error).message}`,
      ));
      await handle.signal(unblock, 'done');
      const results = await Promise.all(updates);
      await handle.result();
      expect(results.filter((r) => r.startsWith('set:')).length).toBeGreaterThan(0);
    });
  });
});
