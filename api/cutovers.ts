import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { Actor as DomainActor } from '../domain/actor';
import { ClearwayError } from '../errors';
import type { Cutover as CutoverRow } from '../generated/prisma/client';
import { cutoverWorkflowId, type cutover, type CutoverProcessView } from '../workflows/cutover';
import type { Actor } from './auth';
import type { ApiDeps } from './deps';

/** The actor as the workflow sees it. */
export function workflowActor(actor: Actor): DomainActor {
  return { id: actor.id, roles: actor.roles };
}

/** The cutover settings, or NOT_READY when this API was started without them. */
export function cutoverSetup(deps: ApiDeps): NonNullable<ApiDeps['cutovers']> {
  if (!deps.cutovers) throw new ClearwayError('NOT_READY', 'cutovers are not configured on this API');
  return deps.cutovers;
}

/** The projection row of a cutover, or NOT_FOUND. */
export async function findCutover(deps: ApiDeps, id: string): Promise<CutoverRow> {
  const row = await deps.prisma.cutover.findUnique({ where: { id } });
  if (!row) throw new ClearwayError('NOT_FOUND', `no cutover ${id}`);
  return row;
}

/** The stored view without where uploads sit on the worker's disk. */
export function publicView(view: CutoverProcessView): CutoverProcessView {
  const uploads = Object.fromEntries(
    Object.entries(view.uploads).map(([w, sides]) => [
      w,
      Object.fromEntries(Object.entries(sides).map(([side, u]) => [side, { ...u, path: undefined }])),
    ]),
  );
  return { ...view, uploads } as CutoverProcessView;
}

/**
 * Runs an update on a cutover's workflow. A workflow that has ended takes no more updates, which is INVALID_STATE;
 * refusals by the workflow come back as WorkflowUpdateFailedError and are mapped once, in http-errors.ts.
 */
export async function updateCutover(
  deps: ApiDeps,
  id: string,
  run: (handle: WorkflowHandle<typeof cutover>) => Promise<CutoverProcessView>,
): Promise<CutoverProcessView> {
  await findCutover(deps, id);
  try {
    return publicView(await run(deps.temporal().workflow.getHandle(cutoverWorkflowId(id))));
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) {
      const now = await findCutover(deps, id);
      throw new ClearwayError('INVALID_STATE', `cutover ${id} is ${now.status} and takes no more changes`, [
        { status: now.status },
      ]);
    }
    throw e;
  }
}
