import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { EventType, long, temporal, timestamp } from '../proto';
import type { Engine } from '../engine/engine';
import { ServerError, invalidArgument, notFound } from '../engine/errors';
import type { Handler } from '../grpc/server';
import type { StoredRecord } from '../store/store';
import { page, selectRuns } from './visibility';

type StartRequest = temporal.api.workflowservice.v1.IStartBatchOperationRequest;
type Execution = temporal.api.common.v1.IWorkflowExecution;
const Type = temporal.api.enums.v1.BatchOperationType;
const State = temporal.api.enums.v1.BatchOperationState;
const ResetType = temporal.api.enums.v1.ResetType;
const StartBatchOperationRequest = temporal.api.workflowservice.v1.StartBatchOperationRequest;

// The real server's defaults: `worker.batcherRPS` and `frontend.MaxConcurrentBatchOperationPerNamespace`.
const DEFAULT_RPS = 50;
const CONCURRENT_PER_NAMESPACE = 1;

interface Job {
  namespace: string;
  jobId: string;
  type: number;
  reason: string;
  identity: string;
  query: string;
  executions: Execution[];
  state: number;
  startMs: number;
  closeMs?: number;
  targets: Execution[];
  done: number;
  failed: number;
  /** Operations a second. */
  rps: number;
  /** The request that started it (base64 of the proto), so a restarted server can carry on with the same operation. */
  request: string;
}

/** One target's operation, issued through the same calls a client makes. */
type Operation = (target: Execution) => Promise<unknown> | unknown;

/**
 * Batch operations (terminate, cancel, signal, delete or reset every workflow a visibility query or a list names), run
 * as the real server's batcher runs them: targets chosen when the job starts, one call per target through the ordinary
 * API at most `maxOperationsPerSecond` a second (50 by default), one running job per namespace, failures counted and
 * skipped. Jobs are kept in the store with their progress after each second's operations: after a restart they are
 * listed and described as before, and a running job carries on from there (at least once for the targets of the
 * second it was in, as the real batcher resumes from its last heartbeat).
 */
