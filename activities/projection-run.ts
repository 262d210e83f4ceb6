import { Context } from '@temporalio/activity';

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
