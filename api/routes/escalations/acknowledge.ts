import { acknowledgeEscalation } from '../../../workflows/escalation';
import { escalationActor, updateEscalation } from '../../escalations';
import { defineRoute } from '../../define-route';
import { AcknowledgeBody, Escalation, EscalationParams } from './schemas';

/** POST /api/v1/escalations/{id}/acknowledge: the current level takes the issue on; its workflow checks who may. */
export const acknowledgeEscalationRoute = defineRoute({
  method: 'post',
  path: '/api/v1/escalations/{id}/acknowledge',
  summary: 'Acknowledge an escalation at its current level',
  tags: ['escalations'],
  params: EscalationParams,
  body: AcknowledgeBody,
  response: Escalation,
  handler: ({ params, actor, deps }) =>
    updateEscalation(deps, params.id, (h) =>
      h.executeUpdate(acknowledgeEscalation, { args: [{ actor: escalationActor(actor) }] }),
    ),
});
