// Protocol-level checks with raw WorkflowService calls, where the SDK cannot force the timing.
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startDevServer, type DevServer } from '../../devserver';
import { long } from '../../devserver/proto';

const EventType = temporal.api.enums.v1.EventType;
const CommandType = temporal.api.enums.v1.CommandType;
let server: DevServer;
let connection: Connection;
let svc: Connection['workflowService'];
let n = 0;

beforeAll(async () => {
  server = await startDevServer({ port: 0, logLevel: 'silent' });
  connection = await Connection.connect({ address: server.address });
  svc = connection.workflowService;
});
afterAll(async () => {
  await connection.close();
  await server.stop();
});

const json = (v: unknown) => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(v)) });

async function startRaw(extra: Partial<temporal.api.workflowservice.v1.IStartWorkflowExecutionRequest> = {}) {
  const tq = `raw-${++n}`;
  const workflowId = `raw-wf-${n}`;
  const { runId } = await svc.startWorkflowExecution({ namespace: 'default', workflowId, workflowType: { name: 'raw' }, taskQueue: { name: tq }, requestId: `r-${n}`, ...extra });
  return { tq, workflowId, runId: runId! };
}

const poll = (tq: string) => svc.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: tq, kind: 1 }, identity: 'raw-worker' });

async function types(workflowId: string): Promise<number[]> {
  const h = await svc.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId } });
  return h.history!.events!.map((e) => Number(e.eventType));
}

async function rejectsWith(p: Promise<unknown>, code: number, message?: RegExp): Promise<void> {
  const err: any = await p.then(
    () => null,
    (e) => e,
  );
  expect(err).not.toBeNull();
  expect(err.code).toBe(code);
  if (message) expect(err.details ?? err.message).toMatch(message);
}

describe('workflow task protocol', () => {
  test('poll: the first task has previousStartedEventId 0; the next has the started id of the completed one', async () => {
    const { tq, workflowId } = await startRaw();
    const t1 = await poll(tq);
    expect(Number(t1.previousStartedEventId)).toBe(0);
    expect(Number(t1.startedEventId)).toBe(3);
    expect(t1.history!.events!.map((e) => e.eventType)).toEqual([
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    ]);
    await svc.respondWorkflowTaskCompleted({ namespace: 'default', taskToken: t1.taskToken, commands: [] });
    await svc.signalWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId }, signalName: 's' });
    const t2 = await poll(tq);
    expect(Number(t2.previousStartedEventId)).toBe(3);
  });

  test('buffer: when a signal arrives while a task runs, it is written after the task and its commands, and a new task follows', async () => {
    const { tq, workflowId } = await startRaw();
    const t1 = await poll(tq);
    await svc.signalWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId }, signalName: 'during' });
    expect((await types(workflowId)).at(-1)).toBe(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    await svc.respondWorkflowTaskCompleted({
      namespace: 'default',
      taskToken: t1.taskToken,
      commands: [{ commandType: CommandType.COMMAND_TYPE_START_TIMER, startTimerCommandAttributes: { timerId: 't1', startToFireTimeout: { seconds: long(60) } } }],
    });
    expect((await types(workflowId)).slice(3)).toEqual([
      EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
      EventType.EVENT_TYPE_TIMER_STARTED,
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    ]);
  });

  test('unhandled command: when a signal arrives before a completing task responds, the completion fails with UnhandledCommand and a new task carries the signal', async () => {
    const { tq, workflowId } = await startRaw();
    const t1 = await poll(tq);
    await svc.signalWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId }, signalName: 'late' });
    await rejectsWith(
      svc.respondWorkflowTaskCompleted({
        namespace: 'default',
        taskToken: t1.taskToken,
        commands: [{ commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: { result: { payloads: [json('x')] } } }],
      }),
      3,
      /^UnhandledCommand$/,
    );
    const history = await svc.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId } });
    const failed = history.history!.events!.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)!;
    expect(failed.workflowTaskFailedEventAttributes!.cause).toBe(temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND);
    const t2 = await poll(tq);
    expect(t2.attempt).toBe(1);
    expect(t2.history!.events!.map((e) => e.eventType)).toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    await svc.respondWorkflowTaskCompleted({
      namespace: 'default',
      taskToken: t2.taskToken,
      commands: [{ commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: {} }],
    });
    expect((await types(workflowId)).at(-1)).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  });

  test('timeout: when a started task is not answered within its timeout, it times out, is retried with attempt 2, and the old token is NOT_FOUND', async () => {
    const { tq, workflowId } = await startRaw({ workflowTaskTimeout: { seconds: long(1) } });
    const t1 = await poll(tq);
    const t2 = await poll(tq);
    expect(t2.attempt).toBe(2);
    expect(await types(workflowId)).toContain(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT);
    await rejectsWith(svc.respondWorkflowTaskCompleted({ namespace: 'default', taskToken: t1.taskToken, commands: [] }), 5, /Workflow task not found/);
    // t2 is not answered: with a 1 s timeout a busy machine could let it time out too.
    await svc.terminateWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId } });
  });

  test('failure: when a task is failed by the worker, the next task has attempt 2', async () => {
    const { tq } = await startRaw();
    const t1 = await poll(tq);
    await svc.respondWorkflowTaskFailed({ namespace: 'default', taskToken: t1.taskToken, cause: 2, failure: { message: 'bug' } });
    const t2 = await poll(tq);
    expect(t2.attempt).toBe(2);
  });

  test('bad command: when an activity has no timeout, the task fails with BAD_SCHEDULE_ACTIVITY_ATTRIBUTES and the call is INVALID_ARGUMENT', async () => {
    const { tq, workflowId } = await startRaw();
    const t1 = await poll(tq);
    await rejectsWith(
      svc.respondWorkflowTaskCompleted({
        namespace: 'default',
        taskToken: t1.taskToken,
        commands: [{ commandType: CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK, scheduleActivityTaskCommandAttributes: { activityId: '1', activityType: { name: 'a' } } }],
      }),
      3,
      /StartToClose/,
    );
    const history = await svc.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId } });
    const failed = history.history!.events!.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)!;
    expect(failed.workflowTaskFailedEventAttributes!.cause).toBe(
      temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES,
    );
  });

  test('activity defaults: when only start-to-close is given, the scheduled event carries the real server defaults', async () => {
    const { tq, workflowId } = await startRaw();
    const t1 = await poll(tq);
    await svc.respondWorkflowTaskCompleted({
      namespace: 'default',
      taskToken: t1.taskToken,
      commands: [
        {
          commandType: CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
          scheduleActivityTaskCommandAttributes: { activityId: '1', activityType: { name: 'a' }, startToCloseTimeout: { seconds: long(5) } },
        },
      ],
    });
    const history = await svc.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId } });
    const a = history.history!.events!.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)!.activityTaskScheduledEventAttributes!;
    expect(a.taskQueue?.name).toBe(tq);
    expect(Number(a.retryPolicy?.initialInterval?.seconds)).toBe(1);
    expect(a.retryPolicy?.backoffCoefficient).toBe(2);
    expect(Number(a.retryPolicy?.maximumInterval?.seconds)).toBe(100);
    expect(Number(a.startToCloseTimeout?.seconds)).toBe(5);
  });
});

