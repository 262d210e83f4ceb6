import { SYSTEM_ACTOR } from '../domain/actor';
import {
  checkMeasurements,
  evaluateGate,
  MAX_MEASUREMENTS,
  nextGateChange,
  stewardshipBreaches,
  type GateResult,
  type Measurement,
  type MeasurementProblem,
} from '../domain/gate';
import type { Review, RolloutEvent, RolloutView } from '../domain/rollout';
import type { RollbackStep, RolloutPlan } from '../domain/rollout-plan';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import type { Logger } from '../log';
import { activityRunId, claimProjection, resetAudit, RUN_FIELDS, type ProjectedRun, type ProjectionWrite } from './projection-run';

/** What a rollback step reports once it ran. */
export type StepOutcome = { outcome: 'done' | 'failed'; detail: string };

/** Carries out one rollback step against the outside world (routing, integrations, mappings, people). */
export type RollbackRunner = (step: RollbackStep & { phase: string }, rolloutId: string) => Promise<StepOutcome>;

/** What the rollout activities need; tests pass a real database and may stand in for the outside world. */
export interface RolloutActivityDeps {
  prisma: PrismaClient;
  log: Logger;
  clock: () => Date;
  /** Performs rollback steps; unless given, each step is logged for the operators who carry it out. */
  rollbackRunner?: RollbackRunner;
  /** The status of a change request; unless given, read from the change-request projection. */
  changeRequestStatus?: (id: string) => Promise<string | null>;
  /** The run the executing activity belongs to; read from the activity context unless given. */
  currentRun?: () => string | null;
}

/** Events the workflow records besides the domain's: rollback step outcomes, refused advances and batches. */
export type RolloutWorkflowEvent =
  | { type: 'ROLLBACK_STEP'; at: string; phase: string; step: string; action: string; outcome: StepOutcome }
  | { type: 'ADVANCE_REFUSED'; at: string; by: string; code: string; message: string }
  | {
      type: 'MEASUREMENTS_REJECTED';
      at: string;
      by: string;
      batchId: string;
      count: number;
      reason: string;
      problems: MeasurementProblem[];
    };

/** Every event a rollout's audit trail can hold. */
export type RolloutRecordEvent = RolloutEvent | RolloutWorkflowEvent;

/** One write of a rollout's projection; a revision the database already holds is a retry and is skipped. */
export type RolloutWrite = {
  revision: number;
  view: RolloutView;
  plan: RolloutPlan;
  events: RolloutRecordEvent[];
};

/** A stored batch of measurements as the workflow learns of it: how many, and which opened a review. */
export type MeasurementBatch = {
  batchId: string;
  count: number;
  breaches: { phase: string; value: number; sampleSize: number; windowEnd: string }[];
};

/** A batch refused whole because some of its rows are invalid: nothing of it was stored. */
export type RejectedBatch = { batchId: string; count: number; reason: string; problems: MeasurementProblem[] };

/** A gate judgement and the first later moment at which it would change without new measurements. */
export type JudgedGate = GateResult & { nextChangeAt: string | null };

// A refusal names the first few hundred problems: enough to fix a feed, small enough for a workflow history.
export const MAX_PROBLEMS_SHOWN = 500;


function actorOf(event: RolloutRecordEvent): string {
  return 'by' in event ? event.by : SYSTEM_ACTOR;
}

/**
 * Writes one batch as a single statement, so it is stored whole or not at all. Rows travel as one array per column:
 * a statement of 10,000 rows stays far below Postgres's 65,535 bind parameters, and runs in one round trip. A batch
 * written before (an activity retry) writes nothing again.
 */
export async function insertMeasurements(
  prisma: PrismaClient,
  batch: { rolloutId: string; batchId: string; by: string; at: Date; rows: Measurement[] },
): Promise<number> {
  const { rows } = batch;
  return prisma.$executeRaw`
    INSERT INTO "Measurement" ("rolloutId", "batchId", "row", "phase", "metric", "value", "sampleSize",
                               "windowStart", "windowEnd", "source", "recordedBy", "recordedAt")
    SELECT ${batch.rolloutId}::uuid, ${batch.batchId}, m.row, m.phase, m.metric, m.value, m.sample_size,
           m.window_start, m.window_end, m.source, ${batch.by}, ${batch.at}::timestamptz
    FROM unnest(
      ${rows.map((_, i) => i)}::int[], ${rows.map((m) => m.phase)}::text[], ${rows.map((m) => m.metric)}::text[],
      ${rows.map((m) => m.value)}::float8[], ${rows.map((m) => m.sampleSize)}::int[],
      ${rows.map((m) => m.windowStart)}::timestamptz[], ${rows.map((m) => m.windowEnd)}::timestamptz[],
      ${rows.map((m) => m.source)}::text[]
    ) AS m(row, phase, metric, value, sample_size, window_start, window_end, source)
    ON CONFLICT ("batchId", "row") DO NOTHING`;
}

