import { addEvidence } from '../../../workflows/change-request';
import { updateChangeRequest, workflowActor } from '../../change-requests';
import { defineRoute } from '../../define-route';
import { AddEvidenceBody, ChangeRequest, ChangeRequestParams } from './schemas';

/** POST /api/v1/change-requests/{id}/evidence: the requester or a reviewer of its class attaches evidence. */
export const addEvidenceRoute = defineRoute({
  method: 'post',
  path: '/api/v1/change-requests/{id}/evidence',
  summary: 'Attach evidence (requester, or a holder of a role that reviews the class)',
  tags: ['change-requests'],
  params: ChangeRequestParams,
  body: AddEvidenceBody,
  response: ChangeRequest,
  errors: ['NOT_FOUND', 'ROLE_REQUIRED', 'INVALID_STATE'],
  status: 201,
  // Evidence is read as part of its change request.
  location: (cr) => `/api/v1/change-requests/${encodeURIComponent(cr.id)}`,
  handler: ({ params, body, actor, deps }) =>
    updateChangeRequest(deps, params.id, (h) =>
      h.executeUpdate(addEvidence, { args: [{ actor: workflowActor(actor), evidence: body }] }),
    ),
});
