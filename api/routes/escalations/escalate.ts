import { escalateEscalation } from '../../../workflows/escalation';
import { escalationActor, updateEscalation } from '../../escalations';
import { defineRoute } from '../../define-route';
import { EscalateBody, Escalation, EscalationParams } from './schemas';

/** POST /api/v1/escalations/{id}/escalate: skips up the ladder by hand, with a reason. */
export const escalateEscalationRoute = defineRoute({
  method: 'post',
  path: '/api/v1/escalations/{id}/escalate',
  summary: 'Escalate by hand to the next (or a named higher) level; a reason is required',
  tags: ['escalations'],
  params: EscalationParams,
  body: EscalateBody,
  response: Escalation,
  handler: ({ params, body, actor, deps }) =>
    updateEscalation(deps, params.id, (h) =>
      h.executeUpdate(escalateEscalation, { args: [{ actor: escalationActor(actor), ...body }] }),
    ),
});
