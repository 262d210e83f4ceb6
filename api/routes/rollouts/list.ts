import { afterCursor, decodeCursor, pageOf } from '../../cursor';
import type { Prisma } from '../../../generated/prisma/client';
import { rolloutSummary } from '../../rollouts';
import { defineRoute } from '../../define-route';
import { z } from '../../schemas';
import { RolloutId, RolloutStatus, RolloutSummary } from './schemas';
import { maxChars } from '../../../domain/text';

export const ListRolloutsQuery = z.object({
  status: RolloutStatus.optional(),
  changeRequestId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: maxChars(z.string(), 200).optional().openapi({ description: 'nextCursor of the previous page' }),
});

export const RolloutPage = z
  .object({ items: z.array(RolloutSummary), nextCursor: z.string().nullable() })
  .openapi('RolloutPage');

/** GET /api/v1/rollouts: newest first, by status or change request, a page at a time. */
export const listRolloutsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/rollouts',
  summary: 'Rollouts, newest first (filters: status, changeRequestId)',
  tags: ['rollouts'],
  query: ListRolloutsQuery,
  response: RolloutPage,
  async handler({ query, deps }) {
    const after = decodeCursor(query, RolloutId);
    const where: Prisma.RolloutWhereInput = {
      status: query.status,
      changeRequestId: query.changeRequestId,
      ...afterCursor('startedAt', after),
    };
    const rows = await deps.prisma.rollout.findMany({
      where,
      orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
    });
    const page = pageOf(rows, query, (r) => r.startedAt);
    return { items: page.rows.map(rolloutSummary), nextCursor: page.nextCursor };
  },
});
