import { TaskQueueKind, temporal } from '../proto';
import {
  activityById,
  activityTarget,
  canceledActivity,
  completeActivity,
  failActivity,
  heartbeatActivity,
  startActivityTask,
} from '../engine/activities';
import { queueKey, stickyQueueKey, type Engine } from '../engine/engine';
import { invalidArgument } from '../engine/errors';
import { respondQueryTaskCompleted, routeQuery } from '../engine/queries';
import { respondWorkflowTaskCompleted, respondWorkflowTaskFailed, startWorkflowTask } from '../engine/workflow-tasks';
import type { CallContext, Handler } from '../grpc/server';
import { TaskQueues } from '../matching/task-queues';
import { waitBound } from './executions';

const POLL_WAIT_MS = 60_000;

/** Long-polls a task queue until an item that is still valid can be started, or the wait ends. */
async function pollQueue<T, R>(
  queues: TaskQueues<T>,
  key: string,
  ctx: CallContext,
  identity: string,
  start: (item: T) => R | null,
  workerKey = '',
): Promise<R | object> {
  const until = Date.now() + waitBound(ctx, POLL_WAIT_MS);
  for (;;) {
    const remaining = until - Date.now();
    if (remaining <= 0) return {};
    const item = await queues.poll(key, remaining, ctx.signal, identity, workerKey);
    if (item === null) return {};
    if (ctx.signal.aborted) {
      // The caller went away after the task was handed over: give it to the next poller.
      queues.requeue(key, item);
      return {};
    }
    const res = start(item);
    if (res) return res;
  }
}

function taskQueueName(tq: temporal.api.taskqueue.v1.ITaskQueue | null | undefined): string {
  if (!tq?.name) throw invalidArgument('TaskQueue is not set on request.');
  return tq.name;
}

