import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { Client, Connection, WithStartWorkflowOperation, WorkflowUpdateFailedError, isGrpcServiceError } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { startHarness, suiteHarness, type Harness } from './harness';
import { outlivedUpdate, setValue, unblock, waiter } from './workflows';

const EventType = temporal.api.enums.v1.EventType;
const h = suiteHarness();

function eventTypes(runId: string): number[] {
  return [...h.server.engine.runs.values()].find((r) => r.runId === runId)!.events.map((e) => Number(e.eventType));
}

/** The MultiOperationExecutionFailure a gRPC error carries, decoded. */
function multiOperationFailure(err: unknown): temporal.api.errordetails.v1.MultiOperationExecutionFailure {
  const bin = (err as { metadata?: { get(k: string): unknown[] } }).metadata?.get('grpc-status-details-bin')?.[0] as Buffer;
  const rpcStatus = (temporal as any).root.lookupType('google.rpc.Status').decode(bin);
  const any = rpcStatus.details[0];
  expect(any.type_url ?? any.typeUrl).toBe('type.googleapis.com/temporal.api.errordetails.v1.MultiOperationExecutionFailure');
  return temporal.api.errordetails.v1.MultiOperationExecutionFailure.decode(any.value);
}

/** A raw update-with-start request for `waiter`, as the SDK builds it. */
function request(workflowId: string, taskQueue: string) {
  return {
    namespace: 'default',
    operations: [
      {
        startWorkflow: {
          namespace: 'default',
          workflowId,
          workflowType: { name: 'waiter' },
          taskQueue: { name: taskQueue },
          requestId: randomUUID(),
          workflowIdConflictPolicy: temporal.api.enums.v1.WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
        },
      },
      {
        updateWorkflow: {
          namespace: 'default',
          workflowExecution: { workflowId },
          waitPolicy: { lifecycleStage: temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED },
          request: { meta: { updateId: randomUUID() }, input: { name: 'setValue' } },
        },
      },
    ],
  };
}

