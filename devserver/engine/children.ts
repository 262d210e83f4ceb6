import { EventType, TaskQueueKind, WftFailedCause, durationMs, temporal } from '../proto';
import type { Engine, Tx } from './engine';
import { pendingLimitReached } from './limits';
import { rootExecutionOf, runKey, type Run } from './run';
import { closeHooks, createRun, requestCancelRun, signalRun, terminateRun } from './workflows';

type ChildAttrs = temporal.api.command.v1.IStartChildWorkflowExecutionCommandAttributes;
const ParentClosePolicy = temporal.api.enums.v1.ParentClosePolicy;
const StartChildFailedCause = temporal.api.enums.v1.StartChildWorkflowExecutionFailedCause;
const ExternalFailedCause = temporal.api.enums.v1.SignalExternalWorkflowExecutionFailedCause;

/** Checks a StartChildWorkflowExecution command; null when acceptable. */
export function validateChild(e: Engine, a: ChildAttrs, pending: number): { cause: number; message: string } | null {
  const bad = (message: string) => ({ cause: WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES, message });
  if (!a.workflowId) return bad('WorkflowId is not set on StartChildWorkflowExecutionCommand.');
  if (!a.workflowType?.name) return bad('WorkflowType is not set on StartChildWorkflowExecutionCommand.');
  if (a.namespace && !e.namespaces.has(a.namespace)) return bad(`Namespace ${a.namespace} is not found.`);
  if (a.cronSchedule) return bad('Cron schedules are not supported by the embedded Temporal server.');
  const reached = pendingLimitReached('pending child workflow executions', pending, e.limits.pendingChildren);
  if (reached) return { cause: WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_CHILD_WORKFLOWS_LIMIT_EXCEEDED, message: reached };
  return null;
}

