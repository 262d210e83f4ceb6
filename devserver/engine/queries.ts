import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { TaskQueueKind, temporal, timestamp, long } from '../proto';
import type { Engine, PendingQuery } from './engine';
import { queueKey } from './engine';
import { ServerError, invalidArgument, taskNotFound } from './errors';
import { executionStatus, taskHistory, type Run } from './run';
import { decodeToken, encodeToken } from './token';

const QueryResultType = temporal.api.enums.v1.QueryResultType;
const RejectCondition = temporal.api.enums.v1.QueryRejectCondition;
type QueryResponse = temporal.api.workflowservice.v1.IQueryWorkflowResponse;

/**
 * Sends a query the way the real server does: as a legacy query task when no workflow task is
 * outstanding (or the run is closed), attached to the scheduled workflow task otherwise, and held
 * while a workflow task is running.
 */
export function routeQuery(e: Engine, q: PendingQuery): void {
  const run = e.runs.get(q.runKey);
  if (!run) return q.resolve({ error: 'workflow not found' });
  if (run.state !== 'running' || run.wft.state === 'none') {
    q.route = 'legacy';
    // A worker that keeps the run cached answers from its cache: the query goes to its sticky queue while served.
    const key = e.servedStickyQueue(run) ?? queueKey(run.namespace, run.taskQueue);
    e.workflowQueues.add(key, { kind: 'query', runKey: run.key, queryId: q.id });
  } else q.route = run.wft.state === 'scheduled' ? 'attached' : 'waiting';
}

/** QueryWorkflow: resolves with the answer, a rejection, or a gRPC error. */
export async function queryWorkflow(
  e: Engine,
  req: temporal.api.workflowservice.v1.IQueryWorkflowRequest,
  timeoutMs: number,
  abort: { onAbort(fn: () => void): void },
): Promise<QueryResponse> {
  const ns = e.namespace(req.namespace).name;
  const run = e.findRun(ns, req.execution);
  if (!req.query?.queryType) throw invalidArgument('QueryType is not set on request.');
  e.requireBlob(req.query.queryArgs, { namespace: ns, workflowId: run.workflowId, runId: run.runId, operation: 'QueryWorkflow' });
  const reject = req.queryRejectCondition ?? 0;
  if (
    (reject === RejectCondition.QUERY_REJECT_CONDITION_NOT_OPEN && run.state !== 'running') ||
    (reject === RejectCondition.QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY && run.state !== 'running' && run.state !== 'completed')
  )
    return { queryRejected: { status: executionStatus(run.state) } };
  const result = await new Promise<Parameters<PendingQuery['resolve']>[0] | null>((resolve) => {
    const id = randomUUID();
    const timer = setTimeout(() => finish(null), timeoutMs);
    const finish = (r: Parameters<PendingQuery['resolve']>[0] | null) => {
      clearTimeout(timer);
      e.queries.delete(id);
      resolve(r);
    };
    const q: PendingQuery = { id, runKey: run.key, query: req.query!, route: 'waiting', resolve: finish };
    e.queries.set(id, q);
    abort.onAbort(() => finish(null));
    routeQuery(e, q);
  });
  if (!result) throw new ServerError(status.DEADLINE_EXCEEDED, 'query timed out: no worker answered');
  if (result.error !== undefined)
    throw new ServerError(status.INVALID_ARGUMENT, result.error, {
      typeName: 'temporal.api.errordetails.v1.QueryFailedFailure',
      value: { failure: result.failure ?? undefined },
    });
  return { queryResult: result.answer ?? undefined };
}

/** Queries to send with the workflow task that is starting now. */
export function attachedQueriesFor(e: Engine, run: Run): Record<string, temporal.api.query.v1.IWorkflowQuery> {
  const out: Record<string, temporal.api.query.v1.IWorkflowQuery> = {};
  for (const q of e.queries.values()) {
    if (q.runKey !== run.key || q.route !== 'attached') continue;
    out[q.id] = q.query;
    run.wft.attachedQueries.add(q.id);
  }
  return out;
}

/** Answers the queries that came with a workflow task from its completion. */
export function answerAttachedQueries(e: Engine, run: Run, results: Record<string, temporal.api.query.v1.IWorkflowQueryResult>): void {
  for (const [id, r] of Object.entries(results)) {
    const q = e.queries.get(id);
    if (!q || q.runKey !== run.key) continue;
    if (r.resultType === QueryResultType.QUERY_RESULT_TYPE_ANSWERED) q.resolve({ answer: r.answer });
    else q.resolve({ error: r.errorMessage || 'query failed', failure: r.failure });
  }
}

/** After a workflow task ends, queries it held or left unanswered go out again. */
export function rerouteQueries(e: Engine, run: Run): void {
  for (const q of [...e.queries.values()]) if (q.runKey === run.key && (q.route === 'attached' || q.route === 'waiting')) routeQuery(e, q);
}

/** The poll response for a legacy query task; null when the query is gone. */
export function legacyQueryTask(e: Engine, queryId: string, sticky: boolean): temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse | null {
  const q = e.queries.get(queryId);
  const run = q && e.runs.get(q.runKey);
  if (!q || !run || q.route !== 'legacy') return null;
  q.route = 'dispatched';
  const now = e.clock.now();
  return {
    taskToken: encodeToken({ k: 'q', q: q.id }),
    workflowExecution: { workflowId: run.workflowId, runId: run.runId },
    workflowType: run.start.workflowType,
    previousStartedEventId: long(run.lastCompletedWftStartedId),
    startedEventId: long(0),
    attempt: 1,
    history: { events: taskHistory(run, sticky) },
    query: q.query,
    workflowExecutionTaskQueue: { name: run.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    scheduledTime: timestamp(now),
    startedTime: timestamp(now),
  };
}

/** RespondQueryTaskCompleted. */
export function respondQueryTaskCompleted(e: Engine, req: temporal.api.workflowservice.v1.IRespondQueryTaskCompletedRequest): void {
  const t = decodeToken(req.taskToken, 'q');
  const q = e.queries.get(t.q);
  if (!q) throw taskNotFound('Query');
  if (req.completedType === QueryResultType.QUERY_RESULT_TYPE_ANSWERED) q.resolve({ answer: req.queryResult });
  else q.resolve({ error: req.errorMessage || 'query failed', failure: req.failure });
}
