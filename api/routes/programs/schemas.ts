import { BusinessProfile } from '../../../domain/impact';
import { z } from '../../schemas';
import { maxChars } from '../../../domain/text';

/** A program's id: a short slug chosen by whoever registers it. */
export const ProgramId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'lower-case letters, digits and dashes, at most 63' })
  .openapi({ description: 'Program id (slug)', example: 'import-brokerage' });
export const ProgramParams = z.object({ id: ProgramId });

/** The profile as the API takes it: the domain's schema, documented. */
export const ProgramProfileBody = BusinessProfile.openapi('ProgramProfile');

const Money = z.number();

/** A stored program with the figures derived from its profile. */
export const Program = z
  .object({
    id: ProgramId,
    name: z.string(),
    currency: z.string(),
    systems: z.array(z.string()),
    dailyShipments: z.int(),
    averageShipmentValue: Money,
    customers: z.int(),
    averageOrderValue: Money,
    annualChurnRate: z.number(),
    budget: Money.nullable(),
    spent: Money,
    updatedAt: z.iso.datetime(),
    updatedBy: z.string(),
    figures: z.object({
      delayExposurePerDay: Money.openapi({ description: 'dailyShipments x averageShipmentValue' }),
      annualChurnLoss: Money.openapi({ description: 'customers x averageOrderValue x annualChurnRate' }),
      budgetRatio: z.number().nullable().openapi({ description: 'spent / budget (1.3 = 30% over)' }),
      overrun: Money,
    }),
  })
  .openapi('Program');
export type Program = z.infer<typeof Program>;

export const ProgramList = z.object({ items: z.array(Program) }).openapi('ProgramList');

/** GET /impact query: the systems a change touches and the delay to price. */
export const ImpactQuery = z.object({
  systems: maxChars(z.string().min(1), 4000)
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .openapi({ description: 'Comma-separated affected systems', example: 'broker-gateway,erp-link' }),
  delayDays: z.coerce.number().min(0).max(3650).default(1),
});

const Total = z.object({ currency: z.string(), perDay: Money, delay: Money, churn: Money });
export const MoneyAtStake = z
  .object({
    delayDays: z.number(),
    totals: z.array(Total).openapi({ description: 'Per currency; different currencies are never added' }),
    programs: z.array(
      z.object({ id: z.string(), name: z.string(), currency: z.string(), systems: z.array(z.string()), perDay: Money, delay: Money, churn: Money }),
    ),
  })
  .openapi('MoneyAtStake');
