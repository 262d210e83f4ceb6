import { z } from 'zod';
import { CostRouting } from './cost-routing';
import { Duration } from './duration';
import { describeFirstIssue, type PolicyProblem } from './policy-problem';
import { QuietHours } from './quiet-hours';
import { RoleName } from './role-name';

/** Who answers at a level: the issue's owner, anyone holding a role, or one named user. */
export const Who = z.union(
  [z.literal('owner'), z.strictObject({ role: RoleName }), z.strictObject({ user: z.string().trim().min(1) })],
  { error: 'who must be "owner", { role: <known role> } or { user: <user id> }' },
);
export type Who = z.infer<typeof Who>;

/**
 * One rung of a ladder. Both windows run from when the level is reached; reminders are offsets from the same
 * moment. `repeat` is how many times the level is notified again with fresh windows before the ladder climbs.
 */
export const Level = z
  .strictObject({
    name: z.string().optional(),
    who: Who,
    acknowledgeWithin: Duration,
    resolveWithin: Duration,
    reminders: z.array(Duration).default([]),
    repeat: z.int().min(0).default(0),
  })
  .superRefine((level, ctx) => {
    if (level.acknowledgeWithin > level.resolveWithin) {
      ctx.addIssue({ code: 'custom', path: ['acknowledgeWithin'], message: 'acknowledgeWithin exceeds resolveWithin' });
    }
    level.reminders.forEach((at, i) => {
      if (at >= level.resolveWithin) {
        ctx.addIssue({ code: 'custom', path: ['reminders', i], message: 'a reminder must fall before resolveWithin' });
      }
      if (i > 0 && at <= level.reminders[i - 1]) {
        ctx.addIssue({ code: 'custom', path: ['reminders', i], message: 'reminders must be in increasing order' });
      }
    });
  });
export type Level = z.infer<typeof Level>;

const SEVEN_DAYS_MS = 7 * 24 * 3_600_000;

/**
 * The ladder for one severity: its levels from first responder up, how long a resolved issue may be reopened, and
 * whether its notifications page (marked `page: true` for a receiver to route to a pager, from the first one on).
 */
export const Ladder = z.strictObject({
  description: z.string().optional(),
  page: z.boolean().optional(),
  levels: z.array(Level).min(1, { error: 'a ladder needs at least one level' }),
  reopenWithin: Duration.default(SEVEN_DAYS_MS),
  quietHours: QuietHours.optional(),
});
export type Ladder = z.infer<typeof Ladder>;

const Severity = z.string().regex(/^[a-z][a-z0-9-]*$/, { error: 'a severity is a lower-case kebab-case name' });

/** The escalation policy file: one ladder per severity, and how costs are routed between finance and operations. */
export const EscalationPolicy = z.strictObject({
  ladders: z
    .record(Severity, Ladder)
    .refine((ladders) => Object.keys(ladders).length > 0, { error: 'at least one ladder is required' }),
  costRouting: CostRouting.prefault({}),
});
export type EscalationPolicy = z.infer<typeof EscalationPolicy>;

/** Validates an already parsed policy document; a failure names the first bad path and its problem. */
export function validateEscalationPolicy(
  raw: unknown,
): { ok: true; policy: EscalationPolicy } | ({ ok: false } & PolicyProblem) {
  const parsed = EscalationPolicy.safeParse(raw);
  return parsed.success ? { ok: true, policy: parsed.data } : { ok: false, ...describeFirstIssue(parsed.error) };
}

/** The ladders named in `references` that the policy does not define. */
export function unknownLadders(policy: EscalationPolicy, references: readonly string[]): string[] {
  return [...new Set(references.filter((name) => !Object.hasOwn(policy.ladders, name)))];
}
