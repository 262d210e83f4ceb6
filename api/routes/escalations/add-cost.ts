import { addEscalationCost } from '../../../workflows/escalation';
import { escalationActor, updateEscalation } from '../../escalations';
import { defineRoute } from '../../define-route';
import { AddCostBody, Escalation, EscalationParams } from './schemas';

/** POST /api/v1/escalations/{id}/costs: books a cost; the cycle's total across escalations decides its owner. */
export const addEscalationCostRoute = defineRoute({
  method: 'post',
  path: '/api/v1/escalations/{id}/costs',
  summary: 'Book a cost on an escalation; the cycle is routed to finance or operations by its total',
  tags: ['escalations'],
  params: EscalationParams,
  body: AddCostBody,
  response: Escalation,
  handler: ({ params, body, actor, deps }) =>
    updateEscalation(deps, params.id, (h) =>
      h.executeUpdate(addEscalationCost, { args: [{ actor: escalationActor(actor), ...body }] }),
    ),
});
