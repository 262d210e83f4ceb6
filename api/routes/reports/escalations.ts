import { escalationReport } from '../../../domain/escalation-report';
import { defineRoute } from '../../define-route';
import { z } from '../../schemas';
import { maxChars } from '../../../domain/text';

const Summary = z.object({ count: z.number().int(), medianMs: z.number().nullable(), p90Ms: z.number().nullable() });

export const EscalationReport = z
  .object({
    levels: z.array(z.object({ level: z.number().int(), acknowledge: Summary, resolve: Summary })),
    breachesByMonth: z.array(z.object({ month: z.string(), count: z.number().int() })),
  })
  .openapi('EscalationReport');

export const EscalationReportQuery = z.object({
  severity: maxChars(z.string().min(1), 100).optional(),
  since: z.iso.datetime().optional().openapi({ description: 'Only steps entered and breaches due from then on' }),
});

/**
 * GET /api/v1/reports/escalations: median and p90 time to acknowledge and to resolve per level (measured from
 * reaching the level) and window breaches per month, the figures that hold each level to its response time.
 */
export const escalationReportRoute = defineRoute({
  method: 'get',
  path: '/api/v1/reports/escalations',
  summary: 'Escalation response times per level (median, p90) and breaches per month',
  tags: ['escalations', 'reports'],
  query: EscalationReportQuery,
  response: EscalationReport,
  roles: ['admin', 'operator', 'ccb-chair', 'operations', 'finance'],
  async handler({ query, deps }) {
    const since = query.since ? new Date(query.since) : undefined;
    const escalation = query.severity ? { severity: query.severity } : undefined;
    const [steps, breaches] = await Promise.all([
      deps.prisma.escalationStep.findMany({
        where: { enteredAt: since ? { gte: since } : undefined, escalation },
        select: { level: true, timeToAcknowledgeMs: true, timeToResolveMs: true },
      }),
      deps.prisma.escalationBreach.findMany({
        where: { dueAt: since ? { gte: since } : undefined, escalation },
        select: { dueAt: true },
      }),
    ]);
    const num = (v: bigint | null) => (v === null ? null : Number(v));
    return escalationReport(
      steps.map((s) => ({
        level: s.level,
        timeToAcknowledgeMs: num(s.timeToAcknowledgeMs),
        timeToResolveMs: num(s.timeToResolveMs),
      })),
      breaches.map((b) => ({ dueAt: b.dueAt.toISOString() })),
    );
  },
});