/** The StartChildWorkflowExecution command: initiated event, then the child's start (or its failure). */
export function startChild(
  e: Engine,
  tx: Tx,
  parent: Run,
  a: ChildAttrs,
  completedId: number,
  userMetadata?: temporal.api.sdk.v1.IUserMetadata | null,
): void {
  const namespace = a.namespace || parent.namespace;
  const initiated = e.append(tx, parent, EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED, {
    namespace,
    workflowId: a.workflowId,
    workflowType: a.workflowType,
    taskQueue: { name: a.taskQueue?.name || parent.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    input: a.input ?? undefined,
    workflowExecutionTimeout: a.workflowExecutionTimeout ?? undefined,
    workflowRunTimeout: a.workflowRunTimeout ?? undefined,
    workflowTaskTimeout: a.workflowTaskTimeout ?? undefined,
    parentClosePolicy: a.parentClosePolicy ?? 0,
    control: a.control ?? '',
    workflowTaskCompletedEventId: completedId,
    workflowIdReusePolicy: a.workflowIdReusePolicy ?? 0,
    retryPolicy: a.retryPolicy ?? undefined,
    header: a.header ?? undefined,
    memo: a.memo ?? undefined,
    searchAttributes: a.searchAttributes ?? undefined,
    priority: a.priority ?? undefined,
  }, undefined, userMetadata);
  const initiatedEventId = Number(initiated.eventId);
  const common = { namespace, workflowId: a.workflowId, workflowType: a.workflowType, initiatedEventId };
  const existing = e.currentRun(namespace, a.workflowId!);
  const reuse = a.workflowIdReusePolicy ?? 0;
  const refused =
    existing &&
    (existing.state === 'running' ||
      reuse === temporal.api.enums.v1.WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE ||
      (reuse === temporal.api.enums.v1.WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY && existing.state === 'completed'));
  if (refused) {
    e.addExternal(tx, parent, [
      {
        eventType: EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED,
        attributes: { ...common, cause: StartChildFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS, control: a.control ?? '', workflowTaskCompletedEventId: completedId },
      },
    ]);
    return;
  }
  const root = rootExecutionOf(parent);
  const child = createRun(e, tx, {
    namespace,
    workflowId: a.workflowId!,
    workflowType: a.workflowType!.name!,
    taskQueue: a.taskQueue?.name || parent.taskQueue,
    input: a.input,
    header: a.header,
    memo: a.memo,
    searchAttributes: a.searchAttributes,
    executionTimeoutMs: durationMs(a.workflowExecutionTimeout),
    runTimeoutMs: durationMs(a.workflowRunTimeout),
    taskTimeoutMs: durationMs(a.workflowTaskTimeout),
    retryPolicy: a.retryPolicy,
    // A child without a priority of its own inherits its parent's.
    priority: a.priority ?? parent.start.priority,
    userMetadata,
    parent: {
      namespace: parent.namespace,
      workflowId: parent.workflowId,
      runId: parent.runId,
      initiatedEventId,
      root,
    },
  });
  e.addExternal(tx, parent, [
    {
      eventType: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
      attributes: { ...common, workflowExecution: { workflowId: child.workflowId, runId: child.runId }, header: a.header ?? undefined },
    },
  ]);
}

/** Tells a parent that its child's chain closed. */
function notifyParent(e: Engine, tx: Tx, child: Run): void {
  const p = child.start.parentWorkflowExecution;
  if (!p?.workflowId || child.newExecutionRunId) return;
  const parent = e.runs.get(runKey(child.start.parentWorkflowNamespace || child.namespace, p.workflowId, p.runId ?? ''));
  const initiatedEventId = Number(child.start.parentInitiatedEventId ?? 0);
  const pending = parent?.children.get(initiatedEventId);
  if (!parent || parent.state !== 'running' || !pending) return;
  const a = (child.closeEvent as any)[Object.keys(child.closeEvent!).find((k) => k.endsWith('EventAttributes'))!] ?? {};
  const base = {
    namespace: child.namespace,
    workflowExecution: { workflowId: child.workflowId, runId: child.runId },
    workflowType: child.start.workflowType,
    initiatedEventId,
    startedEventId: pending.startedEventId,
  };
  const byState: Record<string, [number, Record<string, any>] | undefined> = {
    completed: [EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED, { result: a.result }],
    failed: [EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED, { failure: a.failure, retryState: a.retryState }],
    canceled: [EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED, { details: a.details }],
    timedOut: [EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT, { retryState: a.retryState }],
    terminated: [EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED, {}],
  };
  const entry = byState[child.state];
  if (!entry) return;
  e.addExternal(tx, parent, [{ eventType: entry[0], attributes: { ...base, ...entry[1] } }]);
}

/** Applies the parent-close policy of each open child of a run that closed. */
function closeChildren(e: Engine, tx: Tx, parent: Run): void {
  for (const c of parent.children.values()) {
    const policy = c.parentClosePolicy || ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE;
    if (policy === ParentClosePolicy.PARENT_CLOSE_POLICY_ABANDON) continue;
    const child = e.currentRun(c.namespace, c.workflowId);
    if (!child || child.state !== 'running') continue;
    if (policy === ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL) requestCancelRun(e, tx, child, { identity: 'parent close policy' });
    else terminateRun(e, tx, child, 'by parent close policy', null, 'parent close policy');
  }
}

closeHooks.push(notifyParent, closeChildren);

/** The SignalExternalWorkflowExecution command. */
export function signalExternal(
  e: Engine,
  tx: Tx,
  run: Run,
  a: temporal.api.command.v1.ISignalExternalWorkflowExecutionCommandAttributes,
  completedId: number,
): void {
  const namespace = a.namespace || run.namespace;
  const initiated = e.append(tx, run, EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED, {
    namespace,
    workflowExecution: a.execution,
    signalName: a.signalName,
    input: a.input ?? undefined,
    control: a.control ?? '',
    childWorkflowOnly: a.childWorkflowOnly ?? false,
    header: a.header ?? undefined,
    workflowTaskCompletedEventId: completedId,
  });
  const initiatedEventId = Number(initiated.eventId);
  const target = findOpen(e, namespace, a.execution);
  const common = { initiatedEventId, namespace, workflowExecution: a.execution, control: a.control ?? '' };
  if (!target) {
    e.addExternal(tx, run, [
      {
        eventType: EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
        attributes: { ...common, cause: ExternalFailedCause.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND, workflowTaskCompletedEventId: completedId },
      },
    ]);
    return;
  }
  signalRun(e, tx, target, {
    signalName: a.signalName,
    input: a.input,
    header: a.header,
    identity: '',
    external: { workflowId: run.workflowId, runId: run.runId },
  });
  e.addExternal(tx, run, [{ eventType: EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED, attributes: { ...common, workflowExecution: { workflowId: target.workflowId, runId: target.runId } } }]);
}

/** The RequestCancelExternalWorkflowExecution command. */
export function cancelExternal(
  e: Engine,
  tx: Tx,
  run: Run,
  a: temporal.api.command.v1.IRequestCancelExternalWorkflowExecutionCommandAttributes,
  completedId: number,
): void {
  const namespace = a.namespace || run.namespace;
  const execution = { workflowId: a.workflowId, runId: a.runId };
  const initiated = e.append(tx, run, EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED, {
    namespace,
    workflowExecution: execution,
    control: a.control ?? '',
    childWorkflowOnly: a.childWorkflowOnly ?? false,
    reason: a.reason ?? '',
    workflowTaskCompletedEventId: completedId,
  });
  const initiatedEventId = Number(initiated.eventId);
  const target = findOpen(e, namespace, execution);
  if (!target) {
    e.addExternal(tx, run, [
      {
        eventType: EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
        attributes: {
          initiatedEventId,
          namespace,
          workflowExecution: execution,
          control: a.control ?? '',
          cause: temporal.api.enums.v1.CancelExternalWorkflowExecutionFailedCause.CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
          workflowTaskCompletedEventId: completedId,
        },
      },
    ]);
    return;
  }
  requestCancelRun(e, tx, target, { identity: '', reason: a.reason, externalInitiatedEventId: initiatedEventId, external: { workflowId: run.workflowId, runId: run.runId } });
  e.addExternal(tx, run, [
    {
      eventType: EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
      attributes: { initiatedEventId, namespace, workflowExecution: { workflowId: target.workflowId, runId: target.runId } },
    },
  ]);
}

function findOpen(e: Engine, namespace: string, execution: temporal.api.common.v1.IWorkflowExecution | null | undefined): Run | undefined {
  if (!execution?.workflowId || !e.namespaces.has(namespace)) return undefined;
  const run = execution.runId ? e.runs.get(runKey(namespace, execution.workflowId, execution.runId)) : e.currentRun(namespace, execution.workflowId);
  return run?.state === 'running' ? run : undefined;
}
