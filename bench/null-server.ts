// A stand-in Temporal server that does as little as the SDK allows, for one-task workflows only:
// no history kept, no checks, no persistence. It measures the SDK's own ceiling on this machine,
// so the embedded server's figures can be read as "what the server costs".
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { Engine } from '../devserver/engine/engine';
import { createGrpcServer, type CallContext } from '../devserver/grpc/server';
import { bindServer } from '../devserver/grpc/bind';
import { clusterHandlers } from '../devserver/rpc/cluster';
import { MemoryStore } from '../devserver/store/store';
import { systemClock } from '../devserver/timers/clock';
import { CommandType, EventType, TaskQueueKind, attributesField, long, timestamp, type IHistoryEvent, temporal } from '../devserver/proto';

type StartRequest = temporal.api.workflowservice.v1.IStartWorkflowExecutionRequest;

interface NullRun {
  runId: string;
  req: StartRequest;
  result?: temporal.api.common.v1.IPayloads | null;
  waiters: (() => void)[];
}

function event(id: number, eventType: number, attributes: object): IHistoryEvent {
  return { eventId: long(id), eventTime: timestamp(Date.now()), eventType, taskId: long(id), [attributesField(eventType)]: attributes };
}

/** Starts the stand-in on a free loopback port. */
export async function startNullServer(): Promise<{ address: string; stop(): void }> {
  const log = pino({ level: 'error' });
  const engine = new Engine({ clock: systemClock, store: new MemoryStore(), log });
  engine.transact((tx) => engine.ensureNamespace(tx, 'default'));
  const runs = new Map<string, NullRun>();
  const queue: NullRun[] = [];
  const pollers: ((run: NullRun | null) => void)[] = [];
  const handlers = {
    ...clusterHandlers(engine, 'memory'),
    StartWorkflowExecution: (req: StartRequest) => {
      const run: NullRun = { runId: randomUUID(), req, waiters: [] };
      runs.set(req.workflowId!, run);
      const poller = pollers.shift();
      if (poller) poller(run);
      else queue.push(run);
      return { runId: run.runId, started: true };
    },
    PollWorkflowTaskQueue: async (_req: unknown, ctx: CallContext) => {
      const run = queue.shift() ?? (await new Promise<NullRun | null>((resolve) => {
        pollers.push(resolve);
        ctx.signal.onAbort(() => resolve(null));
      }));
      if (!run) return {};
      const { req } = run;
      return {
        taskToken: Buffer.from(req.workflowId!),
        workflowExecution: { workflowId: req.workflowId, runId: run.runId },
        workflowType: req.workflowType,
        previousStartedEventId: long(0),
        startedEventId: long(3),
        attempt: 1,
        history: {
          events: [
            event(1, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, {
              workflowType: req.workflowType,
              taskQueue: req.taskQueue,
              input: req.input,
              workflowTaskTimeout: { seconds: long(10) },
              originalExecutionRunId: run.runId,
              firstExecutionRunId: run.runId,
              attempt: 1,
              workflowId: req.workflowId,
            }),
            event(2, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, { taskQueue: req.taskQueue, startToCloseTimeout: { seconds: long(10) }, attempt: 1 }),
            event(3, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, { scheduledEventId: long(2), requestId: randomUUID() }),
          ],
        },
        workflowExecutionTaskQueue: { name: req.taskQueue?.name, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        scheduledTime: timestamp(Date.now()),
        startedTime: timestamp(Date.now()),
      };
    },
    RespondWorkflowTaskCompleted: (req: temporal.api.workflowservice.v1.IRespondWorkflowTaskCompletedRequest) => {
      const run = runs.get(Buffer.from(req.taskToken!).toString())!;
      const done = req.commands?.find((c) => c.commandType === CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION);
      run.result = done?.completeWorkflowExecutionCommandAttributes?.result ?? null;
      run.waiters.splice(0).forEach((f) => f());
      return {};
    },
    GetWorkflowExecutionHistory: async (req: temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryRequest) => {
      const run = runs.get(req.execution!.workflowId!)!;
      if (run.result === undefined) await new Promise<void>((resolve) => run.waiters.push(resolve));
      runs.delete(req.execution!.workflowId!);
      return {
        history: { events: [event(6, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, { result: run.result, workflowTaskCompletedEventId: long(5) })] },
      };
    },
  };
  const server = createGrpcServer(handlers, { log, includeTestService: false, onShutdown: () => undefined });
  const port = await bindServer(server, '127.0.0.1', 0);
  return { address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}
