import { advanceRollout, holdRollout, resumeRollout, rollbackRollout } from '../../../workflows/rollout';
import { workflowActor } from '../../change-requests';
import { updateRollout } from '../../rollouts';
import { defineRoute } from '../../define-route';
import { AdvanceBody, HoldBody, ResumeBody, RollbackBody, Rollout, RolloutParams } from './schemas';

// Roles, blackouts, soak time, open reviews and the gate are the workflow's to check: they hold for every client.

/** POST /api/v1/rollouts/{id}/advance: to the next phase when the gate passes (or by the chair's override). */
export const advanceRolloutRoute = defineRoute({
  method: 'post',
  path: '/api/v1/rollouts/{id}/advance',
  summary: 'Advance to the next phase (GATE_NOT_MET, BLACKOUT, SOAK_INCOMPLETE, REVIEW_OPEN refuse it)',
  tags: ['rollouts'],
  params: RolloutParams,
  body: AdvanceBody,
  response: Rollout,
  roles: ['rollout-lead', 'ccb-chair'],
  handler: ({ params, body, actor, deps }) =>
    updateRollout(deps, params.id, (h) =>
      h.executeUpdate(advanceRollout, { args: [{ actor: workflowActor(actor), ...body }] }),
    ),
});

/** POST /api/v1/rollouts/{id}/hold: stops the rollout where it is, with a reason. */
export const holdRolloutRoute = defineRoute({
  method: 'post',
  path: '/api/v1/rollouts/{id}/hold',
  summary: 'Hold the rollout in its phase',
  tags: ['rollouts'],
  params: RolloutParams,
  body: HoldBody,
  response: Rollout,
  roles: ['rollout-lead', 'ccb-chair', 'data-steward'],
  handler: ({ params, body, actor, deps }) =>
    updateRollout(deps, params.id, (h) =>
      h.executeUpdate(holdRollout, { args: [{ actor: workflowActor(actor), reason: body.reason }] }),
    ),
});

/** POST /api/v1/rollouts/{id}/resume: lets a held rollout run again. */
export const resumeRolloutRoute = defineRoute({
  method: 'post',
  path: '/api/v1/rollouts/{id}/resume',
  summary: 'Resume a held rollout',
  tags: ['rollouts'],
  params: RolloutParams,
  body: ResumeBody,
  response: Rollout,
  roles: ['rollout-lead', 'ccb-chair'],
  handler: ({ params, actor, deps }) =>
    updateRollout(deps, params.id, (h) => h.executeUpdate(resumeRollout, { args: [{ actor: workflowActor(actor) }] })),
});

/** POST /api/v1/rollouts/{id}/rollback: back to the previous phase or the start; the plan's steps run. */
export const rollbackRolloutRoute = defineRoute({
  method: 'post',
  path: '/api/v1/rollouts/{id}/rollback',
  summary: 'Roll back to the previous phase or to the start, running the plan’s rollback steps',
  tags: ['rollouts'],
  params: RolloutParams,
  body: RollbackBody,
  response: Rollout,
  roles: ['rollout-lead', 'ccb-chair'],
  handler: ({ params, body, actor, deps }) =>
    updateRollout(deps, params.id, (h) =>
      h.executeUpdate(rollbackRollout, { args: [{ actor: workflowActor(actor), ...body }] }),
    ),
});
