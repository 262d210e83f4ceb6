import { SYSTEM_ACTOR } from '../domain/actor';
import type { ChangeRequestEvent, ChangeRequestView, Vote } from '../domain/change-request';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import { changeRequestWorkflowId } from '../workflows/change-request';
import type { Notification, Notifier, NotifyOutcome } from './notifier';
import { activityRunId, claimProjection, resetAudit, RUN_FIELDS, type ProjectedRun, type ProjectionWrite } from './projection-run';

/** What the change-request activities need; tests pass a real database and a recording notifier. */
export interface ChangeRequestActivityDeps {
  prisma: PrismaClient;
  clock: () => Date;
  notifier: Notifier;
  /** The run the executing activity belongs to; read from the activity context unless given. */
  currentRun?: () => string | null;
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
    retrospectiveRole: view.retrospective?.status === 'pending' ? view.retrospective.owner : null,
    retrospectiveDueAt: view.retrospective ? new Date(view.retrospective.dueAt) : null,
    revision,
    view: view as unknown as Prisma.InputJsonValue,
    projectedAt: now,
  };
}

function decisionRow(changeRequestId: string, v: Vote) {
  return { changeRequestId, round: v.round, role: v.role, decision: v.decision, reason: v.reason ?? null, by: v.by, at: new Date(v.at) };
}

// Evidence is append-only within a run, so its position is a stable key.
async function writeEvidence(tx: Prisma.TransactionClient, view: ChangeRequestView): Promise<void> {
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

/**
 * A reset took the request back to `view`: the decisions and the evidence are what the view holds, and the audit
 * trail (append-only: what the ended run recorded stays) says the request was reset.
 */
async function rebuildAfterReset(
  tx: Prisma.TransactionClient,
  view: ChangeRequestView,
  revision: number,
  from: ProjectedRun,
  runId: string,
  now: Date,
): Promise<void> {
  const votes = [...view.pastRounds.flatMap((r) => r.votes), ...view.votes];
  await tx.decision.deleteMany({ where: { changeRequestId: view.id } });
  await tx.decision.createMany({ data: votes.map((v) => decisionRow(view.id, v)) });
  await tx.evidence.deleteMany({ where: { changeRequestId: view.id } });
  await writeEvidence(tx, view);
  await tx.auditEvent.create({
    data: resetAudit({ type: 'change-request', id: view.id, action: 'CHANGE_REQUEST_RESET' }, runId, from, now, {
      revision,
      endedRevision: from.revision,
      status: view.status,
      round: view.round,
      eventKey: `${changeRequestWorkflowId(view.id)}#${revision}.reset`,
    }),
  });
}

/** Activities of the change-request workflow, over injected dependencies. */
export const createChangeRequestActivities = ({ prisma, clock, notifier, currentRun = activityRunId }: ChangeRequestActivityDeps) => ({
  /**
   * Writes the projection, decisions, evidence and one audit event per domain event in one transaction. The
   * projection row's revision is the idempotency key within a run: the conditional write claims it, and a retry
   * finds it taken. The first write of a run a reset started takes the row over (see `judgeOtherRun`).
   */
  async recordChangeRequest(write: ChangeRequestWrite): Promise<ProjectionWrite> {
    const { view, revision, events } = write;
    const runId = currentRun();
    const outcome = await prisma.$transaction(async (tx) => {
      const row = { ...projection(view, revision, clock()), ...(runId === null ? {} : { runId }) };
      const claim = await claimProjection(
        {
          create: () => tx.changeRequest.createMany({ data: [row], skipDuplicates: true }),
          update: (where, extra) => tx.changeRequest.updateMany({ where: { id: view.id, ...where }, data: { ...row, ...extra } }),
          read: () => tx.changeRequest.findUnique({ where: { id: view.id }, select: RUN_FIELDS }),
        },
        runId,
        revision,
      );
      if (claim === 'held') return 'already-written';
      const { rewound } = claim;
      if (rewound) await rebuildAfterReset(tx, view, revision, rewound, runId!, clock());

      const decisions = events.flatMap((e) => (e.type === 'DECISION_RECORDED' ? [e.vote] : []));
      if (decisions.length > 0) await tx.decision.createMany({ data: decisions.map((v) => decisionRow(view.id, v)), skipDuplicates: true });
      if (events.some((e) => e.type === 'EVIDENCE_ADDED')) await writeEvidence(tx, view);
      if (events.length > 0) {
        await tx.auditEvent.createMany({
          data: events.map((e, i) => ({
            at: new Date(e.at),
            actor: 'by' in e ? e.by : SYSTEM_ACTOR,
            action: auditAction(e.type),
            subjectType: 'change-request',
            subjectId: view.id,
            payload: { ...e, revision, runId, eventKey: `${changeRequestWorkflowId(view.id)}#${revision}.${i}` },
          })),
        });
      }
      return 'written' as const;
    });
    return { outcome, runId };
  },

  /** Sends a notification; never fails, so a broken webhook cannot hold up a review. */
  async notifyChangeRequest(n: Notification): Promise<NotifyOutcome> {
    return notifier.notify(n);
  },
});

/** The change-request activities' types, as the workflow proxies them. */
export type ChangeRequestActivities = ReturnType<typeof createChangeRequestActivities>;