/** Worker calls: polls and task responses. */
export function taskHandlers(e: Engine): Record<string, Handler> {
  const byId = (req: { namespace?: string | null; workflowId?: string | null; runId?: string | null; activityId?: string | null }) =>
    activityById(e, e.namespace(req.namespace).name, req.workflowId ?? '', req.runId ?? '', req.activityId ?? '');
  // A namespace given is checked before the token, so a wrong one is NamespaceNotFound as on a real server; without
  // one, the token's namespace counts.
  const byToken = (req: { namespace?: string | null; taskToken?: Uint8Array | null }) => {
    if (req.namespace) e.namespace(req.namespace);
    return activityTarget(e, req.taskToken);
  };
  return {
    PollWorkflowTaskQueue: async (req: temporal.api.workflowservice.v1.IPollWorkflowTaskQueueRequest, ctx) => {
      const ns = e.namespace(req.namespace).name;
      const name = taskQueueName(req.taskQueue);
      const sticky = req.taskQueue?.kind === TaskQueueKind.TASK_QUEUE_KIND_STICKY;
      const key = sticky ? stickyQueueKey(ns, name) : queueKey(ns, name);
      return pollQueue(e.workflowQueues, key, ctx, req.identity ?? '', (item) => e.transact((tx) => startWorkflowTask(e, tx, item, req.identity ?? '', sticky)), req.workerInstanceKey ?? '');
    },
    RespondWorkflowTaskCompleted: (req: temporal.api.workflowservice.v1.IRespondWorkflowTaskCompletedRequest) =>
      e.transact((tx) => respondWorkflowTaskCompleted(e, tx, req)),
    RespondWorkflowTaskFailed: (req: temporal.api.workflowservice.v1.IRespondWorkflowTaskFailedRequest) => {
      e.transact((tx) => respondWorkflowTaskFailed(e, tx, req));
      return {};
    },
    RespondQueryTaskCompleted: (req: temporal.api.workflowservice.v1.IRespondQueryTaskCompletedRequest) => {
      respondQueryTaskCompleted(e, req);
      return {};
    },
    PollActivityTaskQueue: async (req: temporal.api.workflowservice.v1.IPollActivityTaskQueueRequest, ctx) => {
      const ns = e.namespace(req.namespace).name;
      const key = queueKey(ns, taskQueueName(req.taskQueue));
      return pollQueue(e.activityQueues, key, ctx, req.identity ?? '', (item) => e.transact((tx) => startActivityTask(e, tx, item, req.identity ?? '')), req.workerInstanceKey ?? '');
    },
    RespondActivityTaskCompleted: (req: temporal.api.workflowservice.v1.IRespondActivityTaskCompletedRequest) =>
      e.transact((tx) => {
        completeActivity(e, tx, byToken(req), req.result, req.identity ?? '');
        return {};
      }),
    RespondActivityTaskCompletedById: (req: temporal.api.workflowservice.v1.IRespondActivityTaskCompletedByIdRequest) =>
      e.transact((tx) => {
        completeActivity(e, tx, byId(req), req.result, req.identity ?? '');
        return {};
      }),
    RespondActivityTaskFailed: (req: temporal.api.workflowservice.v1.IRespondActivityTaskFailedRequest) =>
      e.transact((tx) => {
        return { failures: failActivity(e, tx, byToken(req), req.failure, req.lastHeartbeatDetails, req.identity ?? '') };
      }),
    RespondActivityTaskFailedById: (req: temporal.api.workflowservice.v1.IRespondActivityTaskFailedByIdRequest) =>
      e.transact((tx) => {
        return { failures: failActivity(e, tx, byId(req), req.failure, req.lastHeartbeatDetails, req.identity ?? '') };
      }),
    RespondActivityTaskCanceled: (req: temporal.api.workflowservice.v1.IRespondActivityTaskCanceledRequest) =>
      e.transact((tx) => {
        canceledActivity(e, tx, byToken(req), req.details, req.identity ?? '');
        return {};
      }),
    RespondActivityTaskCanceledById: (req: temporal.api.workflowservice.v1.IRespondActivityTaskCanceledByIdRequest) =>
      e.transact((tx) => {
        canceledActivity(e, tx, byId(req), req.details, req.identity ?? '');
        return {};
      }),
    RecordActivityTaskHeartbeat: (req: temporal.api.workflowservice.v1.IRecordActivityTaskHeartbeatRequest) =>
      e.transact((tx) => heartbeatActivity(e, tx, byToken(req), req.details)),
    RecordActivityTaskHeartbeatById: (req: temporal.api.workflowservice.v1.IRecordActivityTaskHeartbeatByIdRequest) =>
      e.transact((tx) => heartbeatActivity(e, tx, byId(req), req.details)),
    // The worker's cache goes with it: tasks waiting on its sticky queue move to their runs' own queues now, and
    // new ones go there, instead of waiting out the sticky schedule-to-start timeout.
    ShutdownWorker: (req: temporal.api.workflowservice.v1.IShutdownWorkerRequest) => {
      const ns = e.namespace(req.namespace).name;
      // The worker waits for its polls to end (the namespace says workerPollCompleteOnShutdown): end them now.
      if (req.workerInstanceKey) {
        e.workflowQueues.releaseWorker(req.workerInstanceKey);
        e.activityQueues.releaseWorker(req.workerInstanceKey);
      }
      if (!req.stickyTaskQueue) return {};
      const waiting = e.workflowQueues.abandon(stickyQueueKey(ns, req.stickyTaskQueue));
      e.transact((tx) => {
        for (const item of waiting) {
          if (item.kind === 'query') {
            const q = e.queries.get(item.queryId);
            if (q) routeQuery(e, q);
            continue;
          }
          const run = e.runs.get(item.runKey);
          if (run) e.unstick(tx, run, item.scheduledEventId);
        }
      });
      return {};
    },
    ResetStickyTaskQueue: (req: temporal.api.workflowservice.v1.IResetStickyTaskQueueRequest) => {
      const run = e.findRun(e.namespace(req.namespace).name, req.execution);
      run.sticky = null;
      return {};
    },
  };
}
