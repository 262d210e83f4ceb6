import { afterCursor, decodeCursor, pageOf } from '../../cursor';
import type { Prisma } from '../../../generated/prisma/client';
import { summary } from '../../change-requests';
import { defineRoute } from '../../define-route';
import { z } from '../../schemas';
import { ChangeClass, ChangeRequestStatus, ChangeRequestSummary } from './schemas';
import { maxChars } from '../../../domain/text';

export const ListChangeRequestsQuery = z.object({
  status: ChangeRequestStatus.optional(),
  class: ChangeClass.optional(),
  requester: maxChars(z.string().min(1), 200).optional().openapi({ description: 'User id of the requester' }),
  system: maxChars(z.string().min(1), 200).optional().openapi({ description: 'An affected system' }),
  retrospective: z.enum(['pending', 'overdue', 'recorded']).optional().openapi({
    description: 'Approved emergency changes whose retrospective review is owed, owed past its due time, or recorded',
  }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: maxChars(z.string(), 200).optional().openapi({ description: 'nextCursor of the previous page' }),
});

export const ChangeRequestPage = z
  .object({ items: z.array(ChangeRequestSummary), nextCursor: z.string().nullable() })
  .openapi('ChangeRequestPage');

/** The rows whose retrospective review is in the asked state; owed rows name the role that owes it. */
function retrospectiveFilter(
  state: z.infer<typeof ListChangeRequestsQuery>['retrospective'],
  now: Date,
): Prisma.ChangeRequestWhereInput {
  switch (state) {
    case undefined:
      return {};
    case 'pending':
      return { retrospectiveRole: { not: null } };
    case 'overdue':
      return { retrospectiveRole: { not: null }, retrospectiveDueAt: { lt: now } };
    case 'recorded':
      return { retrospectiveRole: null, retrospectiveDueAt: { not: null } };
  }
}

/** GET /api/v1/change-requests: newest first, filtered, a page at a time. */
export const listChangeRequestsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/change-requests',
  summary: 'Change requests, newest first (filters: status, class, requester, system, retrospective)',
  tags: ['change-requests'],
  query: ListChangeRequestsQuery,
  response: ChangeRequestPage,
  async handler({ query, deps }) {
    const after = decodeCursor(query, z.uuid());
    const where: Prisma.ChangeRequestWhereInput = {
      status: query.status,
      class: query.class,
      requester: query.requester,
      affectedSystems: query.system ? { has: query.system } : undefined,
      ...retrospectiveFilter(query.retrospective, new Date()),
      ...afterCursor('openedAt', after),
    };
    const rows = await deps.prisma.changeRequest.findMany({
      where,
      orderBy: [{ openedAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
    });
    const page = pageOf(rows, query, (r) => r.openedAt);
    return { items: page.rows.map(summary), nextCursor: page.nextCursor };
  },
});
