import { defineRoute } from '../../define-route';
import { z } from '../../schemas';

/** One entry of the append-only audit trail. */
export const AuditEventView = z
  .object({
    id: z.string(),
    at: z.iso.datetime(),
    actor: z.string(),
    action: z.string(),
    subjectType: z.string(),
    subjectId: z.string(),
    payload: z.unknown(),
  })
  .openapi('AuditEvent');
export type AuditEventView = z.infer<typeof AuditEventView>;

/** Filters and paging for the audit trail, newest first. */
export const ListAuditEventsQuery = z.object({
  subjectType: z.string().min(1).optional(),
  subjectId: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z
    .string()
    .regex(/^\d+$/, { error: 'must be an audit event id' })
    .optional()
    .openapi({ description: 'Return events older than this id (paging)' }),
});

export const AuditEventPage = z
  .object({ items: z.array(AuditEventView), nextBefore: z.string().nullable() })
  .openapi('AuditEventPage');

/** GET /api/v1/audit-events: the audit trail, for those who oversee the process. */
export const listAuditEventsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/audit-events',
  summary: 'Audit events, newest first',
  tags: ['audit'],
  query: ListAuditEventsQuery,
  response: AuditEventPage,
  roles: ['admin', 'operator', 'ccb-chair'],
  async handler({ query, deps }) {
    const rows = await deps.prisma.auditEvent.findMany({
      where: {
        subjectType: query.subjectType,
        subjectId: query.subjectId,
        id: query.before ? { lt: BigInt(query.before) } : undefined,
      },
      orderBy: { id: 'desc' },
      take: query.limit,
    });
    const items = rows.map((r) => ({ ...r, id: r.id.toString(), at: r.at.toISOString() }));
    return { items, nextBefore: rows.length === query.limit ? items[items.length - 1].id : null };
  },
});
