import { escalationReport, median, percentile } from './escalation-report';

describe('median and percentile', () => {
  it.each([
    [[], null],
    [[7], 7],
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
  ] as const)('median: when the values are %j, the result is %j', (values, expected) => {
    expect(median(values)).toBe(expected);
  });

  it.each([
    [[], 90, null],
    [[5], 90, 5],
    [[10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90, 90],
    [[10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110], 90, 100],
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4], 100, 4],
    [[9, 1], 1, 1],
  ] as const)('percentile: when the values are %j and p is %d, the result is %j', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
});

describe('escalationReport', () => {
  const M = 60_000;

  it('escalationReport: when steps come from several levels, the result summarises each level apart', () => {
    const report = escalationReport(
      [
        { level: 2, timeToAcknowledgeMs: 30 * M, timeToResolveMs: null },
        { level: 1, timeToAcknowledgeMs: 10 * M, timeToResolveMs: 60 * M },
        { level: 1, timeToAcknowledgeMs: 20 * M, timeToResolveMs: 120 * M },
        { level: 1, timeToAcknowledgeMs: null, timeToResolveMs: null },
        { level: 1, timeToAcknowledgeMs: 40 * M, timeToResolveMs: 90 * M },
      ],
      [],
    );
    expect(report.levels).toEqual([
      {
        level: 1,
        acknowledge: { count: 3, medianMs: 20 * M, p90Ms: 40 * M },
        resolve: { count: 3, medianMs: 90 * M, p90Ms: 120 * M },
      },
      {
        level: 2,
        acknowledge: { count: 1, medianMs: 30 * M, p90Ms: 30 * M },
        resolve: { count: 0, medianMs: null, p90Ms: null },
      },
    ]);
  });

  it('escalationReport: when breaches span months, the result counts them per UTC month in order', () => {
    const report = escalationReport(
      [],
      [
        { dueAt: '2025-04-01T00:00:00.000Z' },
        { dueAt: '2025-03-31T23:59:59.999Z' },
        { dueAt: '2025-03-02T10:00:00.000Z' },
        { dueAt: '2025-01-15T10:00:00.000Z' },
      ],
    );
    expect(report.breachesByMonth).toEqual([
      { month: '2025-01', count: 1 },
      { month: '2025-03', count: 2 },
      { month: '2025-04', count: 1 },
    ]);
  });
});
