import { findCutover } from '../../cutovers';
import { defineRoute } from '../../define-route';
import { CutoverHistory, CutoverParams } from './schemas';

/** GET /api/v1/cutovers/{id}/history: every recorded step, oldest first, from the append-only audit trail. */
export const cutoverHistoryRoute = defineRoute({
  method: 'get',
  path: '/api/v1/cutovers/{id}/history',
  summary: 'What happened to a cutover: who did what, when',
  tags: ['cutovers'],
  params: CutoverParams,
  response: CutoverHistory,
  async handler({ params, deps }) {
    await findCutover(deps, params.id);
    const rows = await deps.prisma.auditEvent.findMany({
      where: { subjectType: 'cutover', subjectId: params.id },
      orderBy: { id: 'asc' },
    });
    return {
      entries: rows.map((r) => ({
        at: r.at.toISOString(),
        actor: r.actor,
        action: r.action.replace(/^CUTOVER_/, ''),
        data: r.payload,
      })),
    };
  },
});
