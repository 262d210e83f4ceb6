import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { ClearwayError } from '../errors';
import type { Rollout as RolloutRow } from '../generated/prisma/client';
import { rolloutView, rolloutWorkflowId, type rollout } from '../workflows/rollout';
import type { ApiDeps } from './deps';
import type { Rollout, RolloutSummary } from './routes/rollouts/schemas';

/** The rollout's projection row, or NOT_FOUND. */
export async function findRollout(deps: ApiDeps, id: string): Promise<RolloutRow> {
  const row = await deps.prisma.rollout.findUnique({ where: { id } });
  if (!row) throw new ClearwayError('NOT_FOUND', `no rollout ${id}`);
  return row;
}

/** The rollout workflow's handle. */
export function rolloutHandle(deps: ApiDeps, id: string): WorkflowHandle<typeof rollout> {
  return deps.temporal().workflow.getHandle(rolloutWorkflowId(id));
}

/** The rollout as its workflow shows it now; once the workflow has ended, its last projected view. */
export async function currentView(deps: ApiDeps, id: string): Promise<Rollout> {
  const row = await findRollout(deps, id);
  try {
    return (await rolloutHandle(deps, id).query(rolloutView)) as Rollout;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return row.view as Rollout;
    throw e;
  }
}

/**
 * Runs an update on a rollout's workflow. The rollout must exist; one whose workflow has ended takes no more
 * changes (ROLLOUT_NOT_ACTIVE). Refusals by the workflow are mapped once, in http-errors.ts.
 */
export async function updateRollout<T>(
  deps: ApiDeps,
  id: string,
  run: (handle: WorkflowHandle<typeof rollout>) => Promise<T>,
): Promise<T> {
  await findRollout(deps, id);
  try {
    return await run(rolloutHandle(deps, id));
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) {
      const now = await findRollout(deps, id);
      throw new ClearwayError('ROLLOUT_NOT_ACTIVE', `rollout ${id} is ${now.status} and takes no more changes`, [
        { status: now.status },
      ]);
    }
    throw e;
  }
}

/** The list form of a projection row. */
export function rolloutSummary(row: RolloutRow): RolloutSummary {
  return {
    id: row.id,
    changeRequestId: row.changeRequestId,
    status: row.status as RolloutSummary['status'],
    phase: row.phase,
    gateStatus: row.gateStatus as RolloutSummary['gateStatus'],
    readyToAdvance: row.readyToAdvance,
    policyVersion: row.policyVersion,
    startedBy: row.startedBy,
    startedAt: row.startedAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
