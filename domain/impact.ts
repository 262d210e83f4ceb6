import { z } from 'zod';
import { maxChars } from './text';

/**
 * A program's business profile: what its shipments and customers are worth, so every decision can
 * show the money a delay puts at stake. The seeds' figures: 500 shipments a day at $1,000 each, a
 * 3-day delay risks $1,500,000; 5,000 customers at $2,000 average order value and 10% annual churn
 * lose $1,000,000 a year.
 */
export const BusinessProfile = z.strictObject({
  name: maxChars(z.string().trim().min(1), 200),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, { error: 'an ISO 4217 code such as USD' })
    .default('USD'),
  /** The integration systems the program runs on; a change touching one puts the program at stake. */
  systems: z.array(maxChars(z.string().trim().min(1), 200)).max(200).default([]),
  dailyShipments: z.number().int().min(0),
  averageShipmentValue: z.number().min(0),
  customers: z.number().int().min(0),
  averageOrderValue: z.number().min(0),
  /** Share of customers lost in a year to disruption (0.1 = 10%). */
  annualChurnRate: z.number().min(0).max(1),
  /** Planned integration cost and what has been spent so far, in the program's currency. */
  budget: z.number().min(0).nullable().default(null),
  spent: z.number().min(0).default(0),
});
export type BusinessProfile = z.infer<typeof BusinessProfile>;

/** Rounds to cents: figures are money, shown and compared as such. */
const cents = (n: number) => Math.round(n * 100) / 100;

/** Delay exposure: daily shipment volume x average shipment value x days of delay. */
export function delayExposure(p: Pick<BusinessProfile, 'dailyShipments' | 'averageShipmentValue'>, delayDays: number): number {
  return cents(p.dailyShipments * p.averageShipmentValue * Math.max(0, delayDays));
}

/** Churn loss: affected customers x average order value x churn rate (a year's loss). */
export function churnLoss(p: Pick<BusinessProfile, 'customers' | 'averageOrderValue' | 'annualChurnRate'>): number {
  return cents(p.customers * p.averageOrderValue * p.annualChurnRate);
}

/** A program touched by a change, with what a delay of it costs. */
export interface ProgramAtStake {
  id: string;
  name: string;
  currency: string;
  systems: string[];
  perDay: number;
  delay: number;
  churn: number;
}

/** Money at stake for a delay of `delayDays`, summed per currency (profiles in different currencies are never added). */
export interface MoneyAtStake {
  delayDays: number;
  totals: { currency: string; perDay: number; delay: number; churn: number }[];
  programs: ProgramAtStake[];
}

/**
 * What delaying a change to `systems` by `delayDays` puts at stake: every program running on one of
 * them, with its delay exposure and (the downside if disruption drives customers away) its churn loss.
 */
export function moneyAtStake(
  profiles: readonly (BusinessProfile & { id: string })[],
  systems: readonly string[],
  delayDays: number,
): MoneyAtStake {
  const wanted = new Set(systems.map((s) => s.toLowerCase()));
  const programs = profiles
    .filter((p) => p.systems.some((s) => wanted.has(s.toLowerCase())))
    .map((p) => ({
      id: p.id,
      name: p.name,
      currency: p.currency,
      systems: p.systems.filter((s) => wanted.has(s.toLowerCase())),
      perDay: delayExposure(p, 1),
      delay: delayExposure(p, delayDays),
      churn: churnLoss(p),
    }))
    .sort((a, b) => b.delay - a.delay || a.id.localeCompare(b.id));
  const totals = new Map<string, { currency: string; perDay: number; delay: number; churn: number }>();
  for (const p of programs) {
    const t = totals.get(p.currency) ?? { currency: p.currency, perDay: 0, delay: 0, churn: 0 };
    t.perDay = cents(t.perDay + p.perDay);
    t.delay = cents(t.delay + p.delay);
    t.churn = cents(t.churn + p.churn);
    totals.set(p.currency, t);
  }
  return { delayDays, totals: [...totals.values()].sort((a, b) => a.currency.localeCompare(b.currency)), programs };
}

/** Spend against budget: the seeds' case overshot its projection by 30%. */
export function budgetStatus(p: Pick<BusinessProfile, 'budget' | 'spent'>): {
  budget: number | null;
  spent: number;
  /** Spent as a share of budget, e.g. 1.3 for a 30% overrun; null without a budget. */
  ratio: number | null;
  overrun: number;
} {
  if (p.budget === null || p.budget === 0) return { budget: p.budget, spent: p.spent, ratio: null, overrun: 0 };
  return { budget: p.budget, spent: p.spent, ratio: p.spent / p.budget, overrun: cents(Math.max(0, p.spent - p.budget)) };
}
