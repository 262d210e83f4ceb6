import { CostRouting, costRoute, cycleOf, cycleTotalCents, routeCycle, toCents } from './cost-routing';

const routing = CostRouting.parse({});
const cost = (usd: number, at: string) => ({ amountCents: toCents(usd) ?? NaN, at });

describe('CostRouting', () => {
  it('parse: when nothing is configured, the result is $10,000 per calendar month, finance below and operations above', () => {
    expect(routing).toEqual({
      currency: 'USD',
      threshold: 10_000,
      cycle: 'calendar-month',
      below: 'finance',
      atOrAbove: 'operations',
    });
  });

  it.each([
    [{ threshold: 0 }, 'threshold'],
    [{ threshold: 10.001 }, 'threshold'],
    [{ currency: 'usd' }, 'currency'],
    [{ cycle: 'weekly' }, 'cycle'],
    [{ cycle: { days: 14, anchor: '6 Jan' } }, 'cycle.anchor'],
    [{ below: 'accounts' }, 'below'],
  ] as const)('parse: when configured as %j, the problem is at %s', (raw, path) => {
    const result = CostRouting.safeParse(raw);
    expect(result.error?.issues[0].path.join('.')).toBe(path);
  });
});

describe('toCents', () => {
  it.each([
    [9_999.99, 999_999],
    [10_000, 1_000_000],
    [0.1 + 0.2, 30],
    [1_234_567.89, 123_456_789],
    [0.005, null],
    [Number.NaN, null],
    [Number.POSITIVE_INFINITY, null],
  ] as const)('toCents: when given %d, the result is %j', (amount, cents) => {
    expect(toCents(amount)).toBe(cents);
  });
});

describe('costRoute', () => {
  it.each([
    [9_999.99, 'finance'],
    [10_000, 'operations'],
    [0.01, 'finance'],
    [250_000, 'operations'],
  ] as const)('costRoute: when a cycle totals $%d, the result is %s', (usd, owner) => {
    expect(costRoute(toCents(usd) ?? NaN, routing)).toBe(owner);
  });

  it.each([
    [4_999.99, 'finance'],
    [5_000, 'operations'],
  ] as const)('costRoute: when the threshold is $5,000 and a cycle totals $%d, the result is %s', (usd, owner) => {
    expect(costRoute(toCents(usd) ?? NaN, CostRouting.parse({ threshold: 5_000 }))).toBe(owner);
  });
});

describe('cycles', () => {
  it.each([
    ['2025-03-01T00:00:00.000Z', '2025-03', '2025-03-01T00:00:00.000Z', '2025-04-01T00:00:00.000Z'],
    ['2025-03-31T23:59:59.999Z', '2025-03', '2025-03-01T00:00:00.000Z', '2025-04-01T00:00:00.000Z'],
    ['2024-12-15T12:00:00.000Z', '2024-12', '2024-12-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
    ['2024-02-29T12:00:00.000Z', '2024-02', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
  ] as const)('cycleOf: when a cost is booked at %s in calendar months, the cycle is %s', (at, key, start, end) => {
    expect(cycleOf(at, 'calendar-month')).toEqual({ key, start, end });
  });

  it.each([
    ['2025-01-06T00:00:00.000Z', '2025-01-06'],
    ['2025-01-19T23:59:59.000Z', '2025-01-06'],
    ['2025-01-20T00:00:00.000Z', '2025-01-20'],
    ['2025-01-05T10:00:00.000Z', '2024-12-23'],
  ] as const)(
    'cycleOf: when a cost is booked at %s in 14-day cycles from 2025-01-06, the cycle starts %s',
    (at, key) => {
      expect(cycleOf(at, { days: 14, anchor: '2025-01-06' }).key).toBe(key);
    },
  );

  it.each([
    ['one cost under the threshold', 999_999, 'finance', [[9_999.99, '2025-03-10T09:00:00Z']], '2025-03-10T09:00:00Z'],
    ['one cost at the threshold', 1_000_000, 'operations', [[10_000, '2025-03-10T09:00:00Z']], '2025-03-10T09:00:00Z'],
    [
      'costs split across the cycle that stay under',
      999_999,
      'finance',
      [
        [6_000, '2025-03-02T09:00:00Z'],
        [3_999.99, '2025-03-20T09:00:00Z'],
      ],
      '2025-03-20T09:00:00Z',
    ],
    [
      'costs split across the cycle that reach it',
      1_000_000,
      'operations',
      [
        [6_000, '2025-03-02T09:00:00Z'],
        [3_999.99, '2025-03-20T09:00:00Z'],
        [0.01, '2025-03-31T23:00:00Z'],
      ],
      '2025-03-31T23:00:00Z',
    ],
    [
      'a new month after a large one',
      200_000,
      'finance',
      [
        [9_000, '2025-03-02T09:00:00Z'],
        [8_000, '2025-03-30T09:00:00Z'],
        [2_000, '2025-04-01T00:00:00Z'],
      ],
      '2025-04-01T00:00:00Z',
    ],
  ] as const)(
    'routeCycle: when a cycle holds %s, the result totals %d cents and goes to %s',
    (_case, total, route, list, at) => {
      const costs = list.map(([usd, when]) => cost(usd, when));
      expect(cycleTotalCents(costs, at, 'calendar-month')).toBe(total);
      expect(routeCycle(costs, at, routing)).toEqual({ cycle: at.slice(0, 7), totalCents: total, route });
    },
  );
});
