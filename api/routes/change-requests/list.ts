import { ClearwayError } from '../../../errors';
import type { Prisma } from '../../../generated/prisma/client';
import { summary } from '../../change-requests';
import { defineRoute } from '../../define-route';
import { z } from '../../schemas';
import { ChangeClass, ChangeRequestStatus, ChangeRequestSummary } from './schemas';

export const ListChangeRequestsQuery = z.object({
  status: ChangeRequestStatus.optional(),
  class: ChangeClass.optional(),
  requester: z.string().min(1).max(200).optional().openapi({ description: 'User id of the requester' }),
  system: z.string().min(1).max(200).optional().openapi({ description: 'An affected system' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional().openapi({ description: 'nextCursor of the previous page' }),
});

export const ChangeRequestPage = z
  .object({ items: z.array(ChangeRequestSummary), nextCursor: z.string().nullable() })
  .openapi('ChangeRequestPage');

// A cursor is the (openedAt, id) of the last item shown: stable under inserts, unlike an offset.
function encodeCursor(openedAt: Date, id: string): string {
  return Buffer.from(`${openedAt.toISOString()}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { openedAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const openedAt = new Date(at ?? '');
  if (!id || Number.isNaN(openedAt.getTime()) || !z.uuid().safeParse(id).success) {
    throw new ClearwayError('VALIDATION_FAILED', 'query is invalid', [
      { path: 'query.cursor', message: 'not a cursor this API returned' },
    ]);
  }
  return { openedAt, id };
}

/** GET /api/v1/change-requests: newest first, filtered, a page at a time. */
export const listChangeRequestsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/change-requests',
  summary: 'Change requests, newest first (filters: status, class, requester, system)',
  tags: ['change-requests'],
  query: ListChangeRequestsQuery,
  response: ChangeRequestPage,
  async handler({ query, deps }) {
    const after = query.cursor ? decodeCursor(query.cursor) : null;
    const where: Prisma.ChangeRequestWhereInput = {
      status: query.status,
      class: query.class,
      requester: query.requester,
      affectedSystems: query.system ? { has: query.system } : undefined,
      ...(after
        ? { OR: [{ openedAt: { lt: after.openedAt } }, { openedAt: after.openedAt, id: { lt: after.id } }] }
        : {}),
    };
    const rows = await deps.prisma.changeRequest.findMany({
      where,
      orderBy: [{ openedAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(summary),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last.openedAt, last.id) : null,
    };
  },
});
