import { Context } from '@temporalio/activity';
import { SYSTEM_ACTOR } from '../domain/actor';
import type { Prisma } from '../generated/prisma/client';

/** The workflow run an activity executes for, or null when called outside an activity (tests, tools). */
export function activityRunId(): string | null {
  try {
    return Context.current().info.workflowExecution?.runId ?? null;
  } catch {
    return null;
  }
}

/** The run facts of a projection row. */
export type ProjectedRun = { runId: string | null; supersededRuns: string[]; revision: number };

/**
 * What a write from `runId` at `revision` does to a row its own run did not write last. A run the row has never seen
 * is a newer one (a reset or a continue-as-new of the same workflow): it takes the row over, and when its revision is
 * not ahead of the row's it went back in time (a reset) and what the row derives from the view is rebuilt. A run the
 * row names as superseded is a late writer of an ended run and is ignored; so is any write over a row whose run is
 * unknown (written before runs were recorded), where a retry of that very run cannot be told apart.
 */
export function judgeOtherRun(row: ProjectedRun, runId: string, revision: number): 'ignore' | 'continue' | 'rewind' {
  if (row.runId === null || row.runId === runId || row.supersededRuns.includes(runId)) return 'ignore';
  return revision > row.revision ? 'continue' : 'rewind';
}

/** What a projection write did: applied, skipped as already held (a retry or an ended run's), and for which run. */
export type ProjectionWrite = { outcome: 'written' | 'already-written'; runId: string | null };

/** Claim counts, as Prisma's createMany and updateMany answer them. */
type Counted = Promise<{ count: number }>;

/** One projection table as a claim sees it; `where` narrows a conditional update of the row. */
export interface ProjectionRows {
  /** Inserts the row unless it exists (the first revision). */
  create(): Counted;
  /** Updates the row where `where` holds, writing the projection plus `extra`. */
  update(where: Record<string, unknown>, extra?: Record<string, unknown>): Counted;
  /** The row's run facts, or null when there is no row. */
  read(): Promise<ProjectedRun | null>;
}

/**
 * Claims a projection row for a write from `runId` at `revision` (kept in the row's `column`), inside the caller's
 * transaction: 'held' when the row already has it (a retry, or an ended run's late write), otherwise which run the
 * row had and whether this write went back past it (a reset: what the row derives from the view must be rebuilt).
 */
export async function claimProjection(
  rows: ProjectionRows,
  runId: string | null,
  revision: number,
  column: 'revision' | 'seq' = 'revision',
): Promise<'held' | { rewound: ProjectedRun | null }> {
  const sameRun = runId === null ? {} : { OR: [{ runId }, { runId: null }] };
  const claimed = revision === 1 ? await rows.create() : await rows.update({ [column]: { lt: revision }, ...sameRun });
  if (claimed.count > 0) return { rewound: null };
  // A write that cannot name its run keeps to the revision rule alone.
  if (runId === null) return 'held';
  const held = await rows.read();
  if (!held) return 'held';
  const judged = judgeOtherRun(held, runId, revision);
  if (judged === 'ignore') return 'held';
  const taken = await rows.update({ runId: held.runId }, { supersededRuns: [...held.supersededRuns, held.runId!] });
  // Another write of this workflow moved the row since it was read; the activity's retry judges it afresh.
  if (taken.count === 0) throw new Error(`projection of run ${held.runId} moved during a takeover by run ${runId}`);
  return { rewound: judged === 'rewind' ? held : null };
}

/** The run facts a claim reads. */
export const RUN_FIELDS = { runId: true, supersededRuns: true, revision: true } as const;

/**
 * The audit event of a rewind: `subject` went back, with `runId`, to the state `facts` describe, from the run the row
 * had; what the ended run recorded stays in the trail.
 */
export function resetAudit(
  subject: { type: string; id: string; action: string },
  runId: string,
  ended: ProjectedRun,
  at: Date,
  facts: Record<string, unknown>,
) {
  return {
    at,
    actor: SYSTEM_ACTOR,
    action: subject.action,
    subjectType: subject.type,
    subjectId: subject.id,
    payload: { type: 'RESET', runId, endedRunId: ended.runId, ...facts } as Prisma.InputJsonValue,
  };
}
