import { MAX_MEASUREMENTS } from '../../../domain/gate';
import { METRICS } from '../../../domain/rollout-plan';
import { z } from '../../schemas';

export const RolloutId = z.uuid();
export const RolloutParams = z.object({ id: RolloutId });

export const RolloutStatus = z.enum(['active', 'held', 'completed', 'rolled-back']);
export const GateStatus = z.enum(['pass', 'fail', 'inconclusive']);

/** One exit criterion as last judged: the value seen, over how much data, and the verdict with its reason. */
export const CriterionResult = z
  .object({
    metric: z.enum(METRICS),
    comparator: z.string(),
    threshold: z.number(),
    allowance: z.boolean(),
    value: z.number().nullable(),
    sample: z.number(),
    measurements: z.number(),
    status: GateStatus,
    reason: z.string(),
  })
  .openapi('CriterionResult');

export const Gate = z
  .object({ phase: z.string(), at: z.string(), status: GateStatus, criteria: z.array(CriterionResult) })
  .openapi('Gate');

export const Review = z
  .object({
    id: z.string(),
    phase: z.string(),
    openedAt: z.string(),
    dueAt: z.string(),
    trigger: z.object({ value: z.number(), sampleSize: z.number(), windowEnd: z.string() }),
    status: z.enum(['open', 'closed']),
    overdueAt: z.string().nullable(),
    escalationId: z.string().nullable(),
    findings: z.string().nullable(),
    decision: z.enum(['continue', 'hold', 'rollback']).nullable(),
    closedBy: z.string().nullable(),
    closedAt: z.string().nullable(),
  })
  .openapi('StewardshipReview');

/** Whether a rollout lead could advance now without an override, and what stands in the way. */
export const Readiness = z
  .object({
    ready: z.boolean(),
    blockers: z.array(
      z.object({
        code: z.enum(['ROLLOUT_NOT_ACTIVE', 'REVIEW_OPEN', 'BLACKOUT', 'SOAK_INCOMPLETE', 'GATE_NOT_MET']),
        message: z.string(),
        until: z.string().optional().openapi({ description: 'When a blackout or the soak ends' }),
      }),
    ),
  })
  .openapi('RolloutReadiness');

export const PhaseVisit = z.object({
  index: z.number(),
  phase: z.string(),
  enteredAt: z.string(),
  leftAt: z.string().nullable(),
  leftBecause: z.enum(['advanced', 'overridden', 'rolled-back', 'completed']).nullable(),
});

/** A rollout as its workflow shows it: current phase, time in it, the last gate per criterion, reviews. */
export const Rollout = z
  .object({
    id: z.string(),
    changeRequestId: z.string(),
    status: RolloutStatus,
    phase: z.string(),
    phaseIndex: z.number(),
    phases: z.array(z.string()),
    phaseEnteredAt: z.string(),
    timeInPhaseMs: z.number(),
    holdReason: z.string().nullable(),
    gate: Gate.nullable(),
    readiness: Readiness,
    openReviews: z.array(Review),
    reviews: z.array(Review),
    visits: z.array(PhaseVisit),
    policyVersion: z.string(),
    startedAt: z.string(),
    startedBy: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Rollout');
export type Rollout = z.infer<typeof Rollout>;

export const RolloutSummary = z
  .object({
    id: z.string(),
    changeRequestId: z.string(),
    status: RolloutStatus,
    phase: z.string(),
    gateStatus: GateStatus.nullable().openapi({ description: 'The current phase’s last gate evaluation' }),
    readyToAdvance: z.boolean(),
    policyVersion: z.string(),
    startedBy: z.string(),
    startedAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('RolloutSummary');
export type RolloutSummary = z.infer<typeof RolloutSummary>;

export const CreateRolloutBody = z
  .object({
    changeRequestId: z.uuid(),
    plan: z.unknown().openapi({ description: 'A rollout plan (see policies/rollout-plan.example.yaml)' }),
  })
  .openapi('CreateRollout');

export const AdvanceBody = z
  .object({
    from: z.string().optional().openapi({ description: 'The phase the caller believes is current' }),
    override: z
      .object({ reason: z.string().min(1) })
      .optional()
      .openapi({ description: 'ccb-chair only' }),
  })
  .openapi('AdvanceRollout');
export const HoldBody = z.object({ reason: z.string().min(1) }).openapi('HoldRollout');
export const ResumeBody = z.object({}).openapi('ResumeRollout');
export const RollbackBody = z
  .object({ to: z.enum(['previous', 'start']), reason: z.string().min(1) })
  .openapi('RollbackRollout');

export const MaxMeasurements = MAX_MEASUREMENTS;

/**
 * One measurement (phase, metric, value, sampleSize, windowStart, windowEnd, source), or `{ measurements: [...] }`
 * with up to 10,000 of them. Rows are checked one by one so a refusal names every bad row by its index.
 */
export const MeasurementsBody = z
  .record(z.string(), z.unknown())
  .openapi('RecordMeasurements', { description: 'A measurement, or { measurements: [up to 10,000 measurements] }' });

export const MeasurementsAccepted = z
  .object({ batchId: z.string(), count: z.number(), reviewTriggers: z.number() })
  .openapi('MeasurementsAccepted');

export const WhatIfBody = z.object({ plan: z.unknown() }).openapi('WhatIfRequest');

export const WhatIfResult = z
  .object({
    measurements: z.number(),
    unknownPhases: z.array(z.string()),
    phases: z.array(
      z.object({
        phase: z.string(),
        evaluations: z.number(),
        firstPassAt: z.string().nullable(),
        firstFailAt: z.string().nullable(),
        couldAdvanceAt: z.string().nullable(),
        finalStatus: GateStatus,
        changes: z.array(z.object({ at: z.string(), status: GateStatus, failing: z.array(z.string()) })),
        reviewTriggers: z.array(z.object({ at: z.string(), value: z.number(), sampleSize: z.number() })),
      }),
    ),
  })
  .openapi('WhatIfResult');
