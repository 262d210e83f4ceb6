import { requestReconcile } from '../../../workflows/cutover';
import { updateCutover, workflowActor } from '../../cutovers';
import { defineRoute } from '../../define-route';
import { Cutover, CutoverParams, ReconcileBody } from './schemas';

/** POST /api/v1/cutovers/{id}/reconcile: queues a window whose two sides are uploaded (or named tables). */
export const reconcileCutoverRoute = defineRoute({
  method: 'post',
  path: '/api/v1/cutovers/{id}/reconcile',
  summary: 'Queue the reconciliation of a window; its outcome appears on the cutover',
  tags: ['cutovers'],
  params: CutoverParams,
  body: ReconcileBody,
  response: Cutover,
  status: 202,
  roles: ['rollout-lead', 'integration-specialist', 'data-steward'],
  handler: ({ params, body, actor, deps }) =>
    updateCutover(deps, params.id, (h) =>
      h.executeUpdate(requestReconcile, { args: [{ actor: workflowActor(actor), window: body.window }] }),
    ),
});
