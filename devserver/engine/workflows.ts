import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import {
  EventType,
  RetryState,
  TaskQueueKind,
  duration,
  durationMs,
  isNegative,
  temporal,
  timestamp,
  timestampMs,
  type IFailure,
  type IPayloads,
} from '../proto';
import { effectiveWorkflowTaskTimeoutMs, type Engine, type Tx } from './engine';
import { ServerError, alreadyCompleted, invalidArgument } from './errors';
import { carriedSearchAttributes, type Run } from './run';
import { SYSTEM_ATTRIBUTES, TYPE_NAMES } from '../visibility/search';

type StartRequest = temporal.api.workflowservice.v1.IStartWorkflowExecutionRequest;
const ReusePolicy = temporal.api.enums.v1.WorkflowIdReusePolicy;
const ConflictPolicy = temporal.api.enums.v1.WorkflowIdConflictPolicy;

/** Everything a new run starts from (a client start, a child, a retry or a continue-as-new). */
export interface RunParams {
  namespace: string;
  workflowId: string;
  runId?: string;
  workflowType: string;
  taskQueue: string;
  input?: IPayloads | null;
  header?: temporal.api.common.v1.IHeader | null;
  memo?: temporal.api.common.v1.IMemo | null;
  searchAttributes?: temporal.api.common.v1.ISearchAttributes | null;
  executionTimeoutMs: number;
  runTimeoutMs: number;
  taskTimeoutMs: number;
  retryPolicy?: temporal.api.common.v1.IRetryPolicy | null;
  identity?: string;
  requestId?: string;
  attempt?: number;
  firstExecutionRunId?: string;
  continuedExecutionRunId?: string;
  initiator?: number;
  continuedFailure?: IFailure | null;
  lastCompletionResult?: IPayloads | null;
  expirationMs?: number;
  backoffMs?: number;
  parent?: { namespace: string; workflowId: string; runId: string; initiatedEventId: number; root: { workflowId: string; runId: string } };
  priority?: temporal.api.common.v1.IPriority | null;
  userMetadata?: temporal.api.sdk.v1.IUserMetadata | null;
  /** Events to write right after the started event, before the first workflow task (signal-with-start). */
  firstEvents?: { eventType: number; attributes: Record<string, any> }[];
}

