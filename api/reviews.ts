import { ClearwayError } from '../errors';
import type { StewardshipReview as ReviewRow } from '../generated/prisma/client';
import type { ApiDeps } from './deps';
import type { ReviewDetail } from './routes/reviews/schemas';

/** The projection row of a data-stewardship review, or NOT_FOUND. */
export async function findReview(deps: ApiDeps, id: string): Promise<ReviewRow> {
  const row = await deps.prisma.stewardshipReview.findUnique({ where: { id } });
  if (!row) throw new ClearwayError('NOT_FOUND', `no review ${id}`);
  return row;
}

/** True when the review passed its deadline while open: recorded by its workflow, or due and still open at `now`. */
export function isOverdue(row: Pick<ReviewRow, 'status' | 'dueAt' | 'overdueAt'>, now: Date): boolean {
  return row.overdueAt !== null || (row.status === 'open' && row.dueAt.getTime() <= now.getTime());
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** The API form of a projection row. */
export function reviewDetail(row: ReviewRow, now: Date): ReviewDetail {
  return {
    id: row.id,
    rolloutId: row.rolloutId,
    phase: row.phase,
    status: row.status as ReviewDetail['status'],
    ownerRole: row.ownerRole,
    openedAt: row.openedAt.toISOString(),
    dueAt: row.dueAt.toISOString(),
    overdue: isOverdue(row, now),
    trigger: row.trigger as ReviewDetail['trigger'],
    overdueAt: iso(row.overdueAt),
    escalationId: row.escalationId,
    findings: row.findings,
    decision: row.decision as ReviewDetail['decision'],
    closedBy: row.closedBy,
    closedAt: iso(row.closedAt),
  };
}
