import type { InputProblem } from '../../../activities/reconcile';
import { ClearwayError } from '../../../errors';
import { findCutover } from '../../cutovers';
import { defineRoute } from '../../define-route';
import { DiscrepancyPage, DiscrepancyQuery, WindowParams } from './schemas';

/**
 * GET /api/v1/cutovers/{id}/windows/{window}/discrepancies: a window's discrepancies, paged, by kind and field; for a
 * run refused as malformed, its problems with side and line (and no discrepancy, since none was stored).
 */
export const listDiscrepanciesRoute = defineRoute({
  method: 'get',
  path: '/api/v1/cutovers/{id}/windows/{window}/discrepancies',
  summary: "A window's discrepancies, paged; filter by kind and field",
  tags: ['cutovers'],
  params: WindowParams,
  query: DiscrepancyQuery,
  response: DiscrepancyPage,
  async handler({ params, query, deps }) {
    await findCutover(deps, params.id);
    const run = await deps.prisma.reconciliationRun.findFirst({
      where: query.runId
        ? { id: query.runId, cutoverId: params.id, window: params.window }
        : { cutoverId: params.id, window: params.window, status: { in: ['completed', 'invalid'] } },
      orderBy: { startedAt: 'desc' },
    });
    if (!run) throw new ClearwayError('NOT_FOUND', `window ${params.window} has no finished reconciliation`);
    const rows = await deps.prisma.discrepancy.findMany({
      where: {
        runId: run.id,
        ...(query.kind ? { kind: query.kind } : {}),
        ...(query.field ? { fields: { has: query.field } } : {}),
        ...(query.cursor ? { id: { gt: BigInt(query.cursor) } } : {}),
      },
      orderBy: { id: 'asc' },
      take: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    return {
      runId: run.id,
      window: run.window,
      status: run.status,
      failure: run.failure,
      counts: run.counts as Record<string, number>,
      rate: run.rate,
      problemCount: run.problemCount,
      problems: run.problems as InputProblem[],
      items: page.map((r) => ({
        id: String(r.id),
        kind: r.kind as 'mismatch',
        key: r.key,
        fields: r.fields,
        critical: r.critical,
        legacyLine: r.legacyLine,
        newLine: r.newLine,
        detail: r.detail,
      })),
      nextCursor: rows.length > query.limit ? String(page[page.length - 1].id) : null,
    };
  },
});
