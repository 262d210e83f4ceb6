import { ApplicationFailure } from '@temporalio/activity';
import { SYSTEM_ACTOR } from '../domain/actor';
import type { Party, EscalationEvent, EscalationView, StepTiming } from '../domain/escalation';
import type { EscalationPolicy } from '../domain/escalation-policy';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { loadEscalationPolicy } from '../policies/load';
import type { Notification, Notifier, NotifyOutcome } from './notifier';
import { activityRunId, claimProjection, resetAudit, type ProjectedRun, type ProjectionWrite } from './projection-run';

/** What the escalation activities need; tests pass a real database and a recording notifier. */
export interface EscalationActivityDeps {
  prisma: PrismaClient;
  clock: () => Date;
  notifier: Notifier;
  /** The policy new escalations start under; the shipped policies/escalation.yaml unless given. */
  policy?: { policy: EscalationPolicy; version: string };
  /** The run the executing activity belongs to; read from the activity context unless given. */
  currentRun?: () => string | null;
}

/** Events the workflow records besides the domain's: reminders sent and reports of an issue already resolved. */
export type EscalationWorkflowEvent =
  | { type: 'REMINDED'; at: string; level: number; to: Party; dueAt: string }
  | { type: 'REPORTED_WHILE_RESOLVED'; at: string; by: string };

/** Every event an escalation's audit trail can hold. */
export type EscalationRecordEvent = EscalationEvent | EscalationWorkflowEvent;

/**
 * One step of an escalation as the workflow hands it over. `seq` counts up by one per step of one escalation
 * (across continue-as-new), so a write whose seq the database already holds is a retry and is skipped whole.
 */
export type EscalationWrite = {
  seq: number;
  view: EscalationView;
  timings: StepTiming[];
  events: EscalationRecordEvent[];
};

/** One cost to book in the ledger; `index` is its position among the escalation's costs. */
export type CostBooking = {
  escalationId: string;
  index: number;
  amountCents: number;
  currency: string;
  note: string;
  by: string;
  at: string;
  cycle: string;
};


/** A party as one string (`role:finance`, `user:<id>`), the form projections filter on. */
export function partyKey(party: Party): string {
  return 'role' in party ? `role:${party.role}` : `user:${party.user}`;
}

/** Audit actions of escalation events, e.g. ESCALATION_CLIMBED. */
export function escalationAuditAction(type: EscalationRecordEvent['type']): string {
  return `ESCALATION_${type}`;
}

const date = (iso: string | null): Date | null => (iso === null ? null : new Date(iso));

function projection(view: EscalationView, seq: number) {
  return {
    id: view.id,
    key: view.key,
    severity: view.severity,
    title: view.title,
    status: view.status,
    level: view.level,
    levelName: view.levelName,
    topLevel: view.topLevel,
    owner: partyKey(view.owner),
    responsible: view.responsible === null ? null : partyKey(view.responsible),
    occurrences: view.occurrences,
    costRoute: view.costRoute,
    costCents: BigInt(view.costs.reduce((sum, c) => sum + c.amountCents, 0)),
    policyVersion: view.policyVersion,
    sourceKind: view.source.kind,
    sourceRef: view.source.ref ?? null,
    subjectType: view.subject?.type ?? null,
    subjectId: view.subject?.id ?? null,
    openedAt: new Date(view.openedAt),
    updatedAt: new Date(view.updatedAt),
    acknowledgeBy: date(view.acknowledgeBy),
    resolveBy: date(view.resolveBy),
    slaBreachedAt: date(view.slaBreachedAt),
    resolvedAt: date(view.resolution?.at ?? null),
    seq,
    view: view as unknown as Prisma.InputJsonValue,
  };
}

/**
 * A reset took the escalation back to `view`: steps, breaches and costs it no longer holds go (costs booked past that
 * point leave their cycle's totals too), and the audit trail, which keeps what the ended run recorded, says so.
 */
