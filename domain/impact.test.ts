import { BusinessProfile, budgetStatus, churnLoss, delayExposure, moneyAtStake } from './impact';

const seeds = BusinessProfile.parse({
  name: 'Import brokerage',
  systems: ['broker-gateway', 'erp-link'],
  dailyShipments: 500,
  averageShipmentValue: 1000,
  customers: 5000,
  averageOrderValue: 2000,
  annualChurnRate: 0.1,
  budget: 100_000,
  spent: 130_000,
});

describe('impact', () => {
  it.each([
    [500, 1000, 3, 1_500_000],
    [500, 1000, 1, 500_000],
    [500, 1000, 0, 0],
    [120, 2_499.99, 2, 599_997.6],
    [0, 1000, 5, 0],
  ] as const)('delay exposure: %d shipments a day at %d for %d days risks %d', (daily, value, days, expected) =>
    expect(delayExposure({ dailyShipments: daily, averageShipmentValue: value }, days)).toBe(expected),
  );

  it.each([
    [5000, 2000, 0.1, 1_000_000],
    [5000, 2000, 0, 0],
    [1, 99.99, 1, 99.99],
  ] as const)('churn loss: %d customers at %d with %d churn lose %d a year', (customers, aov, churn, expected) =>
    expect(churnLoss({ customers, averageOrderValue: aov, annualChurnRate: churn })).toBe(expected),
  );

  it('money at stake: when a change touches one of a program’s systems, the program and its seeds figures are at stake', () => {
    const stake = moneyAtStake([{ ...seeds, id: 'brokerage' }], ['ERP-link', 'tariff-db'], 3);
    expect(stake.programs).toEqual([
      { id: 'brokerage', name: 'Import brokerage', currency: 'USD', systems: ['erp-link'], perDay: 500_000, delay: 1_500_000, churn: 1_000_000 },
    ]);
    expect(stake.totals).toEqual([{ currency: 'USD', perDay: 500_000, delay: 1_500_000, churn: 1_000_000 }]);
  });

  it('money at stake: when programs use different currencies, totals are kept per currency, never added', () => {
    const eu = { ...seeds, id: 'eu', name: 'EU forwarding', currency: 'EUR', dailyShipments: 100 };
    const stake = moneyAtStake([{ ...seeds, id: 'brokerage' }, eu], ['broker-gateway'], 1);
    expect(stake.totals.map((t) => [t.currency, t.perDay])).toEqual([
      ['EUR', 100_000],
      ['USD', 500_000],
    ]);
  });

  it('money at stake: when no program runs on the systems, nothing is at stake', () => {
    expect(moneyAtStake([{ ...seeds, id: 'brokerage' }], ['other'], 3)).toEqual({ delayDays: 3, totals: [], programs: [] });
  });

  it.each([
    [100_000, 130_000, 1.3, 30_000],
    [100_000, 90_000, 0.9, 0],
    [null, 5_000, null, 0],
  ] as const)('budget: with budget %s and %d spent, the ratio is %s and the overrun %d', (budget, spent, ratio, overrun) => {
    const s = budgetStatus({ budget, spent });
    expect(s.ratio === null ? null : Number(s.ratio.toFixed(4))).toBe(ratio);
    expect(s.overrun).toBe(overrun);
  });

  it.each([
    [{ annualChurnRate: 1.5 }, 'annualChurnRate'],
    [{ currency: 'usd' }, 'currency'],
    [{ dailyShipments: 1.5 }, 'dailyShipments'],
    [{ averageOrderValue: -1 }, 'averageOrderValue'],
  ] as const)('profile: when %j is given, it is refused naming %s', (patch, field) => {
    const r = BusinessProfile.safeParse({ ...seeds, ...patch });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0].path).toEqual([field]);
  });
});
