import { findEscalation } from '../../escalations';
import { defineRoute } from '../../define-route';
import { z } from '../../schemas';
import { EscalationParams } from './schemas';

export const EscalationHistoryEntry = z
  .object({ at: z.iso.datetime(), actor: z.string(), action: z.string(), event: z.unknown() })
  .openapi('EscalationHistoryEntry');

export const EscalationHistory = z
  .object({ id: z.string(), entries: z.array(EscalationHistoryEntry) })
  .openapi('EscalationHistory');

/** GET /api/v1/escalations/{id}/history: every recorded step of the escalation, oldest first, from the audit trail. */
export const escalationHistoryRoute = defineRoute({
  method: 'get',
  path: '/api/v1/escalations/{id}/history',
  summary: 'What happened to an escalation, oldest first: climbs, breaches, answers, costs, reminders',
  tags: ['escalations'],
  params: EscalationParams,
  response: EscalationHistory,
  async handler({ params, deps }) {
    await findEscalation(deps, params.id);
    const rows = await deps.prisma.auditEvent.findMany({
      where: { subjectType: 'escalation', subjectId: params.id },
      orderBy: { id: 'asc' },
    });
    return {
      id: params.id,
      entries: rows.map((r) => ({ at: r.at.toISOString(), actor: r.actor, action: r.action, event: r.payload })),
    };
  },
});
