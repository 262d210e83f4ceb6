// The real server's blob limits with raw WorkflowService calls: warnings past the warning limit,
// refusals and substituted failures past the error limit.
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import pino from 'pino';
import { startDevServer, type DevServer } from '../../devserver';
import { long } from '../../devserver/proto';

const EventType = temporal.api.enums.v1.EventType;
const CommandType = temporal.api.enums.v1.CommandType;
const Cause = temporal.api.enums.v1.WorkflowTaskFailedCause;
const WARN = 1000;
const ERROR = 4000;

let server: DevServer;
let connection: Connection;
let svc: Connection['workflowService'];
const warnings: Record<string, unknown>[] = [];
let n = 0;

beforeAll(async () => {
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
  server = await startDevServer({ port: 0, logger, limits: { payloadWarnBytes: WARN, payloadErrorBytes: ERROR } });
  connection = await Connection.connect({ address: server.address });
  svc = connection.workflowService;
});
afterAll(async () => {
  await connection.close();
  await server.stop();
});

const blob = (bytes: number) => ({ payloads: [{ metadata: { encoding: Buffer.from('binary/plain') }, data: Buffer.alloc(bytes, 7) }] });

async function startRaw(input = blob(10)) {
  const tq = `blob-${++n}`;
  const workflowId = `blob-wf-${n}`;
  await svc.startWorkflowExecution({ namespace: 'default', workflowId, workflowType: { name: 'raw' }, taskQueue: { name: tq }, requestId: `b-${n}`, input });
  return { tq, workflowId };
}

async function events(workflowId: string) {
  return (await svc.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId } })).history!.events!;
}

async function failure(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  return p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e) => e,
  );
}

/** Starts a run whose first task schedules one activity; returns the activity task. */
async function withActivity() {
  const { tq, workflowId } = await startRaw();
  const task = await svc.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: tq, kind: 1 }, identity: 'raw' });
  await svc.respondWorkflowTaskCompleted({
    taskToken: task.taskToken,
    identity: 'raw',
    commands: [
      {
        commandType: CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
        scheduleActivityTaskCommandAttributes: {
          activityId: '1',
          activityType: { name: 'act' },
          taskQueue: { name: tq },
          startToCloseTimeout: { seconds: long(30) },
          retryPolicy: { maximumAttempts: 5 },
        },
      },
    ],
  });
  const act = await svc.pollActivityTaskQueue({ namespace: 'default', taskQueue: { name: tq }, identity: 'raw' });
  return { workflowId, act };
}

describe('blob limits', () => {
  test('start: when the input is past the warning limit, the start succeeds and the warning names the workflow and call', async () => {
    const { workflowId } = await startRaw(blob(WARN + 500));
    const warning = warnings.find((w) => w.workflowId === workflowId);
    expect(warning).toMatchObject({ msg: 'Blob data size exceeds the warning limit.', operation: 'StartWorkflowExecution', namespace: 'default' });
  });

  test('start and signal: when the input is past the error limit, the call is INVALID_ARGUMENT and nothing is written', async () => {
    const err = await failure(svc.startWorkflowExecution({ namespace: 'default', workflowId: 'too-big', workflowType: { name: 'raw' }, taskQueue: { name: 'x' }, requestId: 'tb', input: blob(ERROR + 1) }));
    expect(err.code).toBe(3);
    expect(err.details).toBe('Blob data size exceeds limit.');
    expect((await failure(svc.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: 'too-big' } }))).code).toBe(5);
    const { workflowId } = await startRaw();
    const before = (await events(workflowId)).length;
    const signal = await failure(svc.signalWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId }, signalName: 's', input: blob(ERROR + 1), identity: 'raw' }));
    expect(signal.code).toBe(3);
    expect((await events(workflowId)).length).toBe(before);
  });

  test('complete command: when the result is past the error limit, the task fails and the run is terminated', async () => {
    const { tq, workflowId } = await startRaw();
    const task = await svc.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: tq, kind: 1 }, identity: 'raw' });
    const err = await failure(
      svc.respondWorkflowTaskCompleted({
        taskToken: task.taskToken,
        identity: 'raw',
        commands: [{ commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: { result: blob(ERROR + 1) } }],
      }),
    );
    expect(err.code).toBe(3);
    const history = await events(workflowId);
    expect(history.slice(-2).map((e) => e.eventType)).toEqual([EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED]);
    expect(history.at(-2)!.workflowTaskFailedEventAttributes!.cause).toBe(Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES);
    expect(history.at(-1)!.workflowExecutionTerminatedEventAttributes).toMatchObject({
      reason: 'CompleteWorkflowExecutionCommandAttributes.Result exceeds size limit.',
      identity: 'history-service',
    });
    const { workflowExecutionInfo } = await svc.describeWorkflowExecution({ namespace: 'default', execution: { workflowId } });
    expect(workflowExecutionInfo!.status).toBe(temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED);
  });

  test('activity result: when it is past the error limit, the activity fails for good with the real server reason', async () => {
    const { workflowId, act } = await withActivity();
    await svc.respondActivityTaskCompleted({ taskToken: act.taskToken, identity: 'raw', result: blob(ERROR + 1) });
    const failed = (await events(workflowId)).find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED)!;
    expect(failed.activityTaskFailedEventAttributes!.failure).toMatchObject({ message: 'Complete result exceeds size limit.', source: 'Server', serverFailureInfo: { nonRetryable: true } });
    expect(failed.activityTaskFailedEventAttributes!.retryState).toBe(temporal.api.enums.v1.RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE);
  });

  test('activity failure: when the failure is past the error limit, a server failure replaces it and is returned', async () => {
    const { workflowId, act } = await withActivity();
    const res = await svc.respondActivityTaskFailed({
      taskToken: act.taskToken,
      identity: 'raw',
      failure: { message: 'boom', stackTrace: 'x'.repeat(ERROR + 1), applicationFailureInfo: { type: 'Boom' } },
    });
    expect(res.failures!.map((f) => f.message)).toEqual(['Failure exceeds size limit.']);
    const failed = (await events(workflowId)).find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED)!;
    expect(failed.activityTaskFailedEventAttributes!.failure).toMatchObject({ message: 'Failure exceeds size limit.', cause: { message: 'boom' } });
  });

  test('heartbeat: when the details are past the error limit, the activity fails and the worker is told to stop', async () => {
    const { workflowId, act } = await withActivity();
    const res = await svc.recordActivityTaskHeartbeat({ taskToken: act.taskToken, identity: 'raw', details: blob(ERROR + 1) });
    expect(res.cancelRequested).toBe(true);
    const failed = (await events(workflowId)).find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED)!;
    expect(failed.activityTaskFailedEventAttributes!.failure!.message).toBe('Heartbeat details exceed size limit.');
  });

  test('describe namespace: the limits it advertises are the ones the server enforces', async () => {
    const ns = await svc.describeNamespace({ namespace: 'default' });
    expect(Number((ns.namespaceInfo as any).limits.blobSizeLimitError)).toBe(ERROR);
  });
});
