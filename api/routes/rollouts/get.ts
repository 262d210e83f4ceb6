import { currentView } from '../../rollouts';
import { defineRoute } from '../../define-route';
import { Rollout, RolloutParams } from './schemas';

/** GET /api/v1/rollouts/{id}: phases, time in phase, the gate per criterion and open reviews, from the workflow. */
export const getRolloutRoute = defineRoute({
  method: 'get',
  path: '/api/v1/rollouts/{id}',
  summary: 'A rollout: current phase, gate status per criterion, open reviews, time in phase',
  tags: ['rollouts'],
  params: RolloutParams,
  response: Rollout,
  handler: ({ params, deps }) => currentView(deps, params.id),
});
