import { submit } from '../../../workflows/change-request';
import { updateChangeRequest, workflowActor } from '../../change-requests';
import { defineRoute } from '../../define-route';
import { ChangeRequest, ChangeRequestParams } from './schemas';

/** POST /api/v1/change-requests/{id}/submit: the requester sends the request to the board for a new round. */
export const submitChangeRequestRoute = defineRoute({
  method: 'post',
  path: '/api/v1/change-requests/{id}/submit',
  summary: 'Submit for review, starting a review round (requester only; evidence must be complete)',
  tags: ['change-requests'],
  params: ChangeRequestParams,
  response: ChangeRequest,
  errors: ['NOT_FOUND', 'ROLE_REQUIRED', 'INVALID_STATE', 'EVIDENCE_MISSING'],
  handler: ({ params, actor, deps }) =>
    updateChangeRequest(deps, params.id, (h) => h.executeUpdate(submit, { args: [{ actor: workflowActor(actor) }] })),
});