export function batchHandlers(e: Engine, calls: Record<string, Handler>, stored: Iterable<StoredRecord> = []): Record<string, Handler> {
  const jobs = new Map<string, Job>();
  const keyOf = (namespace: string, jobId: string) => `${namespace}|${jobId}`;
  const call = (method: string, req: object) => calls[method](req, undefined as never);
  const save = (job: Job) =>
    e.transact((tx) => tx.writeRecord({ kind: 'batch', namespace: job.namespace, id: job.jobId, data: JSON.stringify(job) }));
  // On the engine's timers, which stop with the server: a job's next second never runs against a closed store.
  const timerKey = (job: Job) => `batch|${job.namespace}|${job.jobId}`;
  const next = (job: Job, run: Operation, inMs: number) => e.timers.schedule(timerKey(job), e.clock.now() + inMs, () => void advance(job, run));

  const operationOf = (req: StartRequest, namespace: string, identity: string): { type: number; run: Operation } => {
    const reason = req.reason ?? '';
    const base = (target: Execution) => ({ namespace, workflowExecution: target, identity, reason });
    if (req.terminationOperation)
      return { type: Type.BATCH_OPERATION_TYPE_TERMINATE, run: (t) => call('TerminateWorkflowExecution', base(t)) };
    if (req.cancellationOperation)
      return { type: Type.BATCH_OPERATION_TYPE_CANCEL, run: (t) => call('RequestCancelWorkflowExecution', base(t)) };
    if (req.deletionOperation) return { type: Type.BATCH_OPERATION_TYPE_DELETE, run: (t) => call('DeleteWorkflowExecution', base(t)) };
    if (req.signalOperation) {
      const s = req.signalOperation;
      if (!s.signal) throw invalidArgument('must provide signal name');
      return {
        type: Type.BATCH_OPERATION_TYPE_SIGNAL,
        run: (t) => call('SignalWorkflowExecution', { ...base(t), signalName: s.signal, input: s.input, header: s.header }),
      };
    }
    if (req.resetOperation) return { type: Type.BATCH_OPERATION_TYPE_RESET, run: resetOperation(e, call, req.resetOperation, namespace, identity, reason) };
    const named = Object.keys(req).find((k) => k.endsWith('Operation') && (req as Record<string, unknown>)[k]);
    if (named) throw new ServerError(status.UNIMPLEMENTED, `Batch ${named} is not supported by the embedded Temporal server.`);
    throw invalidArgument('must provide required parameters: BatchType/Reason/Namespace/Query/Executions');
  };

  const finish = (job: Job, state: number) => {
    e.timers.cancel(timerKey(job));
    job.state = state;
    job.closeMs = e.clock.now();
    save(job);
  };

  const advance = async (job: Job, run: Operation) => {
    const slice = job.targets.slice(job.done + job.failed, job.done + job.failed + job.rps);
    for (const target of slice) {
      if (job.state !== State.BATCH_OPERATION_STATE_RUNNING) return;
      try {
        await run(target);
        job.done++;
      } catch (err) {
        job.failed++;
        e.log.debug({ jobId: job.jobId, target, err: (err as Error).message }, 'batch operation failed on a workflow');
      }
    }
    if (job.state !== State.BATCH_OPERATION_STATE_RUNNING) return;
    if (job.done + job.failed >= job.targets.length) return finish(job, State.BATCH_OPERATION_STATE_COMPLETED);
    save(job);
    next(job, run, 1000);
  };

  for (const row of stored) {
    const job = JSON.parse(row.data) as Job;
    jobs.set(keyOf(job.namespace, job.jobId), job);
    if (job.state !== State.BATCH_OPERATION_STATE_RUNNING) continue;
    try {
      const request = StartBatchOperationRequest.decode(Buffer.from(job.request, 'base64'));
      const { run } = operationOf(request, job.namespace, job.identity);
      next(job, run, 0);
    } catch (err) {
      e.log.warn({ jobId: job.jobId, err: (err as Error).message }, 'batch operation cannot carry on after the restart');
      finish(job, State.BATCH_OPERATION_STATE_FAILED);
    }
  }

  const info = (job: Job) => ({ jobId: job.jobId, state: job.state, startTime: timestamp(job.startMs), closeTime: job.closeMs ? timestamp(job.closeMs) : undefined });

  const find = (namespace: string | null | undefined, jobId: string | null | undefined) => {
    if (!jobId) throw invalidArgument('JobId is not set on request.');
    const job = jobs.get(keyOf(e.namespace(namespace).name, jobId));
    if (!job) throw notFound(`Batch operation ${jobId} is not found.`);
    return job;
  };

  return {
    StartBatchOperation: (req: StartRequest) => {
      if (!req.jobId) throw invalidArgument('JobId is not set on request.');
      if (!req.namespace) throw invalidArgument('Namespace is not set on request.');
      const namespace = e.namespace(req.namespace).name;
      const executions = [...(req.executions ?? []), ...(req.targetExecutions ?? []).map(workflowOf)];
      if (!req.visibilityQuery && !executions.length) throw invalidArgument('VisibilityQuery or Executions must be set on request.');
      if (req.visibilityQuery && executions.length) throw invalidArgument('batch query and executions are mutually exclusive');
      if (!req.reason) throw invalidArgument('Reason is not set on request.');
      e.checkId(req.jobId, 'JobId');
      const identity = identityOf(req);
      const operation = operationOf(req, namespace, identity);
      if (jobs.has(keyOf(namespace, req.jobId))) throw new ServerError(status.ALREADY_EXISTS, `Batch operation ${req.jobId} already exists.`);
      const running = [...jobs.values()].filter((j) => j.namespace === namespace && j.state === State.BATCH_OPERATION_STATE_RUNNING).length;
      if (running >= CONCURRENT_PER_NAMESPACE) throw new ServerError(status.RESOURCE_EXHAUSTED, 'Max concurrent batch operations is reached');
      const targets = req.visibilityQuery
        ? selectRuns(e, namespace, req.visibilityQuery).runs.map((r) => ({ workflowId: r.workflowId, runId: r.runId }))
        : executions.map((x) => ({ workflowId: x.workflowId, runId: x.runId || undefined }));
      const job: Job = {
        namespace,
        jobId: req.jobId,
        type: operation.type,
        reason: req.reason,
        identity,
        query: req.visibilityQuery ?? '',
        executions,
        state: State.BATCH_OPERATION_STATE_RUNNING,
        startMs: e.clock.now(),
        targets,
        done: 0,
        failed: 0,
        rps: req.maxOperationsPerSecond && req.maxOperationsPerSecond > 0 ? Math.min(Math.ceil(req.maxOperationsPerSecond), DEFAULT_RPS) : DEFAULT_RPS,
        request: Buffer.from(StartBatchOperationRequest.encode(req).finish()).toString('base64'),
      };
      jobs.set(keyOf(namespace, req.jobId), job);
      save(job);
      next(job, operation.run, 0);
      return {};
    },

    DescribeBatchOperation: (req: temporal.api.workflowservice.v1.IDescribeBatchOperationRequest) => {
      const job = find(req.namespace, req.jobId);
      return {
        ...info(job),
        operationType: job.type,
        totalOperationCount: long(job.targets.length),
        completeOperationCount: long(job.done),
        failureOperationCount: long(job.failed),
        identity: job.identity,
        reason: job.reason,
        query: job.query,
        executions: job.executions.map((x) => ({ type: temporal.api.enums.v1.ExecutionType.EXECUTION_TYPE_WORKFLOW, businessId: x.workflowId, runId: x.runId ?? '' })),
      };
    },

    ListBatchOperations: (req: temporal.api.workflowservice.v1.IListBatchOperationsRequest) => {
      const namespace = e.namespace(req.namespace).name;
      const all = [...jobs.values()].filter((j) => j.namespace === namespace).sort((a, b) => b.startMs - a.startMs);
      const { items, next } = page(all, req.nextPageToken, req.pageSize);
      return { operationInfo: items.map(info), nextPageToken: next };
    },

    StopBatchOperation: (req: temporal.api.workflowservice.v1.IStopBatchOperationRequest) => {
      if (!req.reason) throw invalidArgument('Reason is not set on request.');
      const job = find(req.namespace, req.jobId);
      if (job.state !== State.BATCH_OPERATION_STATE_RUNNING) throw notFound('workflow execution already completed');
      // As on a real server, where stopping terminates the batch's workflow: the job ends failed.
      finish(job, State.BATCH_OPERATION_STATE_FAILED);
      return {};
    },
  };
}

