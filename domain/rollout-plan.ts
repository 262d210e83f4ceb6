import { z } from 'zod';
import { Duration } from './duration';
import { describeFirstIssue, type PolicyProblem } from './policy-problem';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * The metrics a gate can measure. Rates and shares are percentages (2 means 2%); sign-offs and the stress test
 * are 1 (present / passed) or 0.
 */
export const METRICS = [
  'declaration-error-rate',
  'training-completion',
  'support-tickets-per-100',
  'throughput-vs-baseline',
  'stress-test-passed',
  'security-signoff',
  'privacy-signoff',
] as const;
export const Metric = z.enum(METRICS, { error: `metric must be one of: ${METRICS.join(', ')}` });
export type Metric = z.infer<typeof Metric>;

export const Comparator = z.enum(['<', '<=', '>', '>=', '=='], { error: 'comparator must be <, <=, >, >= or ==' });
export type Comparator = z.infer<typeof Comparator>;

/**
 * One exit criterion. Measurements whose window ended within `window` before the evaluation count; fewer than
 * `minimumSample` observations (declarations, users, tickets...) make the criterion inconclusive, which never
 * passes. `firstMonthThreshold` replaces `threshold` while the rollout is in its first month (the seeds' expected
 * support surge and productivity dip).
 */
export const Criterion = z.strictObject({
  metric: Metric,
  comparator: Comparator,
  threshold: z.number().finite(),
  firstMonthThreshold: z.number().finite().optional(),
  window: Duration.default(7 * DAY_MS),
  minimumSample: z.int().min(0).default(1),
  aggregate: z.enum(['weighted-mean', 'latest']).default('weighted-mean'),
});
export type Criterion = z.infer<typeof Criterion>;

const Id = z.string().trim().min(1);

/** Who a phase reaches: any of sites, broker ids, trader ids and declaration types. */
export const Cohort = z
  .strictObject({
    sites: z.array(Id).default([]),
    brokers: z.array(Id).default([]),
    traders: z.array(Id).default([]),
    declarationTypes: z.array(Id).default([]),
  })
  .refine((c) => c.sites.length + c.brokers.length + c.traders.length + c.declarationTypes.length > 0, {
    error: 'a cohort names at least one site, broker, trader or declaration type',
  });
export type Cohort = z.infer<typeof Cohort>;

/** A step run, in order, when a rollback leaves a phase (e.g. switch routing back to the legacy broker system). */
export const RollbackStep = z.strictObject({
  name: Id,
  action: z.enum(['switch-routing', 'disable-integration', 'restore-mapping', 'notify']),
  target: Id,
});
export type RollbackStep = z.infer<typeof RollbackStep>;

const PhaseName = z.string().regex(/^[a-z][a-z0-9-]*$/, { error: 'a phase name is lower-case kebab-case' });

/** One phase: its cohort, how long it must run before it may be left, and what must hold to leave it. */
export const Phase = z.strictObject({
  name: PhaseName,
  description: z.string().optional(),
  cohort: Cohort,
  minimumSoak: Duration,
  exitCriteria: z.array(Criterion).min(1, { error: 'a phase needs at least one exit criterion' }),
  rollback: z.array(RollbackStep).default([]),
});
export type Phase = z.infer<typeof Phase>;

/** A span in which no phase may advance (tariff-change dates, quarter close). */
export const Blackout = z
  .strictObject({ name: Id, start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }) })
  .refine((b) => Date.parse(b.start) < Date.parse(b.end), { error: 'a blackout must end after it starts' });
export type Blackout = z.infer<typeof Blackout>;

/** The data-stewardship rule: a phase whose error rate goes above `above` gets a review due within `reviewWithin`. */
export const Stewardship = z.strictObject({
  metric: Metric.default('declaration-error-rate'),
  above: z.number().finite().default(2),
  minimumSample: z.int().min(1).default(1),
  reviewWithin: Duration.default(48 * HOUR_MS),
  escalationSeverity: z.string().default('normal'),
});
export type Stewardship = z.infer<typeof Stewardship>;

/** A rollout plan: ordered phases, blackouts, the first month's length and the stewardship rule. */
export const RolloutPlan = z
  .strictObject({
    description: z.string().optional(),
    phases: z.array(Phase).min(1, { error: 'a plan needs at least one phase' }),
    firstMonth: Duration.default(30 * DAY_MS),
    blackouts: z.array(Blackout).default([]),
    stewardship: Stewardship.prefault({}),
  })
  .superRefine((plan, ctx) => {
    const seen = new Set<string>();
    plan.phases.forEach((phase, i) => {
      if (seen.has(phase.name)) {
        ctx.addIssue({ code: 'custom', path: ['phases', i, 'name'], message: `phase "${phase.name}" is named twice` });
      }
      seen.add(phase.name);
    });
  });
export type RolloutPlan = z.infer<typeof RolloutPlan>;
/** A plan as written (durations as text or hours, defaults left out). */
export type RolloutPlanInput = z.input<typeof RolloutPlan>;

/** Validates an already parsed plan; a failure names the first bad path and its problem. */
export function validateRolloutPlan(raw: unknown): { ok: true; policy: RolloutPlan } | ({ ok: false } & PolicyProblem) {
  const parsed = RolloutPlan.safeParse(raw);
  return parsed.success ? { ok: true, policy: parsed.data } : { ok: false, ...describeFirstIssue(parsed.error) };
}

/** The phase called `name`, or undefined. */
export function phaseNamed(plan: RolloutPlan, name: string): Phase | undefined {
  return plan.phases.find((p) => p.name === name);
}

/** The blackout containing `at` (start inclusive, end exclusive), or null. */
export function blackoutAt(plan: RolloutPlan, at: string): Blackout | null {
  const ms = Date.parse(at);
  return plan.blackouts.find((b) => Date.parse(b.start) <= ms && ms < Date.parse(b.end)) ?? null;
}