async function forgetAfterReset(
  tx: Prisma.TransactionClient,
  view: EscalationView,
  seq: number,
  from: ProjectedRun,
  runId: string,
  now: Date,
): Promise<void> {
  await tx.escalationStep.deleteMany({ where: { escalationId: view.id, index: { gte: view.steps.length } } });
  await tx.escalationBreach.deleteMany({ where: { escalationId: view.id, index: { gte: view.breaches.length } } });
  await tx.costEntry.deleteMany({ where: { escalationId: view.id, index: { gte: view.costs.length } } });
  await tx.auditEvent.create({
    data: resetAudit({ type: 'escalation', id: view.id, action: 'ESCALATION_RESET' }, runId, from, now, {
      seq,
      endedSeq: from.revision,
      status: view.status,
      level: view.level,
    }),
  });
}

/** Activities of the escalation workflow, over injected dependencies. */
export const createEscalationActivities = ({ prisma, clock, notifier, policy, currentRun = activityRunId }: EscalationActivityDeps) => ({
  /** The escalation policy and its version, read once per new escalation so its history records which applied. */
  async escalationPolicy(): Promise<{ policy: EscalationPolicy; version: string }> {
    if (policy) return policy;
    const loaded = loadEscalationPolicy();
    if (!loaded.ok) throw new Error(loaded.error);
    return { policy: loaded.policy, version: loaded.version };
  },

  /**
   * Writes the projection, its steps, breaches and costs, and one audit event per event, in one transaction. The
   * row's seq is the idempotency key within a run: the conditional write claims it (and locks the row, so a
   * concurrent retry waits and then finds it taken). The first write of a run a reset or continue-as-new started
   * takes the row over; after a reset, what the view no longer holds goes and the audit trail says so.
   */
  async recordEscalation(write: EscalationWrite): Promise<ProjectionWrite> {
    const { view, seq, events, timings } = write;
    const runId = currentRun();
    const outcome = await prisma.$transaction(async (tx) => {
      const row = { ...projection(view, seq), ...(runId === null ? {} : { runId }) };
      const claim = await claimProjection(
        {
          create: () => tx.escalation.createMany({ data: [row], skipDuplicates: true }),
          update: (where, extra) => tx.escalation.updateMany({ where: { id: view.id, ...where }, data: { ...row, ...extra } }),
          read: async () => {
            const held = await tx.escalation.findUnique({ where: { id: view.id }, select: { runId: true, supersededRuns: true, seq: true } });
            return held && { runId: held.runId, supersededRuns: held.supersededRuns, revision: held.seq };
          },
        },
        runId,
        seq,
        'seq',
      );
      if (claim === 'held') return 'already-written';
      if (claim.rewound) await forgetAfterReset(tx, view, seq, claim.rewound, runId!, clock());

      for (const [index, step] of view.steps.entries()) {
        const timing = timings[index];
        const data = {
          level: step.level,
          who: partyKey(step.who),
          assignee: step.assignee,
          enteredAt: new Date(step.enteredAt),
          acknowledgedAt: date(step.acknowledgedAt),
          acknowledgedBy: step.acknowledgedBy,
          resolvedAt: date(step.resolvedAt),
          resolvedBy: step.resolvedBy,
          leftAt: date(step.leftAt),
          leftBecause: step.leftBecause,
          timeToAcknowledgeMs: timing?.timeToAcknowledgeMs == null ? null : BigInt(timing.timeToAcknowledgeMs),
          timeToResolveMs: timing?.timeToResolveMs == null ? null : BigInt(timing.timeToResolveMs),
        };
        await tx.escalationStep.upsert({
          where: { escalationId_index: { escalationId: view.id, index } },
          create: { escalationId: view.id, index, ...data },
          update: data,
        });
      }
      // Breaches and costs are append-only in the workflow, so their position is a stable key.
      if (view.breaches.length > 0) {
        await tx.escalationBreach.createMany({
          data: view.breaches.map((b, index) => ({
            escalationId: view.id,
            index,
            level: b.level,
            window: b.window,
            dueAt: new Date(b.dueAt),
            failedToRespond: partyKey(b.failedToRespond),
            outcome: b.outcome,
          })),
          skipDuplicates: true,
        });
      }
      if (view.costs.length > 0) {
        await tx.costEntry.createMany({
          data: view.costs.map((c, index) => ({
            escalationId: view.id,
            index,
            amountCents: BigInt(c.amountCents),
            currency: c.currency,
            note: c.note,
            by: c.by,
            at: new Date(c.at),
            cycle: c.cycle,
          })),
          skipDuplicates: true,
        });
      }
      if (events.length > 0) {
        await tx.auditEvent.createMany({
          data: events.map((e, i) => ({
            at: new Date(e.at),
            actor: 'by' in e ? e.by : SYSTEM_ACTOR,
            action: escalationAuditAction(e.type),
            subjectType: 'escalation',
            subjectId: view.id,
            payload: { ...e, seq, eventKey: `${view.id}#${seq}.${i}` } as Prisma.InputJsonValue,
          })),
        });
      }
      return 'written' as const;
    });
    return { outcome, runId };
  },

  /**
   * Books one cost and answers the cycle's total across all escalations with it included. Bookings of one currency
   * and cycle take a transaction lock first, so each reads a total no concurrent booking can make stale: the total
   * and the entry are written by the same transaction. `(escalationId, index)` is the idempotency key: a retry gets
   * the total of the booking it repeats.
   */
  async bookEscalationCost(booking: CostBooking): Promise<{ cycleTotalCents: number }> {
    const { escalationId, index, amountCents, currency, cycle } = booking;
    return prisma.$transaction(async (tx) => {
      const lockKey = `clearway:cost-cycle:${currency}:${cycle}`;
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${lockKey}, 0))`;
      const existing = await tx.costEntry.findUnique({ where: { escalationId_index: { escalationId, index } } });
      if (existing) {
        if (Number(existing.amountCents) !== amountCents || existing.at.getTime() !== Date.parse(booking.at)) {
          throw ApplicationFailure.nonRetryable(
            `cost ${escalationId}#${index} is already booked with other figures`,
            'INTERNAL',
          );
        }
        if (existing.cycleTotalCents !== null) return { cycleTotalCents: Number(existing.cycleTotalCents) };
      }
      const sum = await tx.costEntry.aggregate({
        _sum: { amountCents: true },
        where: { currency, cycle, NOT: { escalationId, index } },
      });
      const cycleTotalCents = Number(sum._sum.amountCents ?? 0n) + amountCents;
      const row = {
        amountCents: BigInt(amountCents),
        currency,
        note: booking.note,
        by: booking.by,
        at: new Date(booking.at),
        cycle,
        cycleTotalCents: BigInt(cycleTotalCents),
      };
      await tx.costEntry.upsert({
        where: { escalationId_index: { escalationId, index } },
        create: { escalationId, index, ...row },
        update: { cycleTotalCents: row.cycleTotalCents },
      });
      return { cycleTotalCents };
    });
  },

  /**
   * Cents booked in `currency` during `cycle` by every escalation except `escalationId`. Only histories recorded
   * before costs were booked through `bookEscalationCost` still call it; it reads without a lock.
   */
  async otherCycleCostsCents(input: { escalationId: string; currency: string; cycle: string }): Promise<number> {
    const sum = await prisma.costEntry.aggregate({
      _sum: { amountCents: true },
      where: { currency: input.currency, cycle: input.cycle, escalationId: { not: input.escalationId } },
    });
    return Number(sum._sum.amountCents ?? 0n);
  },

  /** Sends one notification; never fails, so a broken channel cannot hold up the ladder. */
  async notifyEscalation(n: Notification): Promise<NotifyOutcome> {
    return notifier.notify(n);
  },
});

/** The escalation activities' types, as the workflow proxies them. */
export type EscalationActivities = ReturnType<typeof createEscalationActivities>;
