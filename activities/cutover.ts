import fs from 'node:fs';
import path from 'node:path';
import { SYSTEM_ACTOR } from '../domain/actor';
import type { CutoverEvent } from '../domain/cutover';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { CutoverPlan } from '../domain/cutover-plan';
import { activityRunId, claimProjection, resetAudit, RUN_FIELDS, type ProjectionWrite } from './projection-run';

/** What the cutover activities need. */
export interface CutoverActivityDeps {
  prisma: PrismaClient;
  clock?: () => Date;
  /** The run the executing activity belongs to; read from the activity context unless given. */
  currentRun?: () => string | null;
}

/** The projection's workflow id; kept here as well as in the workflow so activities do not import workflow code. */
export function cutoverWorkflowId(id: string): string {
  return `cutover-${id}`;
}

/** Events the workflow adds to the domain's: uploads and refused input, which the audit trail must show too. */
export type CutoverProcessEvent =
  | CutoverEvent
  | { type: 'UPLOAD_RECORDED'; at: string; by: string; window: string; side: string; format: string; bytes: number }
  | { type: 'RECONCILIATION_REQUESTED'; at: string; by: string; window: string }
  | { type: 'WINDOW_INPUT_INVALID'; at: string; window: string; runId: string; problemCount: number }
  | { type: 'ESCALATION_REQUESTED'; at: string; window: string; key: string; severity: string; started: boolean }
  | { type: 'RECONCILIATION_CANCELLED'; at: string; window: string; runId: string }
  | { type: 'RECONCILIATION_FAILED'; at: string; window: string; runId: string; message: string }
  | { type: 'RECONCILIATIONS_DROPPED'; at: string; windows: string[] }
  | { type: 'STAGED_FILES_REMOVED'; at: string; reason: StagedRemovalReason; windows: string[]; files: number };

/** Why staged uploads were removed. */
export type StagedRemovalReason = 'reconciled' | 'input-invalid' | 'superseded' | 'closed';

/** Staged uploads to remove, and optionally the cutover's staging folder to clear of orphans (or remove whole). */
export type StagedRemoval = {
  cutoverId: string;
  files: string[];
  /** The folder the API stages this cutover's uploads in; its last segment must be the cutover id. */
  dir?: string;
  /** In `dir`, files still in use: never removed unless `all`. */
  keep?: string[];
  /** In `dir`, other files are removed once nothing has written to them for this long. */
  idleMs?: number;
  /** Remove `dir` with everything in it. */
  all?: boolean;
};

/** A projected view: anything with the fields the row indexes. */
export type ProjectedView = {
  id: string;
  changeRequestId: string;
  status: string;
  planVersion: string;
  cleanStreak: number;
  openedBy: string;
  openedAt: string;
  updatedAt: string;
  closedAt: string | null;
};

/**
 * One step of a cutover as the workflow hands it over. Revisions count up by one per step, so a retried write
 * carrying a revision the database already holds is recognised and skipped whole, audit rows included.
 */
export type CutoverWrite = { revision: number; view: ProjectedView; plan: CutoverPlan; events: CutoverProcessEvent[] };


async function removeFile(file: string): Promise<boolean> {
  try {
    await fs.promises.unlink(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** Removes the orphans of a staging folder (recursively) and folders left empty; returns the files removed. */
async function sweepStaging(dir: string, keep: Set<string>, idleBefore: number): Promise<number> {
  let removed = 0;
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      removed += await sweepStaging(full, keep, idleBefore);
      await fs.promises.rmdir(full).catch(() => undefined);
    } else if (!keep.has(full)) {
      const stat = await fs.promises.stat(full).catch(() => null);
      if (stat && stat.mtimeMs < idleBefore && (await removeFile(full))) removed++;
    }
  }
  return removed;
}

/** The cutover activities, over injected dependencies. */
export const createCutoverActivities = ({ prisma, clock = () => new Date(), currentRun = activityRunId }: CutoverActivityDeps) => ({
  /**
   * Removes staged uploads the cutover no longer needs. With `dir`, also removes what an upload cut off by a crash
   * left there (files no upload references and nothing wrote to for `idleMs`), or the whole folder with `all`.
   * Removing what is already gone is not an error, so a retry is harmless.
   */
  async removeStagedFiles(input: StagedRemoval): Promise<{ removed: number }> {
    let removed = 0;
    for (const file of input.files) if (await removeFile(file)) removed++;
    // The folder is named by the API after the cutover; anything else is not this cutover's to clear.
    if (input.dir && path.basename(input.dir) === input.cutoverId) {
      const idleBefore = input.all ? Infinity : clock().getTime() - (input.idleMs ?? Infinity);
      removed += await sweepStaging(input.dir, new Set(input.all ? [] : (input.keep ?? [])), idleBefore);
      if (input.all) await fs.promises.rm(input.dir, { recursive: true, force: true });
    }
    return { removed };
  },

  /**
   * Writes the projection and one audit event per event in one transaction, once per revision of a run; the first
   * write of a run a reset started takes the row over and the audit trail says so (CUTOVER_RESET).
   */
  async recordCutover(write: CutoverWrite): Promise<ProjectionWrite> {
    const { view, revision, events } = write;
    const runId = currentRun();
    const row = {
      id: view.id,
      workflowId: cutoverWorkflowId(view.id),
      changeRequestId: view.changeRequestId,
      status: view.status,
      planVersion: view.planVersion,
      plan: write.plan as unknown as Prisma.InputJsonValue,
      cleanStreak: view.cleanStreak,
      openedBy: view.openedBy,
      openedAt: new Date(view.openedAt),
      updatedAt: new Date(view.updatedAt),
      closedAt: view.closedAt ? new Date(view.closedAt) : null,
      revision,
      view: view as unknown as Prisma.InputJsonValue,
      ...(runId === null ? {} : { runId }),
    };
    const outcome = await prisma.$transaction(async (tx) => {
      const claim = await claimProjection(
        {
          create: () => tx.cutover.createMany({ data: [row], skipDuplicates: true }),
          update: (where, extra) => tx.cutover.updateMany({ where: { id: view.id, ...where }, data: { ...row, ...extra } }),
          read: () => tx.cutover.findUnique({ where: { id: view.id }, select: RUN_FIELDS }),
        },
        runId,
        revision,
      );
      if (claim === 'held') return 'already-written';
      const reset = claim.rewound
        ? [
            resetAudit({ type: 'cutover', id: view.id, action: 'CUTOVER_RESET' }, runId!, claim.rewound, clock(), {
              endedRevision: claim.rewound.revision,
              status: view.status,
              eventKey: `${cutoverWorkflowId(view.id)}#${revision}.reset`,
              revision,
            }),
          ]
        : [];
      const happened = events.map((e, i) => ({
        at: new Date(e.at),
        actor: 'by' in e && e.by !== 'system' ? e.by : SYSTEM_ACTOR,
        action: `CUTOVER_${e.type}`,
        subjectType: 'cutover',
        subjectId: view.id,
        payload: { ...e, eventKey: `${cutoverWorkflowId(view.id)}#${revision}.${i}`, revision, runId } as Prisma.InputJsonValue,
      }));
      if (reset.length + happened.length > 0) await tx.auditEvent.createMany({ data: [...reset, ...happened] });
      return 'written' as const;
    });
    return { outcome, runId };
  },
});

/** The cutover activities' types, as the workflow proxies them. */
export type CutoverActivities = ReturnType<typeof createCutoverActivities>;
