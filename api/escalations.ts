import { QueryNotRegisteredError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { Actor as DomainActor } from '../domain/actor';
import type { EscalationView } from '../domain/escalation';
import { ClearwayError } from '../errors';
import { escalationView, type escalation } from '../workflows/escalation';
import type { Actor } from './auth';
import type { ApiDeps } from './deps';

/** The actor as the workflow sees it: id and roles, nothing the token does not vouch for. */
export function escalationActor(actor: Actor): DomainActor {
  return { id: actor.id, roles: actor.roles };
}

/** The handle of an escalation's workflow. */
export function escalationHandle(deps: ApiDeps, id: string): WorkflowHandle<typeof escalation> {
  return deps.temporal().workflow.getHandle<typeof escalation>(id);
}

/** The projected view of an escalation, or NOT_FOUND. */
export async function findEscalation(deps: ApiDeps, id: string): Promise<EscalationView> {
  const row = await deps.prisma.escalation.findUnique({ where: { id }, select: { view: true } });
  if (!row) throw new ClearwayError('NOT_FOUND', `no escalation ${id}`);
  return row.view as unknown as EscalationView;
}

/**
 * Runs an update on an escalation's workflow. A workflow that has ended (resolved and past its reopen window)
 * accepts no more updates, which is INVALID_STATE; refusals by the workflow are mapped in http-errors.ts.
 */
export async function updateEscalation(
  deps: ApiDeps,
  id: string,
  run: (handle: WorkflowHandle<typeof escalation>) => Promise<EscalationView>,
): Promise<EscalationView> {
  await findEscalation(deps, id);
  try {
    return await run(escalationHandle(deps, id));
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) {
      throw new ClearwayError('INVALID_STATE', `escalation ${id} has closed and takes no more changes`);
    }
    throw e;
  }
}

const VIEW_WAIT_MS = 10_000;

/** The live view of a just-started escalation; its query handler exists once its first task has read the policy. */
export async function liveView(handle: WorkflowHandle<typeof escalation>): Promise<EscalationView> {
  const until = Date.now() + VIEW_WAIT_MS;
  for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
    try {
      return await handle.query(escalationView);
    } catch (e) {
      if (!(e instanceof QueryNotRegisteredError) || Date.now() > until) throw e;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
