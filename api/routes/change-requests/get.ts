import { findChangeRequest, storedView } from '../../change-requests';
import { defineRoute } from '../../define-route';
import { ChangeRequest, ChangeRequestParams } from './schemas';

/** GET /api/v1/change-requests/{id}: the request with its votes, evidence, pending roles and deadlines. */
export const getChangeRequestRoute = defineRoute({
  method: 'get',
  path: '/api/v1/change-requests/{id}',
  summary: 'A change request: state, pending roles, votes, evidence, policy version, SLA due time',
  tags: ['change-requests'],
  params: ChangeRequestParams,
  response: ChangeRequest,
  errors: ['NOT_FOUND'],
  async handler({ params, deps }) {
    return storedView(await findChangeRequest(deps, params.id));
  },
});
