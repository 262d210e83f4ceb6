import type { Prisma } from '../../../generated/prisma/client';
import { rolloutSummary } from '../../rollouts';
import { defineRoute } from '../../define-route';
import { z } from '../../schemas';
import { RolloutStatus, RolloutSummary } from './schemas';

export const ListRolloutsQuery = z.object({
  status: RolloutStatus.optional(),
  changeRequestId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const RolloutPage = z.object({ items: z.array(RolloutSummary) }).openapi('RolloutPage');

/** GET /api/v1/rollouts: newest first, by status or change request. */
export const listRolloutsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/rollouts',
  summary: 'Rollouts, newest first (filters: status, changeRequestId)',
  tags: ['rollouts'],
  query: ListRolloutsQuery,
  response: RolloutPage,
  async handler({ query, deps }) {
    const where: Prisma.RolloutWhereInput = { status: query.status, changeRequestId: query.changeRequestId };
    const rows = await deps.prisma.rollout.findMany({
      where,
      orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
      take: query.limit,
    });
    return { items: rows.map(rolloutSummary) };
  },
});
