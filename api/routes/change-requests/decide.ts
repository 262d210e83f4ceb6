import { decide } from '../../../workflows/change-request';
import { updateChangeRequest, votedInFinalRound, workflowActor } from '../../change-requests';
import { defineRoute } from '../../define-route';
import { ChangeRequest, ChangeRequestParams, DecisionBody } from './schemas';

/**
 * POST /api/v1/change-requests/{id}/decisions: the caller votes in one of their roles. Separation of duties, role,
 * one vote per round and the state are checked by the workflow, so they hold for every client, not only this API.
 */
export const decideChangeRequestRoute = defineRoute({
  method: 'post',
  path: '/api/v1/change-requests/{id}/decisions',
  summary: 'Approve, reject or request changes, in one of the caller’s roles',
  tags: ['change-requests'],
  params: ChangeRequestParams,
  body: DecisionBody,
  response: ChangeRequest,
  errors: ['NOT_FOUND', 'ROLE_REQUIRED', 'SELF_APPROVAL_FORBIDDEN', 'ALREADY_DECIDED', 'INVALID_STATE'],
  handler: ({ params, body, actor, deps }) =>
    updateChangeRequest(
      deps,
      params.id,
      (h) => h.executeUpdate(decide, { args: [{ actor: workflowActor(actor), ...body }] }),
      (row) => votedInFinalRound(deps, row, actor.id),
    ),
});
