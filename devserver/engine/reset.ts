import { randomUUID } from 'node:crypto';
import { EventType, WftFailedCause, attributesField, num, temporal, timestampMs } from '../proto';
import type { Engine, Tx } from './engine';
import { failedPrecondition, invalidArgument } from './errors';
import { armFoldedRun } from './recover';
import { applyEvent, newRun } from './run';
import { terminateRun } from './workflows';

type ResetRequest = temporal.api.workflowservice.v1.IResetWorkflowExecutionRequest;
const ReapplyType = temporal.api.enums.v1.ResetReapplyType;
const ExcludeType = temporal.api.enums.v1.ResetReapplyExcludeType;
const AdmittedOrigin = temporal.api.enums.v1.UpdateAdmittedEventOrigin;

/** Whether signals received after the reset point are sent again to the new run (the default). */
function reappliesSignals(req: ResetRequest): boolean {
  if (req.resetReapplyType === ReapplyType.RESET_REAPPLY_TYPE_NONE) return false;
  return !(req.resetReapplyExcludeTypes ?? []).includes(ExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL);
}

/** Whether updates accepted after the reset point are admitted again to the new run (only when all are asked for). */
function reappliesUpdates(req: ResetRequest): boolean {
  if (req.resetReapplyType !== ReapplyType.RESET_REAPPLY_TYPE_ALL_ELIGIBLE) return false;
  return !(req.resetReapplyExcludeTypes ?? []).includes(ExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE);
}

/**
 * ResetWorkflowExecution: a new run of the same workflow id whose history is the base run's up to the workflow task
 * that ended at the reset point, that task failed with cause RESET_WORKFLOW (naming the new run, from which the SDK
 * draws a new random seed), the signals that came after the point sent again (and, asked for all eligible, the
 * updates accepted after it, admitted again by event), and a new workflow task. Activities
 * and timers pending at that point are pending in the new run; the current run, if still running, is terminated.
 */
export function resetRun(e: Engine, tx: Tx, req: ResetRequest): { runId: string } {
  const ns = e.namespace(req.namespace).name;
  const base = e.findRun(ns, req.workflowExecution);
  if (req.requestId && req.requestId.length > 1000) throw invalidArgument('RequestId exceeds length limit.');
  const current = e.currentRun(ns, base.workflowId)!;
  if (req.requestId && current.requestIds.has(req.requestId)) return { runId: current.runId };

  const finishId = num(req.workflowTaskFinishEventId);
  if (finishId <= 2 || finishId > base.events.length)
    throw invalidArgument('Workflow task finish ID must be > 1 && <= workflow last event ID.');
  const taskStarted = base.events[finishId - 2];
  if (taskStarted.eventType !== EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)
    throw invalidArgument(`The event before WorkflowTaskFinishEventId ${finishId} is not a WorkflowTaskStarted event.`);
  const prefix = base.events.slice(0, finishId - 1);
  // Folded on the side first: nothing may be written before the request is known to be acceptable.
  const atPoint = newRun(ns, base.workflowId, base.runId);
  for (const ev of prefix) applyEvent(atPoint, ev);
  if (atPoint.children.size > 0 || atPoint.externals.size > 0)
    throw failedPrecondition(
      'The embedded Temporal server cannot reset to a point where a child workflow or an external signal or cancel request is still pending; pick an earlier or later workflow task.',
    );

  if (current.state === 'running') terminateRun(e, tx, current, req.reason || 'workflow reset', null, req.identity ?? '');

  const newRunId = randomUUID();
  const run = e.addRun(tx, ns, base.workflowId, newRunId);
  for (const ev of prefix) {
    const type = Number(ev.eventType);
    const field = attributesField(type);
    e.append(tx, run, type, (ev as Record<string, any>)[field] ?? {}, timestampMs(ev.eventTime), ev.userMetadata);
  }
  e.append(tx, run, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, {
    scheduledEventId: taskStarted.workflowTaskStartedEventAttributes?.scheduledEventId ?? 0,
    startedEventId: finishId - 1,
    cause: WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW,
    failure: { message: req.reason ?? '', source: '' },
    identity: req.identity ?? '',
    baseRunId: base.runId,
    newRunId,
    forkEventVersion: 0,
  });
  if (req.requestId) run.requestIds.add(req.requestId);
  // Signals and updates after the point are sent again in the order they first came.
  const signals = reappliesSignals(req);
  const updates = reappliesUpdates(req);
  for (const ev of base.events.slice(finishId - 1)) {
    if (signals && ev.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) {
      e.append(tx, run, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, ev.workflowExecutionSignaledEventAttributes ?? {});
    }
    const request =
      ev.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest ?? ev.workflowExecutionUpdateAdmittedEventAttributes?.request;
    const updateId = request?.meta?.updateId;
    if (updates && request && updateId && !run.updates.has(updateId)) {
      e.append(tx, run, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED, {
        request,
        origin: AdmittedOrigin.UPDATE_ADMITTED_EVENT_ORIGIN_REAPPLY,
      });
    }
  }
  armFoldedRun(e, tx, run);
  e.scheduleWorkflowTask(tx, run);
  return { runId: newRunId };
}
