import { retrospectiveRecorded } from '../../../domain/change-request';
import { ClearwayError } from '../../../errors';
import type { ChangeRequest as ChangeRequestRow } from '../../../generated/prisma/client';
import { recordRetrospective } from '../../../workflows/change-request';
import { storedView, updateChangeRequest, workflowActor } from '../../change-requests';
import { defineRoute } from '../../define-route';
import { ChangeRequest, ChangeRequestParams, RetrospectiveBody } from './schemas';

/** The refusal a request whose workflow has ended gives a retrospective review, as the workflow would have. */
function closedRefusal(row: ChangeRequestRow): ClearwayError {
  const done = storedView(row).retrospective?.review;
  if (done) {
    const r = retrospectiveRecorded(row.id, done);
    return new ClearwayError(r.code, r.message, [r.details]);
  }
  const why = row.status === 'approved' ? 'owes no retrospective review' : `is ${row.status}`;
  return new ClearwayError('INVALID_STATE', `change request ${row.id} ${why}`, [{ status: row.status }]);
}

/**
 * POST /api/v1/change-requests/{id}/retrospective: a holder of the review's owner role (the CCB chair unless the
 * policy names another), not the requester, records the retrospective review an approved emergency change owes.
 */
export const retrospectiveRoute = defineRoute({
  method: 'post',
  path: '/api/v1/change-requests/{id}/retrospective',
  summary: 'Record the retrospective review of an approved emergency change (its owner role, not the requester)',
  tags: ['change-requests'],
  params: ChangeRequestParams,
  body: RetrospectiveBody,
  response: ChangeRequest,
  errors: ['NOT_FOUND', 'ROLE_REQUIRED', 'SELF_APPROVAL_FORBIDDEN', 'ALREADY_DECIDED', 'INVALID_STATE'],
  handler: ({ params, body, actor, deps }) =>
    updateChangeRequest(
      deps,
      params.id,
      (h) => h.executeUpdate(recordRetrospective, { args: [{ actor: workflowActor(actor), ...body }] }),
      async (row) => closedRefusal(row),
    ),
});
