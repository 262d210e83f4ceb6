import { afterCursor, decodeCursor, pageOf } from '../../cursor';
import type { Cutover as CutoverRow, Prisma } from '../../../generated/prisma/client';
import type { CutoverProcessView } from '../../../workflows/cutover';
import { defineRoute } from '../../define-route';
import { z } from '../../schemas';
import { CutoverPage, ListCutoversQuery, type CutoverSummary } from './schemas';

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
    const after = decodeCursor(query, z.uuid());
    const where: Prisma.CutoverWhereInput = {
      status: query.status,
      changeRequestId: query.changeRequestId,
      ...afterCursor('openedAt', after),
    };
    const rows = await deps.prisma.cutover.findMany({
      where,
      orderBy: [{ openedAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
    });
    const page = pageOf(rows, query, (r) => r.openedAt);
    return { items: page.rows.map(summary), nextCursor: page.nextCursor };
  },
});