describe('malformed requests', () => {
  const base = () => ({ namespace: 'default', workflowId: `bad-${++n}`, workflowType: { name: 'w' }, taskQueue: { name: 'q' } });

  test.each([
    ['an empty namespace', 3, { namespace: '' }, /Namespace/],
    ['an unknown namespace', 5, { namespace: 'nope' }, /Namespace nope/],
    ['an empty workflow id', 3, { workflowId: '' }, /WorkflowId/],
    ['an empty workflow type', 3, { workflowType: { name: '' } }, /WorkflowType/],
    ['no task queue', 3, { taskQueue: { name: '' } }, /TaskQueue/],
    ['a negative run timeout', 3, { workflowRunTimeout: { seconds: long(-1) } }, /WorkflowRunTimeout/],
    ['an over-long workflow id', 3, { workflowId: 'x'.repeat(1001) }, /length/],
    ['a payload over 2 MB', 3, { input: { payloads: [{ data: Buffer.alloc(2 * 1024 * 1024 + 1) }] } }, /size exceeds limit/],
  ] as const)('start: when the request has %s, it is refused with code %d', async (_what, code, over, message) => {
    await rejectsWith(svc.startWorkflowExecution({ ...base(), ...(over as object) }), code, message);
  });

  test('tokens: when a task token is garbage, the response is INVALID_ARGUMENT; when it names nothing, NOT_FOUND', async () => {
    await rejectsWith(svc.respondWorkflowTaskCompleted({ namespace: 'default', taskToken: Buffer.from('garbage') }), 3);
    await rejectsWith(svc.respondActivityTaskCompleted({ namespace: 'default', taskToken: Buffer.from(JSON.stringify({ k: 'a', r: 'x', s: 1, a: 1 })) }), 5);
    await rejectsWith(svc.respondWorkflowTaskCompleted({ namespace: 'default' }), 3, /token/i);
  });

  test('unknown workflow: describe, signal, terminate and history answer NOT_FOUND', async () => {
    const execution = { workflowId: 'never-started' };
    await rejectsWith(svc.describeWorkflowExecution({ namespace: 'default', execution }), 5, /workflow not found for ID: never-started/);
    await rejectsWith(svc.signalWorkflowExecution({ namespace: 'default', workflowExecution: execution, signalName: 's' }), 5);
    await rejectsWith(svc.terminateWorkflowExecution({ namespace: 'default', workflowExecution: execution }), 5);
    await rejectsWith(svc.getWorkflowExecutionHistory({ namespace: 'default', execution }), 5);
  });

  test('unimplemented: a call the server does not serve answers UNIMPLEMENTED naming the call', async () => {
    await rejectsWith(svc.listWorkerDeployments({ namespace: 'default' }), 12, /ListWorkerDeployments/);
  });

  test('namespaces: register, describe and list; registering twice is ALREADY_EXISTS', async () => {
    await svc.registerNamespace({ namespace: 'ns-raw', workflowExecutionRetentionPeriod: { seconds: long(86400) } });
    await rejectsWith(svc.registerNamespace({ namespace: 'ns-raw' }), 6, /Namespace already exists/);
    const d = await svc.describeNamespace({ namespace: 'ns-raw' });
    expect(d.namespaceInfo?.name).toBe('ns-raw');
    expect(Number(d.config?.workflowExecutionRetentionTtl?.seconds)).toBe(86400);
    const list = await svc.listNamespaces({});
    expect(list.namespaces!.map((x) => x.namespaceInfo?.name)).toEqual(expect.arrayContaining(['default', 'ns-raw']));
    const info = await svc.getClusterInfo({});
    expect(info.serverVersion).toBeTruthy();
  });

  test('robustness: after every malformed call the server still serves', async () => {
    const info = await svc.getSystemInfo({});
    expect(info.capabilities?.sdkMetadata).toBe(true);
  });
});
