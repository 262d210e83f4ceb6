import { afterCursor, decodeCursor, pageOf } from '../../cursor';
import type { Prisma } from '../../../generated/prisma/client';
import { reviewDetail } from '../../reviews';
import { defineRoute } from '../../define-route';
import { ListReviewsQuery, ReviewId, ReviewPage } from './schemas';

/** GET /api/v1/reviews: data-stewardship reviews, newest first, filtered, a page at a time. */
export const listReviewsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/reviews',
  summary: 'Data-stewardship reviews, newest first (filters: status, rollout, overdue)',
  tags: ['reviews'],
  query: ListReviewsQuery,
  response: ReviewPage,
  async handler({ query, deps }) {
    const now = new Date();
    const after = decodeCursor(query, ReviewId);
    const lateWhileOpen: Prisma.StewardshipReviewWhereInput = { status: 'open', dueAt: { lte: now } };
    const and: Prisma.StewardshipReviewWhereInput[] = [];
    if (query.overdue === 'true') and.push({ OR: [{ overdueAt: { not: null } }, lateWhileOpen] });
    if (query.overdue === 'false') and.push({ overdueAt: null, NOT: lateWhileOpen });
    if (after) and.push(afterCursor('openedAt', after));
    const rows = await deps.prisma.stewardshipReview.findMany({
      where: { status: query.status, rolloutId: query.rollout, AND: and },
      orderBy: [{ openedAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
    });
    const page = pageOf(rows, query, (r) => r.openedAt);
    return { items: page.rows.map((row) => reviewDetail(row, now)), nextCursor: page.nextCursor };
  },
});
