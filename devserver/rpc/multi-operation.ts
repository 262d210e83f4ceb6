import { status } from '@grpc/grpc-js';
import { packAny, type temporal } from '../proto';
import type { Engine } from '../engine/engine';
import { ServerError, invalidArgument } from '../engine/errors';
import { admitUpdateTo, awaitUpdate, checkUpdateRequest } from '../engine/updates';
import { startWorkflow } from '../engine/workflows';

type MultiOperationRequest = temporal.api.workflowservice.v1.IExecuteMultiOperationRequest;
type MultiOperationResponse = temporal.api.workflowservice.v1.IExecuteMultiOperationResponse;
type OperationStatus = temporal.api.errordetails.v1.MultiOperationExecutionFailure.IOperationStatus;

const ABORTED: OperationStatus = {
  code: status.ABORTED,
  message: 'Operation was aborted.',
  details: [packAny('temporal.api.failure.v1.MultiOperationExecutionAborted', {})],
};

/** One operation's error as its status in the failure detail, with the typed detail it carries. */
function operationStatus(err: ServerError): OperationStatus {
  return {
    code: err.code,
    message: err.message,
    details: err.detail ? [packAny(err.detail.typeName, err.detail.value)] : [],
  };
}

/**
 * The error of a multi-operation as a real server sends it: the failing operation's code, and a
 * MultiOperationExecutionFailure with one status per operation, the others aborted.
 */
function multiOperationFailure(failed: 'start' | 'update', err: unknown): unknown {
  if (!(err instanceof ServerError)) return err;
  const own = operationStatus(err);
  return new ServerError(err.code, 'MultiOperation could not be executed.', {
    typeName: 'temporal.api.errordetails.v1.MultiOperationExecutionFailure',
    value: { statuses: failed === 'start' ? [own, ABORTED] : [ABORTED, own] },
  });
}

/**
 * ExecuteMultiOperation: update-with-start, the only pairing a real server takes. Starting the workflow and
 * admitting the update commit together, so a new run's first workflow task already carries the update; with
 * USE_EXISTING and a running workflow, the update goes to that run. Either operation failing aborts the other.
 */
export async function executeMultiOperation(
  e: Engine,
  req: MultiOperationRequest,
  waitMs: number,
  signal?: { onAbort(fn: () => void): void },
): Promise<MultiOperationResponse> {
  const ops = req.operations ?? [];
  const start = ops[0]?.startWorkflow;
  const update = ops[1]?.updateWorkflow;
  if (ops.length !== 2 || !start || !update) throw invalidArgument('Operations have to be exactly [Start, Update].');
  const ns = e.namespace(req.namespace).name;
  const refuse = (failed: 'start' | 'update', message: string) => multiOperationFailure(failed, invalidArgument(message));
  if (start.cronSchedule) throw refuse('start', 'CronSchedule is not allowed.');
  if (start.requestEagerExecution) throw refuse('start', 'RequestEagerExecution is not supported.');
  if (start.workflowStartDelay) throw refuse('start', 'WorkflowStartDelay is not supported.');
  if (update.workflowExecution?.runId) throw refuse('update', 'RunId is not allowed.');
  if (update.firstExecutionRunId) throw refuse('update', 'FirstExecutionRunId is not allowed.');
  if ((update.workflowExecution?.workflowId ?? '') !== (start.workflowId ?? ''))
    throw refuse('update', "Update operation's WorkflowId is not consistent with Start operation's WorkflowId");

  const { run, started, updateId } = e.transact((tx) => {
    let updateId: string;
    try {
      updateId = checkUpdateRequest(e, ns, update);
    } catch (err) {
      throw multiOperationFailure('update', err);
    }
    let begun: ReturnType<typeof startWorkflow>;
    try {
      begun = startWorkflow(e, tx, { ...start, namespace: req.namespace });
    } catch (err) {
      throw multiOperationFailure('start', err);
    }
    try {
      admitUpdateTo(e, tx, begun.run, updateId, update.request!);
    } catch (err) {
      throw multiOperationFailure('update', err);
    }
    return { ...begun, updateId };
  });
  const updated = await awaitUpdate(e, run, updateId, update.waitPolicy?.lifecycleStage ?? 0, waitMs, signal);
  return { responses: [{ startWorkflow: { runId: run.runId, started } }, { updateWorkflow: updated }] };
}
