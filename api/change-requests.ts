import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { Actor as DomainActor } from '../domain/actor';
import { alreadyDecided, type ChangeRequestView } from '../domain/change-request';
import { ClearwayError } from '../errors';
import type { ChangeRequest as ChangeRequestRow } from '../generated/prisma/client';
import { changeRequestWorkflowId, type changeRequest } from '../workflows/change-request';
import type { Actor } from './auth';
import type { ApiDeps } from './deps';
import type { ChangeRequest, ChangeRequestSummary } from './routes/change-requests/schemas';

/** The actor as the workflow sees it: id and roles, nothing the token does not vouch for. */
export function workflowActor(actor: Actor): DomainActor {
  return { id: actor.id, roles: actor.roles };
}

/** The projection row of a change request, or NOT_FOUND. */
export async function findChangeRequest(deps: ApiDeps, id: string): Promise<ChangeRequestRow> {
  const row = await deps.prisma.changeRequest.findUnique({ where: { id } });
  if (!row) throw new ClearwayError('NOT_FOUND', `no change request ${id}`);
  return row;
}

/**
 * Runs an update on a change request's workflow. Only when no running workflow takes it is the projection asked
 * why: no row is NOT_FOUND, a workflow that has ended (decided, withdrawn or expired) is INVALID_STATE unless
 * `whenClosed` finds a more precise refusal. The happy path costs no read of its own. Refusals by the workflow
 * surface as WorkflowUpdateFailedError and are mapped once, in http-errors.ts.
 */
export async function updateChangeRequest(
  deps: ApiDeps,
  id: string,
  run: (handle: WorkflowHandle<typeof changeRequest>) => Promise<ChangeRequestView>,
  whenClosed?: (row: ChangeRequestRow) => Promise<ClearwayError | null>,
): Promise<ChangeRequestView> {
  try {
    return await run(deps.temporal().workflow.getHandle(changeRequestWorkflowId(id)));
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) {
      const now = await findChangeRequest(deps, id);
      throw (
        (await whenClosed?.(now)) ??
        new ClearwayError('INVALID_STATE', `change request ${id} is ${now.status} and takes no more changes`, [
          { status: now.status },
        ])
      );
    }
    throw e;
  }
}

/** The view a projection row holds, with the fields views stored before they existed had no value for. */
export function storedView(row: ChangeRequestRow): ChangeRequest {
  const view = row.view as Partial<ChangeRequest> as ChangeRequest;
  return {
    ...view,
    escalations: view.escalations ?? [],
    escalationId: view.escalationId ?? null,
    retrospective: view.retrospective ?? null,
  };
}

/** ALREADY_DECIDED when `by` voted in the round the request closed in, as the workflow would have answered. */
export async function votedInFinalRound(
  deps: ApiDeps,
  row: ChangeRequestRow,
  by: string,
): Promise<ClearwayError | null> {
  const vote = await deps.prisma.decision.findUnique({
    where: { changeRequestId_round_by: { changeRequestId: row.id, round: row.round, by } },
  });
  if (!vote) return null;
  const r = alreadyDecided(by, row.round, vote);
  return new ClearwayError(r.code, r.message, r.details === undefined ? [] : [r.details]);
}

/** The list form of a projection row. */
export function summary(row: ChangeRequestRow): ChangeRequestSummary {
  return {
    id: row.id,
    title: row.title,
    class: row.class as ChangeRequestSummary['class'],
    risk: row.risk as ChangeRequestSummary['risk'],
    status: row.status as ChangeRequestSummary['status'],
    requester: row.requester,
    affectedSystems: row.affectedSystems,
    round: row.round,
    pendingRoles: row.pendingRoles as ChangeRequestSummary['pendingRoles'],
    policyVersion: row.policyVersion,
    slaDueAt: row.slaDueAt?.toISOString() ?? null,
    retrospectiveDueAt: row.retrospectiveDueAt?.toISOString() ?? null,
    retrospectivePending: row.retrospectiveRole !== null,
    openedAt: row.openedAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    closedAt: row.closedAt?.toISOString() ?? null,
  };
}
