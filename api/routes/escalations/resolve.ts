import { resolveEscalation } from '../../../workflows/escalation';
import { escalationActor, updateEscalation } from '../../escalations';
import { defineRoute } from '../../define-route';
import { Escalation, EscalationParams, ResolveBody } from './schemas';

/** POST /api/v1/escalations/{id}/resolve: closes the issue with a resolution note. */
export const resolveEscalationRoute = defineRoute({
  method: 'post',
  path: '/api/v1/escalations/{id}/resolve',
  summary: 'Resolve an escalation; a resolution note is required',
  tags: ['escalations'],
  params: EscalationParams,
  body: ResolveBody,
  response: Escalation,
  handler: ({ params, body, actor, deps }) =>
    updateEscalation(deps, params.id, (h) =>
      h.executeUpdate(resolveEscalation, { args: [{ actor: escalationActor(actor), note: body.note }] }),
    ),
});