/** Creates a run: its started event, its first workflow task (unless delayed) and its timeouts. */
export function createRun(e: Engine, tx: Tx, p: RunParams): Run {
  const runId = p.runId ?? randomUUID();
  const run = e.addRun(tx, p.namespace, p.workflowId, runId);
  const now = e.clock.now();
  const executionTimeoutMs = p.executionTimeoutMs;
  const runTimeoutMs = p.runTimeoutMs > 0 ? (executionTimeoutMs > 0 ? Math.min(p.runTimeoutMs, executionTimeoutMs) : p.runTimeoutMs) : executionTimeoutMs;
  const expirationMs = p.expirationMs ?? (executionTimeoutMs > 0 ? now + executionTimeoutMs : 0);
  // As a real server: an unset task timeout is the default, and none outlasts the cap or the run.
  const taskTimeoutMs = effectiveWorkflowTaskTimeoutMs(p.taskTimeoutMs, runTimeoutMs);
  e.append(tx, run, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, {
    workflowType: { name: p.workflowType },
    taskQueue: { name: p.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    input: p.input ?? undefined,
    header: p.header ?? undefined,
    memo: p.memo ?? undefined,
    searchAttributes: typedSearchAttributes(e, p.searchAttributes),
    // Unset timeouts (no limit) are left out of the event, as a real server leaves them.
    workflowExecutionTimeout: executionTimeoutMs > 0 ? duration(executionTimeoutMs) : undefined,
    workflowRunTimeout: runTimeoutMs > 0 ? duration(runTimeoutMs) : undefined,
    workflowTaskTimeout: duration(taskTimeoutMs),
    retryPolicy: p.retryPolicy ?? undefined,
    identity: p.identity ?? '',
    originalExecutionRunId: runId,
    firstExecutionRunId: p.firstExecutionRunId ?? runId,
    continuedExecutionRunId: p.continuedExecutionRunId ?? '',
    initiator: p.initiator ?? 0,
    continuedFailure: p.continuedFailure ?? undefined,
    lastCompletionResult: p.lastCompletionResult ?? undefined,
    attempt: p.attempt ?? 1,
    workflowExecutionExpirationTime: expirationMs ? timestamp(expirationMs) : undefined,
    firstWorkflowTaskBackoff: p.backoffMs ? duration(p.backoffMs) : undefined,
    workflowId: p.workflowId,
    parentWorkflowNamespace: p.parent?.namespace ?? '',
    parentWorkflowExecution: p.parent ? { workflowId: p.parent.workflowId, runId: p.parent.runId } : undefined,
    parentInitiatedEventId: p.parent?.initiatedEventId ?? 0,
    // Only a child's event names its root; a top-level run is its own root (DescribeWorkflowExecution says so).
    rootWorkflowExecution: p.parent ? p.parent.root : undefined,
    priority: p.priority ?? undefined,
  }, now, p.userMetadata);
  if (p.requestId) run.requestIds.add(p.requestId);
  for (const fe of p.firstEvents ?? []) e.append(tx, run, fe.eventType, fe.attributes);
  if (!p.backoffMs) e.scheduleWorkflowTask(tx, run);
  armRunDeadlines(e, run);
  return run;
}

/** Arms a run's start backoff and its run and execution timeouts, from its started event. */
export function armRunDeadlines(e: Engine, run: Run): void {
  const s = run.start;
  const backoffMs = durationMs(s.firstWorkflowTaskBackoff);
  const firstTaskScheduled = run.events.some((ev) => ev.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  if (backoffMs && !firstTaskScheduled) e.deadline(run, 'backoff', run.startMs + backoffMs, (t) => e.scheduleWorkflowTask(t, run));
  const runTimeoutMs = durationMs(s.workflowRunTimeout);
  const expirationMs = timestampMs(s.workflowExecutionExpirationTime);
  const runDeadline = runTimeoutMs > 0 ? run.startMs + backoffMs + runTimeoutMs : 0;
  if (runDeadline) e.deadline(run, 'runTimeout', runDeadline, (t) => timeOutRun(e, t, run));
  if (expirationMs > 0 && (!runDeadline || expirationMs < runDeadline)) e.deadline(run, 'executionTimeout', expirationMs, (t) => timeOutRun(e, t, run));
}

/** Arms the deletion of a closed run once its namespace's retention has passed. */
export function armRetention(e: Engine, run: Run): void {
  const retentionMs = e.namespaces.get(run.namespace)?.retentionMs ?? e.defaultRetentionMs;
  e.deadline(run, 'retention', run.closeMs + retentionMs, (t) => e.deleteRun(t, run));
}

/** Validates a start request's common fields; returns the timeouts in ms. */
export function validateStart(e: Engine, namespace: string, req: {
  workflowId?: string | null;
  workflowType?: temporal.api.common.v1.IWorkflowType | null;
  taskQueue?: temporal.api.taskqueue.v1.ITaskQueue | null;
  workflowExecutionTimeout?: any;
  workflowRunTimeout?: any;
  workflowTaskTimeout?: any;
  requestId?: string | null;
  cronSchedule?: string | null;
  input?: IPayloads | null;
  memo?: temporal.api.common.v1.IMemo | null;
}): { executionTimeoutMs: number; runTimeoutMs: number; taskTimeoutMs: number } {
  e.checkId(req.workflowId, 'WorkflowId');
  e.checkId(req.workflowType?.name, 'WorkflowType');
  e.checkId(req.taskQueue?.name, 'TaskQueue');
  if (req.requestId && req.requestId.length > 1000) throw invalidArgument('RequestId exceeds length limit.');
  if (isNegative(req.workflowExecutionTimeout)) throw invalidArgument('Invalid WorkflowExecutionTimeout.');
  if (isNegative(req.workflowRunTimeout)) throw invalidArgument('Invalid WorkflowRunTimeout.');
  if (isNegative(req.workflowTaskTimeout)) throw invalidArgument('Invalid WorkflowTaskTimeout.');
  if (req.cronSchedule) throw invalidArgument('Cron schedules are not supported by the embedded Temporal server; use a Schedule on a Temporal cluster.');
  e.requireBlob(req.input, { namespace, workflowId: req.workflowId, operation: 'StartWorkflowExecution' });
  e.requireMemo(req.memo, { namespace, workflowId: req.workflowId, operation: 'StartWorkflowExecution' });
  return {
    executionTimeoutMs: durationMs(req.workflowExecutionTimeout),
    runTimeoutMs: durationMs(req.workflowRunTimeout),
    taskTimeoutMs: durationMs(req.workflowTaskTimeout),
  };
}

/** StartWorkflowExecution with request-id idempotency and the id reuse and conflict policies. */
export function startWorkflow(e: Engine, tx: Tx, req: StartRequest, firstEvents?: RunParams['firstEvents']): { run: Run; started: boolean } {
  const ns = e.namespace(req.namespace).name;
  const timeouts = validateStart(e, ns, req);
  checkSearchAttributes(e, req.searchAttributes);
  const workflowId = req.workflowId!;
  const current = e.currentRun(ns, workflowId);
  if (current && req.requestId && current.requestIds.has(req.requestId)) return { run: current, started: true };
  if (current?.state === 'running') {
    const conflict = req.workflowIdConflictPolicy || ConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL;
    const terminateIfRunning = req.workflowIdReusePolicy === ReusePolicy.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING;
    if (conflict === ConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING) return { run: current, started: false };
    if (conflict === ConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING || terminateIfRunning) {
      terminateRun(e, tx, current, 'terminated by a start with the same workflow id', null, req.identity ?? '');
    } else throw alreadyStarted(current, req.requestId ?? '', `Workflow execution is already running. WorkflowId: ${workflowId}, RunId: ${current.runId}.`);
  } else if (current) {
    const reuse = req.workflowIdReusePolicy || ReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE;
    if (reuse === ReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
      throw alreadyStarted(current, req.requestId ?? '', `Workflow execution already finished. WorkflowId: ${workflowId}, RunId: ${current.runId}. Workflow Id reuse policy: reject duplicate workflow Id.`);
    if (reuse === ReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY && (current.state === 'completed' || current.state === 'continuedAsNew'))
      throw alreadyStarted(current, req.requestId ?? '', `Workflow execution already finished successfully. WorkflowId: ${workflowId}, RunId: ${current.runId}. Workflow Id reuse policy: allow duplicate workflow Id if last run failed.`);
  }
  const run = createRun(e, tx, {
    namespace: ns,
    workflowId,
    workflowType: req.workflowType!.name!,
    taskQueue: req.taskQueue!.name!,
    input: req.input,
    header: req.header,
    memo: req.memo,
    searchAttributes: req.searchAttributes,
    ...timeouts,
    retryPolicy: req.retryPolicy,
    identity: req.identity ?? '',
    requestId: req.requestId ?? '',
    backoffMs: durationMs(req.workflowStartDelay),
    // A scheduler passes its last run's result or failure on, as cron runs and continued runs get theirs.
    lastCompletionResult: req.lastCompletionResult,
    continuedFailure: req.continuedFailure,
    priority: req.priority,
    userMetadata: req.userMetadata,
    firstEvents,
  });
  return { run, started: true };
}

function alreadyStarted(run: Run, startRequestId: string, message: string): ServerError {
  return new ServerError(status.ALREADY_EXISTS, message, {
    typeName: 'temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure',
    value: { startRequestId, runId: run.runId },
  });
}

const TYPE_OF: Record<number, string> = Object.fromEntries(Object.entries(TYPE_NAMES).map(([name, type]) => [type, name]));

/**
 * Search attributes with each value's registered type in its metadata, as a real server stores them, so that SDKs
 * decode them by type (a Datetime as a date, not a string). A type the caller gave is kept.
 */
export function typedSearchAttributes(
  e: Engine,
  sa: temporal.api.common.v1.ISearchAttributes | null | undefined,
): temporal.api.common.v1.ISearchAttributes | undefined {
  if (!sa?.indexedFields) return sa ?? undefined;
  const indexedFields: Record<string, temporal.api.common.v1.IPayload> = {};
  for (const [name, payload] of Object.entries(sa.indexedFields)) {
    const type = TYPE_OF[e.searchAttributes.get(name) ?? SYSTEM_ATTRIBUTES[name] ?? -1];
    indexedFields[name] =
      type && !payload.metadata?.type ? { ...payload, metadata: { ...payload.metadata, type: Buffer.from(type) } } : payload;
  }
  return { indexedFields };
}

/** The name of the first search attribute that is neither a system one nor registered, if any. */
export function unknownSearchAttribute(e: Engine, sa: temporal.api.common.v1.ISearchAttributes | null | undefined): string | undefined {
  return Object.keys(sa?.indexedFields ?? {}).find((name) => !(name in SYSTEM_ATTRIBUTES) && !e.searchAttributes.has(name));
}

function checkSearchAttributes(e: Engine, sa: temporal.api.common.v1.ISearchAttributes | null | undefined): void {
  const unknown = unknownSearchAttribute(e, sa);
  if (unknown) throw invalidArgument(`Namespace has no mapping defined for search attribute ${unknown}.`);
}

/** Refuses calls that need an open run. */
export function requireOpen(run: Run): void {
  if (run.state !== 'running') throw alreadyCompleted();
}

/** Records a signal (deduplicated on request id) and wakes the workflow. */
export function signalRun(
  e: Engine,
  tx: Tx,
  run: Run,
  s: { signalName?: string | null; input?: IPayloads | null; identity?: string | null; header?: any; requestId?: string | null; external?: { workflowId: string; runId: string } | null; externalInitiatedEventId?: number },
): void {
  requireOpen(run);
  if (s.requestId) {
    if (run.requestIds.has(s.requestId)) return;
    run.requestIds.add(s.requestId);
  }
  e.addExternal(tx, run, [
    {
      eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
      attributes: {
        signalName: s.signalName,
        input: s.input ?? undefined,
        identity: s.identity ?? '',
        header: s.header ?? undefined,
        externalWorkflowExecution: s.external ?? undefined,
      },
    },
  ]);
}

/** Records a cancel request (once) and wakes the workflow. */
export function requestCancelRun(
  e: Engine,
  tx: Tx,
  run: Run,
  r: { identity?: string | null; requestId?: string | null; reason?: string | null; externalInitiatedEventId?: number; external?: { workflowId: string; runId: string } },
): void {
  requireOpen(run);
  if (run.cancelRequested || run.buffered.some((b) => b.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED)) return;
  if (r.requestId) run.requestIds.add(r.requestId);
  e.addExternal(tx, run, [
    {
      eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
      attributes: {
        cause: r.reason ?? '',
        identity: r.identity ?? '',
        externalInitiatedEventId: r.externalInitiatedEventId ?? 0,
        externalWorkflowExecution: r.external,
      },
    },
  ]);
}

/** Ends a run's started workflow task by force (terminate, timeout), flushing what it buffered. */
function forceCloseWorkflowTask(e: Engine, tx: Tx, run: Run, identity: string): void {
  if (run.wft.state === 'started') {
    e.append(tx, run, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, {
      scheduledEventId: run.wft.scheduledEventId,
      startedEventId: run.wft.startedEventId,
      cause: temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND,
      identity,
    });
    e.cancelDeadline(run, 'wft');
  }
  e.flushBuffer(tx, run);
}

/** TerminateWorkflowExecution. */
export function terminateRun(e: Engine, tx: Tx, run: Run, reason: string, details: IPayloads | null | undefined, identity: string): void {
  requireOpen(run);
  forceCloseWorkflowTask(e, tx, run, identity);
  closeRun(e, tx, run, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, { reason, details: details ?? undefined, identity });
}

function timeOutRun(e: Engine, tx: Tx, run: Run): void {
  if (run.state !== 'running') return;
  forceCloseWorkflowTask(e, tx, run, 'server');
  // Past the execution's expiration nothing is retried; a run timeout before it may be.
  const expirationMs = timestampMs(run.start.workflowExecutionExpirationTime);
  const next =
    expirationMs > 0 && e.clock.now() >= expirationMs
      ? { retryState: RetryState.RETRY_STATE_TIMEOUT, runId: '' }
      : retryRun(e, tx, run, { message: 'workflow timed out', timeoutFailureInfo: { timeoutType: 1 } });
  closeRun(e, tx, run, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, { retryState: next.retryState, newExecutionRunId: next.runId });
}

/** Fails a run from its FailWorkflowExecution command, retrying it as a new run when its policy allows. */
export function failRun(e: Engine, tx: Tx, run: Run, failure: IFailure | null | undefined, completedEventId: number): void {
  const next = retryRun(e, tx, run, failure ?? {});
  closeRun(e, tx, run, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, {
    failure: failure ?? undefined,
    retryState: next.retryState,
    workflowTaskCompletedEventId: completedEventId,
    newExecutionRunId: next.runId,
  });
}

/** Starts the next attempt of a run under its workflow retry policy, if any is due. */
function retryRun(e: Engine, tx: Tx, run: Run, failure: IFailure): { retryState: number; runId: string } {
  const rp = run.start.retryPolicy;
  if (!rp) return { retryState: RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET, runId: '' };
  const attempt = run.start.attempt ?? 1;
  if (rp.maximumAttempts && attempt >= rp.maximumAttempts) return { retryState: RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED, runId: '' };
  const type = failure.applicationFailureInfo?.type ?? '';
  if (failure.applicationFailureInfo?.nonRetryable || (rp.nonRetryableErrorTypes ?? []).includes(type))
    return { retryState: RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE, runId: '' };
  const initial = durationMs(rp.initialInterval) || 1000;
  const max = durationMs(rp.maximumInterval) || initial * 100;
  const backoffMs = Math.min(initial * Math.pow(rp.backoffCoefficient || 2, attempt - 1), max);
  const expirationMs = timestampMs(run.start.workflowExecutionExpirationTime);
  if (expirationMs && e.clock.now() + backoffMs >= expirationMs) return { retryState: RetryState.RETRY_STATE_TIMEOUT, runId: '' };
  const next = continueRun(e, tx, run, {
    attempt: attempt + 1,
    backoffMs,
    continuedFailure: failure,
    initiator: temporal.api.enums.v1.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_RETRY,
  });
  return { retryState: RetryState.RETRY_STATE_IN_PROGRESS, runId: next.runId };
}

/** Starts the next run of a chain (retry or continue-as-new), sharing the first run id. */
export function continueRun(e: Engine, tx: Tx, run: Run, over: Partial<RunParams>): Run {
  const s = run.start;
  return createRun(e, tx, {
    namespace: run.namespace,
    workflowId: run.workflowId,
    workflowType: s.workflowType?.name ?? '',
    taskQueue: run.taskQueue,
    input: s.input,
    header: s.header,
    memo: { fields: run.memo },
    searchAttributes: carriedSearchAttributes(run),
    executionTimeoutMs: durationMs(s.workflowExecutionTimeout),
    runTimeoutMs: durationMs(s.workflowRunTimeout),
    taskTimeoutMs: durationMs(s.workflowTaskTimeout),
    retryPolicy: s.retryPolicy,
    priority: s.priority,
    firstExecutionRunId: s.firstExecutionRunId ?? run.runId,
    continuedExecutionRunId: run.runId,
    expirationMs: timestampMs(s.workflowExecutionExpirationTime),
    parent: s.parentWorkflowExecution?.workflowId
      ? {
          namespace: s.parentWorkflowNamespace ?? run.namespace,
          workflowId: s.parentWorkflowExecution.workflowId,
          runId: s.parentWorkflowExecution.runId ?? '',
          initiatedEventId: Number(s.parentInitiatedEventId ?? 0),
          root: { workflowId: s.rootWorkflowExecution?.workflowId ?? '', runId: s.rootWorkflowExecution?.runId ?? '' },
        }
      : undefined,
    ...over,
  });
}

/** Hooks run when a run closes (children, parents); set by the module that owns them. */
export const closeHooks: ((e: Engine, tx: Tx, run: Run) => void)[] = [];

/** Appends a run's closing event and releases everything it held. */
export function closeRun(e: Engine, tx: Tx, run: Run, eventType: number, attributes: Record<string, any>): void {
  e.append(tx, run, eventType, attributes);
  run.buffered = [];
  e.cancelAllDeadlines(run);
  for (const hook of closeHooks) hook(e, tx, run);
  armRetention(e, run);
}
