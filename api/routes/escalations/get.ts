import { findEscalation } from '../../escalations';
import { defineRoute } from '../../define-route';
import { Escalation, EscalationParams } from './schemas';

/** GET /api/v1/escalations/{id}: the escalation as last written by its workflow. */
export const getEscalationRoute = defineRoute({
  method: 'get',
  path: '/api/v1/escalations/{id}',
  summary: 'One escalation: its level, who must answer by when, breaches, costs and steps',
  tags: ['escalations'],
  params: EscalationParams,
  response: Escalation,
  handler: ({ params, deps }) => findEscalation(deps, params.id),
});
