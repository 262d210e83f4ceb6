// How updates reach the worker and what their callers hear, as on a real server: an update is sequenced after every
// event before its task started, and one the run never accepted before continuing as new is answered with the
// retryable "workflow is closing", so the caller's retry reaches the new run.
import { status } from '@grpc/grpc-js';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { long } from '../../devserver/proto';
import { rawRunPastFirstTask, suiteRawServer } from './harness';

const { EventType, CommandType, UpdateWorkflowExecutionLifecycleStage: Stage } = temporal.api.enums.v1;

describe('raw protocol', () => {
  const raw = suiteRawServer();
  let bare: Connection;
  beforeAll(async () => {
    // Without the SDK's retries, so the server's own answer is seen.
    bare = await Connection.connect({ address: raw.server.address, interceptors: [] });
  });
  afterAll(async () => {
    await bare.close();
  });
  const svc = () => bare.workflowService;

  const started = async (workflowId: string) => (await rawRunPastFirstTask(svc(), workflowId)).tq;
  const update = (workflowId: string, updateId: string, stage: number) =>
    svc().updateWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId },
      waitPolicy: { lifecycleStage: stage },
      request: { meta: { updateId }, input: { name: 'anything' } },
    });

  test('an update is sequenced after the events that came before its task started', async () => {
    const tq = await started('seq');
    await update('seq', 'u1', Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED);
    await svc().signalWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: 'seq' },
      signalName: 'poke',
      identity: 'raw',
    });
    const task = await svc().pollWorkflowTaskQueue({
      namespace: 'default',
      taskQueue: { name: tq, kind: 1 },
      identity: 'raw',
    });
    const events = task.history!.events!;
    const signal = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)!;
    expect(Number(signal.eventId)).toBe(Number(task.startedEventId) - 1);
    expect(task.messages!.map((m) => [m.protocolInstanceId, Number(m.eventId)])).toEqual([
      ['u1', Number(task.startedEventId) - 1],
    ]);
    await svc().terminateWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: 'seq' },
      reason: 'done',
    });
  });

  test('an update not accepted before the run continues as new is retryable, and the retry reaches the new run', async () => {
    const tq = await started('can');
    const waiting = update('can', 'u1', Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED).catch(
      (e: unknown) => e,
    );
    const task = await svc().pollWorkflowTaskQueue({
      namespace: 'default',
      taskQueue: { name: tq, kind: 1 },
      identity: 'raw',
    });
    expect(task.messages!.map((m) => m.protocolInstanceId)).toEqual(['u1']);
    await svc().respondWorkflowTaskCompleted({
      namespace: 'default',
      taskToken: task.taskToken,
      identity: 'raw',
      commands: [
        {
          commandType: CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
          continueAsNewWorkflowExecutionCommandAttributes: {
            workflowType: { name: 'raw' },
            taskQueue: { name: tq },
            workflowTaskTimeout: { seconds: long(10) },
          },
        },
      ],
    });
    const answer = (await waiting) as { code: number; message: string };
    expect([answer.code, answer.message]).toEqual([
      status.RESOURCE_EXHAUSTED,
      expect.stringMatching(/workflow is closing/),
    ]);
    // The retry of the same update goes to the run that continues the workflow.
    const retried = update('can', 'u1', Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED);
    const next = await svc().pollWorkflowTaskQueue({
      namespace: 'default',
      taskQueue: { name: tq, kind: 1 },
      identity: 'raw',
    });
    expect(next.workflowExecution!.runId).not.toBe(task.workflowExecution!.runId);
    expect((await retried).updateRef?.workflowExecution?.runId).toBe(next.workflowExecution!.runId);
    expect(next.messages!.map((m) => m.protocolInstanceId)).toEqual(['u1']);
    await svc().terminateWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: 'can' },
      reason: 'done',
    });
  });
});