/** The summary a workflow needs of a batch: its size and the rows that breach the stewardship rule. */
export function summarizeBatch(plan: RolloutPlan, batchId: string, rows: Measurement[]): MeasurementBatch {
  return {
    batchId,
    count: rows.length,
    breaches: stewardshipBreaches(plan, rows).map((m) => ({
      phase: m.phase,
      value: m.value,
      sampleSize: m.sampleSize,
      windowEnd: m.windowEnd,
    })),
  };
}

function reviewRow(rolloutId: string, r: Review) {
  const date = (iso: string | null) => (iso === null ? null : new Date(iso));
  return {
    rolloutId,
    phase: r.phase,
    status: r.status,
    ownerRole: 'data-steward',
    openedAt: new Date(r.openedAt),
    dueAt: new Date(r.dueAt),
    trigger: r.trigger as unknown as Prisma.InputJsonValue,
    overdueAt: date(r.overdueAt),
    escalationId: r.escalationId,
    findings: r.findings,
    decision: r.decision,
    closedBy: r.closedBy,
    closedAt: date(r.closedAt),
  };
}

/** The rollout activities, built over injected dependencies. */
/**
 * A reset took the rollout back to `view`: phase visits and reviews it no longer holds go, and the audit trail, which
 * keeps what the ended run recorded, says so.
 */
async function forgetAfterReset(
  tx: Prisma.TransactionClient,
  view: RolloutView,
  revision: number,
  from: ProjectedRun,
  runId: string,
  now: Date,
): Promise<void> {
  await tx.rolloutPhase.deleteMany({ where: { rolloutId: view.id, visit: { notIn: view.visits.map((v) => v.index) } } });
  await tx.stewardshipReview.deleteMany({ where: { rolloutId: view.id, id: { notIn: view.reviews.map((r) => r.id) } } });
  await tx.auditEvent.create({
    data: resetAudit({ type: 'rollout', id: view.id, action: 'ROLLOUT_RESET' }, runId, from, now, {
      revision,
      endedRevision: from.revision,
      status: view.status,
      phase: view.phase,
    }),
  });
}

