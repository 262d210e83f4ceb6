import type { ChangeRequestEvent, ChangeRequestView } from '../domain/change-request';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import { changeRequestWorkflowId } from '../workflows/change-request';
import type { Notification, Notifier, NotifyOutcome } from './notifier';

/** What the change-request activities need; tests pass a real database and a recording notifier. */
export interface ChangeRequestActivityDeps {
  prisma: PrismaClient;
  clock: () => Date;
  notifier: Notifier;
}

/**
 * One step of a change request as the workflow hands it over: its view after the step, the domain events the step
 * produced, and the step's revision. Revisions count up by one per step of one workflow, so a write carrying a
 * revision the database already holds (a retried activity) is recognised and skipped as a whole.
 */
export type ChangeRequestWrite = {
  revision: number;
  view: ChangeRequestView;
  events: ChangeRequestEvent[];
};

/** Whether the write was applied now or had been applied before (a retry). */
export type WriteOutcome = 'written' | 'already-written';

/** Whom the audit trail names for events no person caused (timers). */
export const SYSTEM_ACTOR = 'system:clearway';

/** Audit actions of change-request events, e.g. CHANGE_REQUEST_SUBMITTED. */
export function auditAction(type: ChangeRequestEvent['type']): string {
  return `CHANGE_REQUEST_${type}`;
}

function projection(view: ChangeRequestView, revision: number, now: Date) {
  return {
    id: view.id,
    workflowId: changeRequestWorkflowId(view.id),
    title: view.title,
    class: view.class,
    risk: view.risk,
    status: view.status,
    requester: view.requester,
    affectedSystems: view.affectedSystems,
    touches: view.touches,
    round: view.round,
    pendingRoles: view.pendingRoles,
    voters: view.votes.map((v) => v.by),
    policyVersion: view.policyVersion,
    slaDueAt: view.slaDueAt ? new Date(view.slaDueAt) : null,
    openedAt: new Date(view.openedAt),
    updatedAt: new Date(view.updatedAt),
    closedAt: view.closedAt ? new Date(view.closedAt) : null,
    revision,
    view: view as unknown as Prisma.InputJsonValue,
    projectedAt: now,
  };
}

/** Activities of the change-request workflow, over injected dependencies. */
export const createChangeRequestActivities = ({ prisma, clock, notifier }: ChangeRequestActivityDeps) => ({
  /**
   * Writes the projection, decisions, evidence and one audit event per domain event in one transaction. The
   * projection row's revision is the idempotency key: the conditional write claims it, and a retry finds it taken.
   */
  async recordChangeRequest(write: ChangeRequestWrite): Promise<WriteOutcome> {
    const { view, revision, events } = write;
    return prisma.$transaction(async (tx) => {
      const row = projection(view, revision, clock());
      const claimed =
        revision === 1
          ? await tx.changeRequest.createMany({ data: [row], skipDuplicates: true })
          : await tx.changeRequest.updateMany({ where: { id: view.id, revision: { lt: revision } }, data: row });
      if (claimed.count === 0) return 'already-written';

      const decisions = events.flatMap((e) => (e.type === 'DECISION_RECORDED' ? [e.vote] : []));
      if (decisions.length > 0) {
        await tx.decision.createMany({
          data: decisions.map((v) => ({
            changeRequestId: view.id,
            round: v.round,
            role: v.role,
            decision: v.decision,
            reason: v.reason ?? null,
            by: v.by,
            at: new Date(v.at),
          })),
          skipDuplicates: true,
        });
      }
      if (events.some((e) => e.type === 'EVIDENCE_ADDED')) {
        // Evidence is append-only in the workflow, so its position is a stable key.
        await tx.evidence.createMany({
          data: view.evidence.map((e, seq) => ({
            changeRequestId: view.id,
            seq,
            kind: e.kind,
            title: e.title,
            uri: e.uri ?? null,
            addedBy: e.addedBy,
            addedAt: new Date(e.addedAt),
          })),
          skipDuplicates: true,
        });
      }
      if (events.length > 0) {
        await tx.auditEvent.createMany({
          data: events.map((e, i) => ({
            at: new Date(e.at),
            actor: 'by' in e ? e.by : SYSTEM_ACTOR,
            action: auditAction(e.type),
            subjectType: 'change-request',
            subjectId: view.id,
            payload: { ...e, revision, eventKey: `${changeRequestWorkflowId(view.id)}#${revision}.${i}` },
          })),
        });
      }
      return 'written';
    });
  },

  /** Sends a notification; never fails, so a broken webhook cannot hold up a review. */
  async notifyChangeRequest(n: Notification): Promise<NotifyOutcome> {
    return notifier.notify(n);
  },
});

/** The change-request activities' types, as the workflow proxies them. */
export type ChangeRequestActivities = ReturnType<typeof createChangeRequestActivities>;
