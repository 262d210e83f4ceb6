import { status } from '@grpc/grpc-js';
import { EventType, UpdateStage, packAny, temporal, unpackAny, type IMessage, long } from '../proto';
import type { Engine, Tx } from './engine';
import { ServerError, alreadyCompleted, failedPrecondition, invalidArgument, notFound } from './errors';
import { updateMachine } from './machine';
import type { Run, UpdateRecord } from './run';
import { requireOpen } from './workflows';

const ExhaustedCause = temporal.api.enums.v1.ResourceExhaustedCause;
const ExhaustedScope = temporal.api.enums.v1.ResourceExhaustedScope;

/** RESOURCE_EXHAUSTED with the details a real server attaches, so clients know to retry. */
function resourceExhausted(message: string, cause: number): ServerError {
  return new ServerError(status.RESOURCE_EXHAUSTED, message, {
    typeName: 'temporal.api.errordetails.v1.ResourceExhaustedFailure',
    value: { cause, scope: ExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE },
  });
}

/** The real server's answer for an operation on a run that is continuing as new; clients retry it. */
function workflowClosing(): ServerError {
  return resourceExhausted('workflow operation can not be applied because workflow is closing', ExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_BUSY_WORKFLOW);
}

/** The type of a protocol message's body, e.g. `type.googleapis.com/temporal.api.update.v1.Rejection`. */
export function messageTypeUrl(m: IMessage): string {
  return String((m.body as { type_url?: string } | null)?.type_url ?? '');
}

/** Whether a protocol message is an update's rejection. */
export function isRejection(m: IMessage): boolean {
  return messageTypeUrl(m).endsWith('temporal.api.update.v1.Rejection');
}

type UpdateResponse = temporal.api.workflowservice.v1.IUpdateWorkflowExecutionResponse;

/** Admitted updates not yet answered by the worker, in admission order. */
export function deliverableUpdates(run: Run): UpdateRecord[] {
  return [...run.updates.values()].filter((u) => u.state === 'admitted');
}

/** The protocol message that carries an update request to the worker. */
export function updateRequestMessage(u: UpdateRecord, sequencingEventId: number): IMessage {
  return {
    id: `${u.updateId}/request`,
    protocolInstanceId: u.updateId,
    eventId: long(sequencingEventId),
    body: packAny('temporal.api.update.v1.Request', u.request),
  };
}

/** Applies an update protocol message from a workflow task completion (acceptance, response, rejection). */
export function applyProtocolMessage(e: Engine, tx: Tx, run: Run, m: IMessage): void {
  const typeUrl = messageTypeUrl(m);
  const updateId = m.protocolInstanceId ?? '';
  const u = run.updates.get(updateId);
  if (typeUrl.endsWith('temporal.api.update.v1.Acceptance')) {
    const a = unpackAny<temporal.api.update.v1.IAcceptance>(m.body, 'temporal.api.update.v1.Acceptance')!;
    if (u?.state !== 'admitted') return;
    e.append(tx, run, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, {
      protocolInstanceId: updateId,
      acceptedRequestMessageId: a.acceptedRequestMessageId,
      acceptedRequestSequencingEventId: a.acceptedRequestSequencingEventId,
      acceptedRequest: a.acceptedRequest ?? u.request,
    });
  } else if (typeUrl.endsWith('temporal.api.update.v1.Response')) {
    const r = unpackAny<temporal.api.update.v1.IResponse>(m.body, 'temporal.api.update.v1.Response')!;
    if (u?.state !== 'accepted') return;
    e.append(tx, run, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED, {
      meta: r.meta ?? { updateId },
      acceptedEventId: u.acceptedEventId,
      outcome: r.outcome,
    });
  } else if (isRejection(m)) {
    const r = unpackAny<temporal.api.update.v1.IRejection>(m.body, 'temporal.api.update.v1.Rejection')!;
    if (u?.state !== 'admitted') return;
    // A rejection writes no event: the validator refused before anything happened.
    u.state = updateMachine.next(u.state, 'reject');
    u.outcome = { failure: r.failure };
    tx.dirty.add(run);
  }
}

type UpdateRequest = temporal.api.workflowservice.v1.IUpdateWorkflowExecutionRequest;

