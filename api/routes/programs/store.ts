import { budgetStatus, churnLoss, delayExposure, type BusinessProfile } from '../../../domain/impact';
import type { Program as ProgramRow } from '../../../generated/prisma/client';
import type { Program } from './schemas';

/** A stored row as the domain's profile (money columns are decimals in the database). */
export function profileOf(row: ProgramRow): BusinessProfile & { id: string } {
  return {
    id: row.id,
    name: row.name,
    currency: row.currency,
    systems: row.systems,
    dailyShipments: row.dailyShipments,
    averageShipmentValue: Number(row.averageShipmentValue),
    customers: row.customers,
    averageOrderValue: Number(row.averageOrderValue),
    annualChurnRate: row.annualChurnRate,
    budget: row.budget === null ? null : Number(row.budget),
    spent: Number(row.spent),
  };
}

/** The API's view of a program: its profile and the figures derived from it. */
export function programView(row: ProgramRow): Program {
  const p = profileOf(row);
  const budget = budgetStatus(p);
  return {
    ...p,
    updatedAt: row.updatedAt.toISOString(),
    updatedBy: row.updatedBy,
    figures: { delayExposurePerDay: delayExposure(p, 1), annualChurnLoss: churnLoss(p), budgetRatio: budget.ratio, overrun: budget.overrun },
  };
}
