import { ClearwayError } from '../../../errors';
import type { Cutover as CutoverRow, Prisma } from '../../../generated/prisma/client';
import type { CutoverProcessView } from '../../../workflows/cutover';
import { defineRoute } from '../../define-route';
import { z } from '../../schemas';
import { CutoverPage, ListCutoversQuery, type CutoverSummary } from './schemas';

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

function summary(row: CutoverRow): CutoverSummary {
  const view = row.view as unknown as CutoverProcessView;
  return {
    id: row.id,
    changeRequestId: row.changeRequestId,
    planVersion: row.planVersion,
    status: row.status as CutoverSummary['status'],
    final: view.final,
    cleanStreak: row.cleanStreak,
    cleanWindowsRequired: view.rules.cleanWindowsRequired,
    watchClean: view.watchClean,
    watchWindows: view.rules.watchWindows,
    windowsReconciled: view.windows.length,
    pending: view.pending.length,
    openedBy: row.openedBy,
    openedAt: row.openedAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    closedAt: row.closedAt?.toISOString() ?? null,
  };
}

/** GET /api/v1/cutovers: newest first, by status or change request, a page at a time. */
export const listCutoversRoute = defineRoute({
  method: 'get',
  path: '/api/v1/cutovers',
  summary: 'Cutovers, newest first (filters: status, changeRequestId)',
  tags: ['cutovers'],
  query: ListCutoversQuery,
  response: CutoverPage,
  async handler({ query, deps }) {
    const after = query.cursor ? decodeCursor(query.cursor) : null;
    const where: Prisma.CutoverWhereInput = {
      status: query.status,
      changeRequestId: query.changeRequestId,
      ...(after
        ? { OR: [{ openedAt: { lt: after.openedAt } }, { openedAt: after.openedAt, id: { lt: after.id } }] }
        : {}),
    };
    const rows = await deps.prisma.cutover.findMany({
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
