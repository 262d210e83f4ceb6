import { z } from 'zod';
import { RoleName } from './role-name';
import type { Role } from './roles';

const DAY_MS = 86_400_000;
const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'expected a date such as 2025-01-06' });

/** The accounting cycle whose costs are summed: calendar months (UTC) unless a fixed run of days is configured. */
export const CostCycle = z.union(
  [z.literal('calendar-month'), z.strictObject({ days: z.int().positive(), anchor: IsoDate })],
  {
    error: 'cycle must be "calendar-month" or { days, anchor }',
  },
);
export type CostCycle = z.infer<typeof CostCycle>;

/** Which role owns the costs of a cycle: `below` under the threshold, `atOrAbove` from it on. */
export const CostRouting = z.strictObject({
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, { error: 'currency must be an ISO-4217 code such as USD' })
    .default('USD'),
  threshold: z
    .number()
    .positive()
    .refine((n) => toCents(n) !== null, { error: 'threshold has more than two decimals' })
    .default(10_000),
  cycle: CostCycle.default('calendar-month'),
  below: RoleName.default('finance'),
  atOrAbove: RoleName.default('operations'),
});
export type CostRouting = z.infer<typeof CostRouting>;

/** A cost already converted to whole cents, stamped with when it was incurred. */
export type CostAmount = { amountCents: number; at: string };

/** Whole cents of a decimal amount, or null when it is not finite or has fractions of a cent. */
export function toCents(amount: number): number | null {
  if (!Number.isFinite(amount)) return null;
  const cents = Math.round(amount * 100);
  // Binary floating point cannot hold most decimals exactly, so "two decimals" is judged with a tolerance.
  return Math.abs(cents - amount * 100) < 1e-6 * Math.max(1, Math.abs(amount)) ? cents : null;
}

/** The cycle containing `at`: a key to group by (`2025-03`, or the start date for day cycles) and its bounds. */
export function cycleOf(at: string, cycle: CostCycle): { key: string; start: string; end: string } {
  const ms = Date.parse(at);
  if (cycle === 'calendar-month') {
    const date = new Date(ms);
    const start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
    const end = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
    return {
      key: new Date(start).toISOString().slice(0, 7),
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
    };
  }
  const anchor = Date.parse(`${cycle.anchor}T00:00:00.000Z`);
  const length = cycle.days * DAY_MS;
  const start = anchor + Math.floor((ms - anchor) / length) * length;
  return {
    key: new Date(start).toISOString().slice(0, 10),
    start: new Date(start).toISOString(),
    end: new Date(start + length).toISOString(),
  };
}

/** Sum in cents of the costs falling in the same cycle as `at`. */
export function cycleTotalCents(costs: readonly CostAmount[], at: string, cycle: CostCycle): number {
  const { key } = cycleOf(at, cycle);
  return costs.filter((c) => cycleOf(c.at, cycle).key === key).reduce((sum, c) => sum + c.amountCents, 0);
}

/** The role owning a cycle whose costs add up to `totalCents`; the threshold itself already goes up. */
export function costRoute(totalCents: number, routing: CostRouting): Role {
  const thresholdCents = toCents(routing.threshold) ?? Math.round(routing.threshold * 100);
  return totalCents >= thresholdCents ? routing.atOrAbove : routing.below;
}

/** Routes the cycle containing `at` by the sum of all its costs, never by one cost alone. */
export function routeCycle(
  costs: readonly CostAmount[],
  at: string,
  routing: CostRouting,
): { cycle: string; totalCents: number; route: Role } {
  const totalCents = cycleTotalCents(costs, at, routing.cycle);
  return { cycle: cycleOf(at, routing.cycle).key, totalCents, route: costRoute(totalCents, routing) };
}
