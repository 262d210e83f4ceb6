import { Duration, addMs, parseIsoDuration, toMs } from './duration';

const H = 3_600_000;

describe('parseIsoDuration', () => {
  it.each([
    ['PT48H', 48 * H],
    ['P2D', 48 * H],
    ['P1W', 168 * H],
    ['P1DT4H30M', 28.5 * H],
    ['PT90S', 90_000],
    ['PT1.5H', 1.5 * H],
  ] as const)('parseIsoDuration: when given %s, the result is %d ms', (text, ms) => {
    expect(parseIsoDuration(text)).toBe(ms);
  });

  it.each(['P', 'PT', 'P1M', 'P1Y', '48h', 'PT-1H', 'P1DT', ''] as const)(
    'parseIsoDuration: when given %j, the result is null',
    (text) => {
      expect(parseIsoDuration(text)).toBeNull();
    },
  );
});

describe('Duration', () => {
  it.each([
    [48, 48 * H],
    [0.5, 0.5 * H],
    ['PT48H', 48 * H],
  ] as const)('Duration: when the policy says %j, the result is %d ms', (input, ms) => {
    expect(Duration.parse(input)).toBe(ms);
  });

  it.each([
    [0, 'duration must be positive'],
    [-4, 'duration must be positive'],
    ['P1M', 'is not an ISO-8601 duration'],
    [true, 'expected hours (a number) or an ISO-8601 duration'],
  ] as const)('Duration: when the policy says %j, the problem mentions "%s"', (input, problem) => {
    const result = Duration.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].message).toContain(problem);
  });
});

describe('time helpers', () => {
  it('addMs: when adding 48 hours across a month end, the result is the ISO time two days later', () => {
    expect(addMs('2025-02-27T10:00:00.000Z', 48 * H)).toBe('2025-03-01T10:00:00.000Z');
  });

  it.each([
    ['2025-03-01T10:00:00Z', Date.UTC(2025, 2, 1, 10)],
    ['not a time', null],
  ] as const)('toMs: when given %j, the result is %j', (iso, ms) => {
    expect(toMs(iso)).toBe(ms);
  });
});
