import { ClearwayError } from '../../../errors';
import type { Prisma } from '../../../generated/prisma/client';
import { rolloutSummary } from '../../rollouts';
import { defineRoute } from '../../define-route';
import { z } from '../../schemas';
import { RolloutId, RolloutStatus, RolloutSummary } from './schemas';

export const ListRolloutsQuery = z.object({
  status: RolloutStatus.optional(),
  changeRequestId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional().openapi({ description: 'nextCursor of the previous page' }),
});

export const RolloutPage = z
  .object({ items: z.array(RolloutSummary), nextCursor: z.string().nullable() })
  .openapi('RolloutPage');

// A cursor is the (startedAt, id) of the last item shown: stable under inserts, unlike an offset.
function encodeCursor(startedAt: Date, id: string): string {
  return Buffer.from(`${startedAt.toISOString()}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { startedAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const startedAt = new Date(at ?? '');
  if (!id || Number.isNaN(startedAt.getTime()) || !RolloutId.safeParse(id).success) {
    throw new ClearwayError('VALIDATION_FAILED', 'query is invalid', [
      { path: 'query.cursor', message: 'not a cursor this API returned' },
    ]);
  }
  return { startedAt, id };
}

/** GET /api/v1/rollouts: newest first, by status or change request, a page at a time. */
export const listRolloutsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/rollouts',
  summary: 'Rollouts, newest first (filters: status, changeRequestId)',
  tags: ['rollouts'],
  query: ListRolloutsQuery,
  response: RolloutPage,
  async handler({ query, deps }) {
    const after = query.cursor ? decodeCursor(query.cursor) : null;
    const where: Prisma.RolloutWhereInput = {
      status: query.status,
      changeRequestId: query.changeRequestId,
      ...(after
        ? { OR: [{ startedAt: { lt: after.startedAt } }, { startedAt: after.startedAt, id: { lt: after.id } }] }
        : {}),
    };
    const rows = await deps.prisma.rollout.findMany({
      where,
      orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(rolloutSummary),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last.startedAt, last.id) : null,
    };
  },
});
