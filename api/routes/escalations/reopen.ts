import { reopenEscalation } from '../../../workflows/escalation';
import { escalationActor, updateEscalation } from '../../escalations';
import { defineRoute } from '../../define-route';
import { Escalation, EscalationParams, ReopenBody } from './schemas';

/** POST /api/v1/escalations/{id}/reopen: reopens a resolved escalation within its ladder's reopen window. */
export const reopenEscalationRoute = defineRoute({
  method: 'post',
  path: '/api/v1/escalations/{id}/reopen',
  summary: 'Reopen a resolved escalation within its reopen window; a reason is required',
  tags: ['escalations'],
  params: EscalationParams,
  body: ReopenBody,
  response: Escalation,
  handler: ({ params, body, actor, deps }) =>
    updateEscalation(deps, params.id, (h) =>
      h.executeUpdate(reopenEscalation, { args: [{ actor: escalationActor(actor), reason: body.reason }] }),
    ),
});
