import { ClearwayError } from '../../../errors';
import { isRole } from '../../../domain/roles';
import { reassignEscalation } from '../../../workflows/escalation';
import { escalationActor, updateEscalation } from '../../escalations';
import { defineRoute } from '../../define-route';
import { Escalation, EscalationParams, ReassignBody } from './schemas';

/**
 * POST /api/v1/escalations/{id}/reassign: hands the issue to one user within the level. The target's roles are
 * looked up here and passed along, so the workflow's validator can check the target holds the level's role.
 */
export const reassignEscalationRoute = defineRoute({
  method: 'post',
  path: '/api/v1/escalations/{id}/reassign',
  summary: 'Reassign an escalation to a user holding its level’s role',
  tags: ['escalations'],
  params: EscalationParams,
  body: ReassignBody,
  response: Escalation,
  async handler({ params, body, actor, deps }) {
    const target = await deps.prisma.user.findUnique({ where: { id: body.to } });
    if (!target || target.revokedAt) {
      throw new ClearwayError('VALIDATION_FAILED', 'body is invalid', [{ path: 'body.to', message: 'no such user' }]);
    }
    const to = { id: target.id, roles: target.roles.filter(isRole) };
    return updateEscalation(deps, params.id, (h) =>
      h.executeUpdate(reassignEscalation, { args: [{ actor: escalationActor(actor), to, reason: body.reason }] }),
    );
  },
});