describe('update-with-start', () => {
  test('update-with-start: when no workflow runs, it starts one whose first workflow task carries the update', async () => {
    await h.withWorker(async (tq) => {
      const startOp = new WithStartWorkflowOperation(waiter, { workflowId: `uws-new-${tq}`, taskQueue: tq, workflowIdConflictPolicy: 'FAIL' });
      const result = await h.client.workflow.executeUpdateWithStart(setValue, { args: ['first'], startWorkflowOperation: startOp });
      expect(result).toBe('set:first');
      const handle = await startOp.workflowHandle();
      const types = eventTypes((await handle.describe()).runId);
      // Started, task scheduled, started, completed: the update is accepted and completed by that first task.
      expect(types.slice(0, 6)).toEqual([
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
      ]);
      await handle.signal(unblock, 'done');
      expect(await handle.result()).toBe('first/done');
    });
  });

  test('update-with-start: when the workflow runs and the policy is USE_EXISTING, the update goes to that run', async () => {
    await h.withWorker(async (tq) => {
      const workflowId = `uws-existing-${tq}`;
      const running = await h.client.workflow.start(waiter, { workflowId, taskQueue: tq });
      const startOp = new WithStartWorkflowOperation(waiter, { workflowId, taskQueue: tq, workflowIdConflictPolicy: 'USE_EXISTING' });
      const upd = await h.client.workflow.startUpdateWithStart(setValue, { args: ['again'], waitForStage: 'ACCEPTED', startWorkflowOperation: startOp });
      expect(await upd.result()).toBe('set:again');
      expect(upd.workflowRunId).toBe(running.firstExecutionRunId);
      expect((await (await startOp.workflowHandle()).describe()).runId).toBe(running.firstExecutionRunId);
      expect([...h.server.engine.runs.values()].filter((r) => r.workflowId === workflowId)).toHaveLength(1);
      await running.signal(unblock, 'done');
      expect(await running.result()).toBe('again/done');
    });
  });

  test('update-with-start: when the workflow runs and the policy is FAIL, both the start and the update fail as already started', async () => {
    await h.withWorker(async (tq) => {
      const workflowId = `uws-fail-${tq}`;
      const running = await h.client.workflow.start(waiter, { workflowId, taskQueue: tq });
      const startOp = new WithStartWorkflowOperation(waiter, { workflowId, taskQueue: tq, workflowIdConflictPolicy: 'FAIL' });
      const updating = h.client.workflow.startUpdateWithStart(setValue, { args: ['x'], waitForStage: 'ACCEPTED', startWorkflowOperation: startOp });
      await expect(updating).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
      await expect(startOp.workflowHandle()).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);

      // On the wire: the start's own status with its typed detail, the update aborted.
      const err = await h.connection.workflowService.executeMultiOperation(request(workflowId, tq)).catch((e: unknown) => e);
      expect((err as { code: number }).code).toBe(status.ALREADY_EXISTS);
      const failure = multiOperationFailure(err);
      expect(failure.statuses.map((s) => s.code)).toEqual([status.ALREADY_EXISTS, status.ABORTED]);
      expect(failure.statuses[0].details![0].type_url).toBe('type.googleapis.com/temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure');
      expect(failure.statuses[1].details![0].type_url).toBe('type.googleapis.com/temporal.api.failure.v1.MultiOperationExecutionAborted');
      expect([...h.server.engine.runs.values()].find((r) => r.runId === running.firstExecutionRunId)!.updates.size).toBe(0);
      await running.signal(unblock, 'done');
      expect(await running.result()).toBe('initial/done');
    });
  });

  test('update-with-start: when the validator refuses the update, the workflow is still started and the update fails', async () => {
    await h.withWorker(async (tq) => {
      const startOp = new WithStartWorkflowOperation(waiter, { workflowId: `uws-refused-${tq}`, taskQueue: tq, workflowIdConflictPolicy: 'FAIL' });
      const err = await h.client.workflow.executeUpdateWithStart(setValue, { args: ['bad'], startWorkflowOperation: startOp }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
      const handle = await startOp.workflowHandle();
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await handle.signal(unblock, 'done');
      expect(await handle.result()).toBe('initial/done');
    });
  });

  test('update-with-start: when a request is malformed, it fails with INVALID_ARGUMENT and starts nothing', async () => {
    const tq = h.taskQueue();
    const before = h.server.engine.runs.size;
    const tooLong = new WithStartWorkflowOperation(waiter, { workflowId: 'x'.repeat(1001), taskQueue: tq, workflowIdConflictPolicy: 'FAIL' });
    const err = await h.client.workflow.startUpdateWithStart(setValue, { args: ['x'], waitForStage: 'ACCEPTED', startWorkflowOperation: tooLong }).catch((e: unknown) => e);
    expect(isGrpcServiceError(err) && err.code === status.INVALID_ARGUMENT).toBe(true);
    expect(String((err as Error).message)).toMatch(/WorkflowId.*length/i);
    await expect(tooLong.workflowHandle()).rejects.toThrow(/WorkflowId/);

    const svc = h.connection.workflowService;
    const workflowId = `uws-bad-${tq}`;
    const good = request(workflowId, tq);
    const cases: [string, temporal.api.workflowservice.v1.IExecuteMultiOperationRequest, RegExp][] = [
      ['operations reversed', { ...good, operations: [good.operations[1], good.operations[0]] }, /exactly \[Start, Update\]/],
      ['one operation', { ...good, operations: [good.operations[0]] }, /exactly \[Start, Update\]/],
      ['other workflow id', { ...good, operations: [good.operations[0], { updateWorkflow: { ...good.operations[1].updateWorkflow, workflowExecution: { workflowId: 'other' } } }] }, /not consistent/],
      ['run id on the update', { ...good, operations: [good.operations[0], { updateWorkflow: { ...good.operations[1].updateWorkflow, workflowExecution: { workflowId, runId: randomUUID() } } }] }, /RunId is not allowed/],
      ['cron', { ...good, operations: [{ startWorkflow: { ...good.operations[0].startWorkflow, cronSchedule: '* * * * *' } }, good.operations[1]] }, /CronSchedule is not allowed/],
      ['no update id', { ...good, operations: [good.operations[0], { updateWorkflow: { ...good.operations[1].updateWorkflow, request: { input: { name: 'setValue' } } } }] }, /Update id is not set/],
    ];
    for (const [name, req, message] of cases) {
      const e = await svc.executeMultiOperation(req).catch((x: unknown) => x);
      expect([name, (e as { code: number }).code]).toEqual([name, status.INVALID_ARGUMENT]);
      // Each operation's own refusal is in the detail; the shape errors have none.
      const text = /exactly/.test(message.source) ? (e as Error).message : multiOperationFailure(e).statuses.map((s) => s.message).join(' | ');
      expect([name, text]).toEqual([name, expect.stringMatching(message)]);
    }
    expect(h.server.engine.runs.size).toBe(before);
  });
});

