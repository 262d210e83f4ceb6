import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { validateRolloutPlan } from '../../../domain/rollout-plan';
import { ClearwayError, CODES, type ErrorCode } from '../../../errors';
import { policyVersion } from '../../../policies/load';
import { rollout, rolloutRecorded, rolloutWorkflowId } from '../../../workflows/rollout';
import { defineRoute } from '../../define-route';
import { CreateRolloutBody, Rollout } from './schemas';

// A workflow that fails before recording (its change request stopped being approved) fails with our code.
async function refusalOf(handle: WorkflowHandle<typeof rollout>): Promise<ClearwayError | null> {
  try {
    await handle.result();
    return null;
  } catch (e) {
    const cause = e instanceof WorkflowFailedError ? e.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type && cause.type in CODES) {
      return new ClearwayError(cause.type as ErrorCode, cause.message);
    }
    return null;
  }
}

/** POST /api/v1/rollouts: starts a phased rollout of an approved change request under a validated plan. */
export const createRolloutRoute = defineRoute({
  method: 'post',
  path: '/api/v1/rollouts',
  summary: 'Start a phased rollout of an approved change request (rollout-lead)',
  tags: ['rollouts'],
  body: CreateRolloutBody,
  response: Rollout,
  status: 201,
  location: (rollout) => `/api/v1/rollouts/${encodeURIComponent(rollout.id)}`,
  roles: ['rollout-lead'],
  async handler({ body, actor, deps, log }) {
    const setup = deps.changeRequests;
    if (!setup) throw new ClearwayError('NOT_READY', 'no workflow task queue is configured');
    const plan = validateRolloutPlan(body.plan);
    if (!plan.ok) {
      throw new ClearwayError('VALIDATION_FAILED', `plan: ${plan.message}`, [
        { path: `body.plan.${plan.path}`, message: plan.problem },
      ]);
    }
    // The workflow checks approval itself; asking first answers at once instead of starting a doomed workflow.
    const change = await deps.prisma.changeRequest.findUnique({ where: { id: body.changeRequestId } });
    if (!change) throw new ClearwayError('NOT_FOUND', `no change request ${body.changeRequestId}`);
    if (change.status !== 'approved') {
      throw new ClearwayError('CHANGE_NOT_APPROVED', `change request ${change.id} is ${change.status}, not approved`, [
        { status: change.status },
      ]);
    }
    const id = randomUUID();
    const handle = await deps.temporal().workflow.start(rollout, {
      taskQueue: setup.taskQueue,
      workflowId: rolloutWorkflowId(id),
      args: [
        { id, changeRequestId: change.id, plan: plan.policy, policyVersion: policyVersion(plan.policy), by: actor.id },
      ],
    });
    log.info({ rolloutId: id, crId: change.id, workflowId: handle.workflowId }, 'rollout started');
    try {
      // Answer once the projection holds the rollout, so the caller's next read finds it.
      return await handle.executeUpdate(rolloutRecorded);
    } catch (e) {
      throw (await refusalOf(handle)) ?? e;
    }
  },
});
