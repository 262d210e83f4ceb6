import { withdraw } from '../../../workflows/change-request';
import { updateChangeRequest, workflowActor } from '../../change-requests';
import { defineRoute } from '../../define-route';
import { ChangeRequest, ChangeRequestParams, WithdrawBody } from './schemas';

/** POST /api/v1/change-requests/{id}/withdraw: the requester takes the request back before it is decided. */
export const withdrawChangeRequestRoute = defineRoute({
  method: 'post',
  path: '/api/v1/change-requests/{id}/withdraw',
  summary: 'Withdraw before a decision (requester only)',
  tags: ['change-requests'],
  params: ChangeRequestParams,
  body: WithdrawBody,
  response: ChangeRequest,
  errors: ['NOT_FOUND', 'ROLE_REQUIRED', 'INVALID_STATE'],
  handler: ({ params, body, actor, deps }) =>
    updateChangeRequest(deps, params.id, (h) =>
      h.executeUpdate(withdraw, { args: [{ actor: workflowActor(actor), ...body }] }),
    ),
});
