import { edit } from '../../../workflows/change-request';
import { updateChangeRequest, workflowActor } from '../../change-requests';
import { defineRoute } from '../../define-route';
import { ChangeRequest, ChangeRequestParams, EditChangeRequestBody } from './schemas';

/** PATCH /api/v1/change-requests/{id}: the requester edits a draft or a request sent back for changes. */
export const editChangeRequestRoute = defineRoute({
  method: 'patch',
  path: '/api/v1/change-requests/{id}',
  summary: 'Edit a draft or a request sent back for changes (requester only)',
  tags: ['change-requests'],
  params: ChangeRequestParams,
  body: EditChangeRequestBody,
  response: ChangeRequest,
  errors: ['NOT_FOUND', 'ROLE_REQUIRED', 'INVALID_STATE'],
  handler: ({ params, body, actor, deps }) =>
    updateChangeRequest(deps, params.id, (h) =>
      h.executeUpdate(edit, { args: [{ actor: workflowActor(actor), patch: body }] }),
    ),
});