export const createRolloutActivities = (deps: RolloutActivityDeps) => {
  const { prisma, clock, currentRun = activityRunId } = deps;
  const runner: RollbackRunner =
    deps.rollbackRunner ??
    (async (step, rolloutId) => {
      deps.log.warn({ rolloutId, step }, 'rollback step for operators to carry out');
      return { outcome: 'done', detail: 'handed to operators' };
    });

  return {
    /** The change request's status (`approved`...), or null when it is unknown. */
    async changeRequestStatus(id: string): Promise<string | null> {
      if (deps.changeRequestStatus) return deps.changeRequestStatus(id);
      try {
        const rows = await prisma.$queryRaw<{ status: string }[]>`
          SELECT status FROM "ChangeRequest" WHERE id::text = ${id} OR "workflowId" = ${id} LIMIT 1`;
        return rows[0]?.status ?? null;
      } catch (error) {
        // 42P01: the change-request projection does not exist in this database, so no change is approved.
        if (error instanceof Prisma.PrismaClientKnownRequestError || String(error).includes('42P01')) return null;
        throw error;
      }
    },

    /**
     * Stores measurements that arrived by signal, as one batch in one statement; a retry of the same batch writes
     * nothing. Rows are checked as the API checks them: one invalid row refuses the batch whole, listing each by index.
     */
    async recordMeasurements(input: {
      rolloutId: string;
      batchId: string;
      by: string;
      plan: RolloutPlan;
      rows: unknown[];
    }): Promise<MeasurementBatch | RejectedBatch> {
      const raw = Array.isArray(input.rows) ? input.rows : [];
      const refuse = (reason: string, problems: MeasurementProblem[] = []): RejectedBatch => ({
        batchId: input.batchId,
        count: raw.length,
        reason,
        problems: problems.slice(0, MAX_PROBLEMS_SHOWN),
      });
      if (raw.length === 0 || raw.length > MAX_MEASUREMENTS) {
        return refuse(`a batch holds 1 to ${MAX_MEASUREMENTS} measurements, not ${raw.length}`);
      }
      const { rows, problems } = checkMeasurements(input.plan, raw);
      if (problems.length > 0) {
        const bad = new Set(problems.map((p) => p.index)).size;
        return refuse(`${bad} of ${raw.length} measurements are invalid; nothing was recorded`, problems);
      }
      await insertMeasurements(prisma, {
        rolloutId: input.rolloutId,
        batchId: input.batchId,
        by: input.by,
        at: clock(),
        rows,
      });
      return summarizeBatch(input.plan, input.batchId, rows);
    },

    /**
     * Judges a phase's gate over the stored measurements at `at`, and records the evaluation once per key. Also
     * answers when the judgement would next change by itself (a measurement ageing out of its window, or one whose
     * window ends later coming in), so the workflow can sleep until then.
     */
    async evaluateGate(input: {
      key: string;
      rolloutId: string;
      plan: RolloutPlan;
      phase: string;
      at: string;
      rolloutStartedAt: string;
      trigger: string;
    }): Promise<JudgedGate> {
      const spec = input.plan.phases.find((p) => p.name === input.phase);
      const widest = Math.max(0, ...(spec?.exitCriteria.map((c) => c.window) ?? []));
      const atMs = Date.parse(input.at);
      const rows = await prisma.measurement.findMany({
        where: {
          rolloutId: input.rolloutId,
          phase: input.phase,
          windowEnd: { gt: new Date(atMs - widest) },
        },
        select: { phase: true, metric: true, value: true, sampleSize: true, windowEnd: true },
        orderBy: { id: 'asc' },
      });
      const observations = rows.map((r) => ({
        ...r,
        metric: r.metric as Measurement['metric'],
        windowEnd: r.windowEnd.toISOString(),
      }));
      const gateClock = { at: input.at, rolloutStartedAt: input.rolloutStartedAt };
      const gate = evaluateGate(input.plan, input.phase, observations, gateClock);
      const nextChangeAt = nextGateChange(input.plan, input.phase, observations, gateClock);
      await prisma.gateEvaluation.upsert({
        where: { key: input.key },
        create: {
          key: input.key,
          rolloutId: input.rolloutId,
          phase: gate.phase,
          at: new Date(gate.at),
          trigger: input.trigger,
          status: gate.status,
          criteria: gate.criteria as unknown as Prisma.InputJsonValue,
        },
        update: {},
      });
      return { ...gate, nextChangeAt };
    },

    /**
     * Writes the rollout projection, its phase visits, reviews and audit events in one transaction, once per revision
     * of a run; the first write of a run a reset started takes the row over, drops the visits and reviews it undid
     * and audits ROLLOUT_RESET.
     */
    async projectRollout(write: RolloutWrite): Promise<ProjectionWrite> {
      const { view } = write;
      const runId = currentRun();
      const outcome = await prisma.$transaction(async (tx) => {
        const row = {
          workflowId: `rollout-${view.id}`,
          changeRequestId: view.changeRequestId,
          status: view.status,
          phase: view.phase,
          phaseIndex: view.phaseIndex,
          plan: write.plan as unknown as Prisma.InputJsonValue,
          policyVersion: view.policyVersion,
          startedBy: view.startedBy,
          startedAt: new Date(view.startedAt),
          phaseEnteredAt: new Date(view.phaseEnteredAt),
          updatedAt: new Date(view.updatedAt),
          revision: write.revision,
          gateStatus: view.gate?.status ?? null,
          readyToAdvance: view.readiness.ready,
          view: view as unknown as Prisma.InputJsonValue,
          ...(runId === null ? {} : { runId }),
        };
        const claim = await claimProjection(
          {
            create: () => tx.rollout.createMany({ data: [{ id: view.id, ...row }], skipDuplicates: true }),
            update: (where, extra) => tx.rollout.updateMany({ where: { id: view.id, ...where }, data: { ...row, ...extra } }),
            read: () => tx.rollout.findUnique({ where: { id: view.id }, select: RUN_FIELDS }),
          },
          runId,
          write.revision,
        );
        if (claim === 'held') return 'already-written';
        if (claim.rewound) await forgetAfterReset(tx, view, write.revision, claim.rewound, runId!, clock());
        for (const v of view.visits) {
          const visit = {
            name: v.phase,
            enteredAt: new Date(v.enteredAt),
            leftAt: v.leftAt === null ? null : new Date(v.leftAt),
            leftBecause: v.leftBecause,
          };
          await tx.rolloutPhase.upsert({
            where: { rolloutId_visit: { rolloutId: view.id, visit: v.index } },
            create: { rolloutId: view.id, visit: v.index, ...visit },
            update: visit,
          });
        }
        for (const r of view.reviews) {
          const review = reviewRow(view.id, r);
          await tx.stewardshipReview.upsert({ where: { id: r.id }, create: { id: r.id, ...review }, update: review });
        }
        if (write.events.length > 0) {
          await tx.auditEvent.createMany({
            data: write.events.map((e) => ({
              at: new Date(e.at),
              actor: actorOf(e),
              action: `ROLLOUT_${e.type}`,
              subjectType: 'rollout',
              subjectId: view.id,
              payload: e as unknown as Prisma.InputJsonValue,
            })),
          });
        }
        return 'written' as const;
      });
      return { outcome, runId };
    },

    /** Carries out one rollback step; a step that throws is retried by Temporal, then reported as failed. */
    async runRollbackStep(input: { rolloutId: string; step: RollbackStep & { phase: string } }): Promise<StepOutcome> {
      return runner(input.step, input.rolloutId);
    },
  };
};

/** The rollout activities' types, as workflows import them with `proxyActivities`. */
export type RolloutActivities = ReturnType<typeof createRolloutActivities>;