/** Who asked: the operation carries the identity. */
function identityOf(req: StartRequest): string {
  const op = req.terminationOperation ?? req.cancellationOperation ?? req.signalOperation ?? req.deletionOperation ?? req.resetOperation;
  return (op as { identity?: string } | null | undefined)?.identity ?? '';
}

/** A target named in the newer form; only workflows are batch targets here. */
function workflowOf(x: temporal.api.common.v1.IExecution): Execution {
  if (x.type === temporal.api.enums.v1.ExecutionType.EXECUTION_TYPE_ACTIVITY)
    throw new ServerError(status.UNIMPLEMENTED, 'Batch operations on standalone activities are not supported by the embedded Temporal server.');
  return { workflowId: x.businessId, runId: x.runId };
}

/** The reset a batch applies to each target: to its first or last completed workflow task, or a given one. */
function resetOperation(
  e: Engine,
  call: (method: string, req: object) => Promise<unknown> | unknown,
  op: temporal.api.batch.v1.IBatchOperationReset,
  namespace: string,
  identity: string,
  reason: string,
): Operation {
  const options = op.options;
  let pick: (completed: number[]) => number | undefined;
  if (options) {
    if (options.firstWorkflowTask) pick = (ids) => ids[0];
    else if (options.lastWorkflowTask) pick = (ids) => ids.at(-1);
    else if (options.workflowTaskId) pick = () => Number(options.workflowTaskId);
    else if (options.buildId) throw new ServerError(status.UNIMPLEMENTED, 'Batch reset to a build id is not supported by the embedded Temporal server.');
    else throw invalidArgument('batch reset missing target');
  } else if (op.resetType === ResetType.RESET_TYPE_FIRST_WORKFLOW_TASK) pick = (ids) => ids[0];
  else if (op.resetType === ResetType.RESET_TYPE_LAST_WORKFLOW_TASK) pick = (ids) => ids.at(-1);
  else throw invalidArgument(`unknown batch reset type ${op.resetType ?? 0}`);
  return (target) => {
    const run = e.findRun(namespace, target);
    if (options?.currentRunOnly && e.currentRun(namespace, run.workflowId) !== run) throw invalidArgument('not the current run');
    const completed = run.events.filter((ev) => ev.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).map((ev) => Number(ev.eventId));
    const finishId = pick(completed);
    if (!finishId) throw invalidArgument('no workflow task to reset to');
    return call('ResetWorkflowExecution', {
      namespace,
      workflowExecution: { workflowId: run.workflowId, runId: run.runId },
      workflowTaskFinishEventId: long(finishId),
      reason,
      identity,
      requestId: randomUUID(),
      resetReapplyType: options?.resetReapplyType ?? op.resetReapplyType ?? 0,
      resetReapplyExcludeTypes: options?.resetReapplyExcludeTypes ?? [],
    });
  };
}
