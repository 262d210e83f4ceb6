import type { CutoverEvent } from '../domain/cutover';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { CutoverPlan } from '../domain/cutover-plan';

/** What the cutover activities need. */
export interface CutoverActivityDeps {
  prisma: PrismaClient;
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
  | { type: 'ESCALATION_REQUESTED'; at: string; window: string; key: string; severity: string; started: boolean };

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

/** Whom the audit trail names for what no person did (a spike's automatic rollback). */
export const SYSTEM_ACTOR = 'system:clearway';

/** The cutover activities, over injected dependencies. */
export const createCutoverActivities = ({ prisma }: CutoverActivityDeps) => ({
  /** Writes the projection and one audit event per event in one transaction, once per revision. */
  async recordCutover(write: CutoverWrite): Promise<'written' | 'already-written'> {
    const { view, revision, events } = write;
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
    };
    return prisma.$transaction(async (tx) => {
      const claimed =
        revision === 1
          ? await tx.cutover.createMany({ data: [row], skipDuplicates: true })
          : await tx.cutover.updateMany({ where: { id: view.id, revision: { lt: revision } }, data: row });
      if (claimed.count === 0) return 'already-written';
      if (events.length > 0) {
        await tx.auditEvent.createMany({
          data: events.map((e, i) => ({
            at: new Date(e.at),
            actor: 'by' in e && e.by !== 'system' ? e.by : SYSTEM_ACTOR,
            action: `CUTOVER_${e.type}`,
            subjectType: 'cutover',
            subjectId: view.id,
            payload: {
              ...e,
              revision,
              eventKey: `${cutoverWorkflowId(view.id)}#${revision}.${i}`,
            } as Prisma.InputJsonValue,
          })),
        });
      }
      return 'written';
    });
  },
});

/** The cutover activities' types, as the workflow proxies them. */
export type CutoverActivities = ReturnType<typeof createCutoverActivities>;
