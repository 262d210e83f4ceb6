import { ClearwayError } from '../../../errors';
import type { Prisma } from '../../../generated/prisma/client';
import { reviewDetail } from '../../reviews';
import { defineRoute } from '../../define-route';
import { ListReviewsQuery, ReviewId, ReviewPage } from './schemas';

// A cursor is the (openedAt, id) of the last item shown: stable under inserts, unlike an offset.
function encodeCursor(openedAt: Date, id: string): string {
  return Buffer.from(`${openedAt.toISOString()}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { openedAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const openedAt = new Date(at ?? '');
  if (!id || Number.isNaN(openedAt.getTime()) || !ReviewId.safeParse(id).success) {
    throw new ClearwayError('VALIDATION_FAILED', 'query is invalid', [
      { path: 'query.cursor', message: 'not a cursor this API returned' },
    ]);
  }
  return { openedAt, id };
}

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
    const after = query.cursor ? decodeCursor(query.cursor) : null;
    const lateWhileOpen: Prisma.StewardshipReviewWhereInput = { status: 'open', dueAt: { lte: now } };
    const and: Prisma.StewardshipReviewWhereInput[] = [];
    if (query.overdue === 'true') and.push({ OR: [{ overdueAt: { not: null } }, lateWhileOpen] });
    if (query.overdue === 'false') and.push({ overdueAt: null, NOT: lateWhileOpen });
    if (after) {
      and.push({ OR: [{ openedAt: { lt: after.openedAt } }, { openedAt: after.openedAt, id: { lt: after.id } }] });
    }
    const rows = await deps.prisma.stewardshipReview.findMany({
      where: { status: query.status, rolloutId: query.rollout, AND: and },
      orderBy: [{ openedAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((row) => reviewDetail(row, now)),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last.openedAt, last.id) : null,
    };
  },
});