describe('update limits', () => {
  let small: Harness;
  let bare: Connection;
  beforeAll(async () => {
    small = await startHarness({ dynamicConfig: { 'history.maxInFlightUpdates': 2, 'history.maxTotalUpdates': 3 } });
    // Without the SDK's retries, so a RESOURCE_EXHAUSTED answer is seen as it is.
    bare = await Connection.connect({ address: small.server.address, interceptors: [] });
  });
  afterAll(async () => {
    await bare.close();
    await small.close();
  });

  test('update limits: past the in-flight limit an update is RESOURCE_EXHAUSTED, past the total limit FAILED_PRECONDITION', async () => {
    const tq = small.taskQueue();
    const worker = await small.worker(tq);
    await worker.runUntil(async () => {
      const handle = await small.client.workflow.start(outlivedUpdate, { workflowId: `limits-${tq}`, taskQueue: tq });
      const update = (id: string) =>
        bare.workflowService.updateWorkflowExecution({
          namespace: 'default',
          workflowExecution: { workflowId: handle.workflowId },
          waitPolicy: { lifecycleStage: temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED },
          request: { meta: { updateId: id }, input: { name: 'setValue' } },
        });
      await update('u1');
      await update('u2');
      const exhausted = await update('u3').catch((e: unknown) => e);
      expect((exhausted as { code: number }).code).toBe(status.RESOURCE_EXHAUSTED);
      expect((exhausted as Error).message).toMatch(/concurrent in-flight updates has been reached \(2\)/);
      // The same id again is the same update, not a new one.
      expect((await update('u1')).updateRef?.updateId).toBe('u1');

      // Update-with-start against the running workflow meets the same limit, as the update's failure.
      const startOp = new WithStartWorkflowOperation(outlivedUpdate, { workflowId: handle.workflowId, taskQueue: tq, workflowIdConflictPolicy: 'USE_EXISTING' });
      const viaStart = await new Client({ connection: bare }).workflow
        .startUpdateWithStart(setValue, { args: ['x'], waitForStage: 'ACCEPTED', startWorkflowOperation: startOp })
        .catch((e: unknown) => e);
      expect(isGrpcServiceError(viaStart) && viaStart.code).toBe(status.RESOURCE_EXHAUSTED);

      // Once the workflow has closed, the run's total would be the next limit; a new run starts counting afresh.
      await handle.signal(unblock, 'done');
      await handle.result();
      const next = await small.client.workflow.start(waiter, { workflowId: `limits-total-${tq}`, taskQueue: tq });
      const again = (id: string, value: string) =>
        bare.workflowService.updateWorkflowExecution({
          namespace: 'default',
          workflowExecution: { workflowId: next.workflowId },
          waitPolicy: { lifecycleStage: temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED },
          request: { meta: { updateId: id }, input: { name: 'setValue', args: { payloads: [defaultPayloadConverter.toPayload(value)] } } },
        });
      // Updates the validator rejects leave nothing in the run and do not count, as on a real server.
      for (const id of ['r1', 'r2', 'r3', 'r4']) expect((await again(id, 'bad')).outcome?.failure).toBeTruthy();
      for (const id of ['t1', 't2', 't3']) expect((await again(id, id)).outcome?.success).toBeTruthy();
      const tooMany = await again('t4', 't4').catch((e: unknown) => e);
      expect((tooMany as { code: number }).code).toBe(status.FAILED_PRECONDITION);
      expect((tooMany as Error).message).toMatch(/total number of distinct updates in this workflow has been reached \(3\)/);
      await next.signal(unblock, 'done');
      await next.result();
    });
  });
});