/** Checks an update request's own fields, before anything is written; returns its update id. */
export function checkUpdateRequest(e: Engine, namespace: string, req: UpdateRequest): string {
  const request = req.request;
  const updateId = request?.meta?.updateId;
  if (!updateId) throw invalidArgument('Update id is not set on request.');
  if (!request?.input?.name) throw invalidArgument('Update name is not set on request.');
  e.requireBlob(request.input.args, { namespace, ...req.workflowExecution, operation: 'UpdateWorkflowExecution' });
  return updateId;
}

/**
 * Admits a checked update to an open run, or finds the one it already holds with the same id. The real server's
 * limits hold: so many updates in flight at once (RESOURCE_EXHAUSTED) and so many in the run's life
 * (FAILED_PRECONDITION).
 */
export function admitUpdateTo(e: Engine, tx: Tx, run: Run, updateId: string, request: temporal.api.update.v1.IRequest): void {
  if (run.updates.has(updateId)) return;
  requireOpen(run);
  let inFlight = 0;
  let total = 0;
  for (const u of run.updates.values()) {
    if (u.state === 'admitted' || u.state === 'accepted') inFlight++;
    // As on a real server, an update the workflow rejected does not count: it left nothing in the run.
    if (u.state !== 'aborted' && u.state !== 'rejected') total++;
  }
  const { updatesInFlight, updatesTotal } = e.limits;
  if (inFlight >= updatesInFlight)
    throw resourceExhausted(
      `limit on number of concurrent in-flight updates has been reached (${updatesInFlight})`,
      ExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT,
    );
  if (total >= updatesTotal)
    throw failedPrecondition(
      `The limit on the total number of distinct updates in this workflow has been reached (${updatesTotal}). ` +
        'Make sure any duplicate updates share an Update ID so the server can deduplicate them, and consider rejecting ' +
        "updates that you aren't going to process. You can also Continue-as-New to avoid this; we recommend you check " +
        'Continue-as-New Suggested in your Workflow.',
    );
  run.updates.set(updateId, { updateId, state: 'admitted', request, acceptedEventId: 0, outcome: null, admittedMs: e.clock.now() });
  tx.dirty.add(run);
  e.scheduleWorkflowTask(tx, run, { speculative: true });
}

/** Admits an update (or finds the one with the same id) and returns its run. */
export function admitUpdate(e: Engine, tx: Tx, req: UpdateRequest): { run: Run; updateId: string } {
  const ns = e.namespace(req.namespace).name;
  const updateId = checkUpdateRequest(e, ns, req);
  const run = e.findRun(ns, req.workflowExecution);
  admitUpdateTo(e, tx, run, updateId, req.request!);
  return { run, updateId };
}

function stageOf(u: UpdateRecord): number {
  switch (u.state) {
    case 'admitted':
      return UpdateStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED;
    case 'accepted':
      return UpdateStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED;
    default:
      return UpdateStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED;
  }
}

/** Waits until the update reaches the wanted stage (or the wait bound) and describes where it is. */
export async function awaitUpdate(
  e: Engine,
  run: Run,
  updateId: string,
  wantedStage: number,
  timeoutMs: number,
  abort?: { onAbort(fn: () => void): void },
): Promise<UpdateResponse> {
  const wanted = wantedStage || UpdateStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED;
  const reached = () => {
    const u = run.updates.get(updateId);
    return !u || u.state === 'aborted' || stageOf(u) >= wanted;
  };
  await e.waitFor(run.key, reached, timeoutMs, abort);
  const u = run.updates.get(updateId);
  if (!u) throw notFound(`update ${updateId} not found`);
  if (u.state === 'aborted' && !u.outcome) {
    // An update the run never accepted belongs to the run that continues it: the caller's retry reaches that run.
    if (run.state === 'continuedAsNew') throw workflowClosing();
    throw alreadyCompleted();
  }
  const stage = stageOf(u);
  return {
    updateRef: { workflowExecution: { workflowId: run.workflowId, runId: run.runId }, updateId },
    outcome: u.state === 'accepted' || u.state === 'admitted' ? undefined : u.outcome,
    stage,
  };
}
