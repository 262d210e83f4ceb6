import {
  checkMeasurements,
  compare,
  evaluateCriterion,
  evaluateGate,
  Measurement,
  nextGateChange,
  nextTimingChange,
  stewardshipBreaches,
  timingBlock,
  whatIf,
  type Observation,
} from './gate';
import { Criterion, RolloutPlan, type RolloutPlanInput } from './rollout-plan';

const H = 3_600_000;
const START = '2025-03-03T00:00:00.000Z';
const at = (hours: number) => new Date(Date.parse(START) + hours * H).toISOString();
const obs = (metric: Observation['metric'], value: number, sampleSize: number, hours: number, phase = 'pilot') => ({
  phase,
  metric,
  value,
  sampleSize,
  windowEnd: at(hours),
});

// The seeds' figures: errors above 2% need a review in 48 h; training to 90%; a first-month support surge;
// productivity down by up to 20% in month one, so throughput at least 80% of baseline.
const planInput: RolloutPlanInput = {
  blackouts: [{ name: 'tariff change', start: at(40 * 24), end: at(45 * 24) }],
  phases: [
    {
      name: 'pilot',
      cohort: { sites: ['rotterdam-1'], brokers: ['brk-104'] },
      minimumSoak: 'P14D',
      exitCriteria: [
        { metric: 'declaration-error-rate', comparator: '<=', threshold: 2, window: 'P7D', minimumSample: 500 },
        { metric: 'training-completion', comparator: '>=', threshold: 90, window: 'P30D', aggregate: 'latest' },
        {
          metric: 'support-tickets-per-100',
          comparator: '<=',
          threshold: 3,
          firstMonthThreshold: 6,
          window: 'P7D',
          minimumSample: 500,
        },
        {
          metric: 'throughput-vs-baseline',
          comparator: '>=',
          threshold: 95,
          firstMonthThreshold: 80,
          window: 'P7D',
          minimumSample: 500,
        },
        { metric: 'security-signoff', comparator: '==', threshold: 1, window: 'P365D', aggregate: 'latest' },
      ],
    },
    {
      name: 'full',
      cohort: { declarationTypes: ['IM'] },
      minimumSoak: 'P30D',
      exitCriteria: [{ metric: 'declaration-error-rate', comparator: '<=', threshold: 2, minimumSample: 1000 }],
    },
  ],
};
const plan = RolloutPlan.parse(planInput);
const criterion = (c: Record<string, unknown>) => Criterion.parse(c);

describe('compare', () => {
  it.each([
    [2, '<=', 2, true],
    [2.01, '<=', 2, false],
    [2, '<', 2, false],
    [90, '>=', 90, true],
    [89.99, '>=', 90, false],
    [80, '>', 80, false],
    [1, '==', 1, true],
    [0, '==', 1, false],
  ] as const)('compare: when %d %s %d, the result is %s', (value, comparator, threshold, holds) => {
    expect(compare(value, comparator, threshold)).toBe(holds);
  });
});

describe('evaluateCriterion', () => {
  const errorRate = criterion({ metric: 'declaration-error-rate', comparator: '<=', threshold: 2, minimumSample: 500 });
  const clock = { at: at(24 * 10), rolloutStartedAt: START };
  it.each([
    ['2.00% over 1,000 declarations', [[2, 1000, 24 * 9]], 'pass', 2],
    ['2.01% over 1,000 declarations', [[2.01, 1000, 24 * 9]], 'fail', 2.01],
    [
      '1% and 3% over equal samples (mean 2%)',
      [
        [1, 500, 24 * 8],
        [3, 500, 24 * 9],
      ],
      'pass',
      2,
    ],
    [
      '1% over 900 and 12% over 100 (weighted 2.1%)',
      [
        [1, 900, 24 * 8],
        [12, 100, 24 * 9],
      ],
      'fail',
      2.1,
    ],
    ['0.5% over 499 declarations, below the minimum sample', [[0.5, 499, 24 * 9]], 'inconclusive', 0.5],
    ['no measurement at all', [], 'inconclusive', null],
    ['a clean week that has left the 7-day window', [[0.1, 5000, 24 * 2]], 'inconclusive', null],
    ['a measurement ending after the evaluation', [[0.1, 5000, 24 * 11]], 'inconclusive', null],
    ['a zero-sample measurement', [[0, 0, 24 * 9]], 'inconclusive', null],
  ] as const)('error rate <= 2%%: when the window holds %s, the status is %s', (_case, rows, status, value) => {
    const list = rows.map(([v, n, h]) => obs('declaration-error-rate', v, n, h));
    const result = evaluateCriterion(errorRate, list, clock, false);
    expect(result.status).toBe(status);
    expect(result.value).toBe(value);
  });

  it('inconclusive: when the sample is too small, the reason names the sample and the minimum', () => {
    const result = evaluateCriterion(errorRate, [obs('declaration-error-rate', 0.5, 499, 24 * 9)], clock, false);
    expect(result.reason).toBe('sample 499 is below the minimum of 500');
  });

  const throughput = criterion({
    metric: 'throughput-vs-baseline',
    comparator: '>=',
    threshold: 95,
    firstMonthThreshold: 80,
  });
  it.each([
    ['in month one, an 18% dip', 82, true, 'pass', 80],
    ['in month one, the seeds 20% dip', 80, true, 'pass', 80],
    ['in month one, a 21% dip', 79, true, 'fail', 80],
    ['after month one, an 18% dip', 82, false, 'fail', 95],
    ['after month one, a 4% dip', 96, false, 'pass', 95],
  ] as const)('throughput: when %s, the status is %s against %d%%', (_case, value, firstMonth, status, threshold) => {
    const result = evaluateCriterion(
      throughput,
      [obs('throughput-vs-baseline', value, 600, 24 * 9)],
      clock,
      firstMonth,
    );
    expect([result.status, result.threshold, result.allowance]).toEqual([status, threshold, firstMonth]);
  });

  const training = criterion({ metric: 'training-completion', comparator: '>=', threshold: 90, aggregate: 'latest' });
  it.each([
    [
      'rose from 60% to 91%',
      [
        [60, 24 * 2],
        [91, 24 * 9],
      ],
      'pass',
    ],
    [
      'fell from 95% to 85%',
      [
        [95, 24 * 2],
        [85, 24 * 9],
      ],
      'fail',
    ],
  ] as const)('training (latest): when completion %s, the status is %s', (_case, rows, status) => {
    const list = rows.map(([v, h]) => obs('training-completion', v, 40, h));
    expect(evaluateCriterion(training, list, clock, false).status).toBe(status);
  });
});

describe('evaluateGate', () => {
  const good = [
    obs('declaration-error-rate', 1.4, 2000, 24 * 13),
    obs('training-completion', 92, 40, 24 * 12),
    obs('support-tickets-per-100', 5.5, 2000, 24 * 13),
    obs('throughput-vs-baseline', 83, 2000, 24 * 13),
    obs('security-signoff', 1, 1, 24 * 1),
  ];
  const clock = (days: number) => ({ at: at(24 * days), rolloutStartedAt: START });

  it('pass: when every pilot criterion holds in month one (with the surge and dip allowances), the gate passes', () => {
    const gate = evaluateGate(plan, 'pilot', good, clock(14));
    expect(gate.status).toBe('pass');
    expect(gate.criteria.filter((c) => c.allowance).map((c) => c.metric)).toEqual([
      'support-tickets-per-100',
      'throughput-vs-baseline',
    ]);
  });

  it('fail: when the same figures are judged after month one, the surge and dip fail the gate', () => {
    const later = good.map((o) => ({ ...o, windowEnd: at(24 * 40 + (o.metric === 'security-signoff' ? 0 : -1)) }));
    const gate = evaluateGate(plan, 'pilot', later, clock(40));
    expect(gate.status).toBe('fail');
    expect(gate.criteria.filter((c) => c.status === 'fail').map((c) => c.metric)).toEqual([
      'support-tickets-per-100',
      'throughput-vs-baseline',
    ]);
  });

  it.each([
    [
      'the security sign-off is missing',
      (list: Observation[]) => list.filter((o) => o.metric !== 'security-signoff'),
      'inconclusive',
    ],
    [
      'only the full phase has data',
      (list: Observation[]) => list.map((o) => ({ ...o, phase: 'full' })),
      'inconclusive',
    ],
    [
      'the error rate is missing and throughput dips 30%',
      (list: Observation[]) =>
        list
          .filter((o) => o.metric !== 'declaration-error-rate')
          .map((o) => (o.metric === 'throughput-vs-baseline' ? { ...o, value: 70 } : o)),
      'fail',
    ],
  ] as const)('status: when %s, the gate is %s', (_case, change, status) => {
    expect(evaluateGate(plan, 'pilot', change(good), clock(14)).status).toBe(status);
  });

  it('inconclusive never passes: when every criterion but one passes and that one lacks data, the gate is not pass', () => {
    const thin = good.map((o) => (o.metric === 'declaration-error-rate' ? { ...o, sampleSize: 10 } : o));
    expect(evaluateGate(plan, 'pilot', thin, clock(14)).status).toBe('inconclusive');
  });

  it('phase: when asked for a phase the plan lacks, it throws', () => {
    expect(() => evaluateGate(plan, 'wave-9', good, clock(14))).toThrow('plan has no phase "wave-9"');
  });
});

describe('stewardshipBreaches', () => {
  it.each([
    [2, 1000, false],
    [2.0000000001, 1000, false],
    [2.01, 1000, true],
    [7.5, 1000, true],
  ] as const)('seeds: when the error rate is %d%% over %d declarations, a review is due: %s', (value, n, due) => {
    expect(stewardshipBreaches(plan, [obs('declaration-error-rate', value, n, 1)])).toHaveLength(due ? 1 : 0);
  });

  it('metric: when another metric is above 2, no review is due', () => {
    expect(stewardshipBreaches(plan, [obs('support-tickets-per-100', 5, 1000, 1)])).toEqual([]);
  });

  it('minimum sample: when the plan asks for 50 declarations, 1 bad declaration out of 10 opens no review', () => {
    const strict = RolloutPlan.parse({ ...planInput, stewardship: { minimumSample: 50 } });
    expect(stewardshipBreaches(strict, [obs('declaration-error-rate', 10, 10, 1)])).toEqual([]);
  });
});

describe('timingBlock', () => {
  const pilot = plan.phases[0];
  it.each([
    ['13 days into a 14-day soak', 24 * 13, 'SOAK_INCOMPLETE'],
    ['exactly 14 days in', 24 * 14, null],
    ['inside the tariff-change blackout', 24 * 41, 'BLACKOUT'],
    ['when the blackout has ended', 24 * 45, null],
  ] as const)('advance timing: when %s, the block is %s', (_case, hours, code) => {
    expect(timingBlock(plan, pilot, START, at(hours))?.code ?? null).toBe(code);
  });
});

describe('nextGateChange', () => {
  // Error rate over 7 days with at least 100 declarations; tickets with the first month's surge allowance.
  const small = RolloutPlan.parse({
    phases: [
      {
        name: 'pilot',
        cohort: { sites: ['rotterdam-1'] },
        minimumSoak: 'P1D',
        exitCriteria: [
          { metric: 'declaration-error-rate', comparator: '<=', threshold: 2, window: 'P7D', minimumSample: 100 },
          { metric: 'support-tickets-per-100', comparator: '<=', threshold: 3, firstMonthThreshold: 6, window: 'P7D' },
        ],
      },
    ],
  });
  const clock = (hours: number) => ({ at: at(hours), rolloutStartedAt: START });
  const errors = (value: number, sample: number, hours: number) => obs('declaration-error-rate', value, sample, hours);

  it.each([
    ['nothing is recorded', [], 20, null],
    ['a passing measurement is the only one', [errors(1, 500, 10)], 20, 10 + 168],
    ['a measurement ending later would push the rate above 2%', [errors(1, 500, 10), errors(5, 1000, 30)], 20, 30],
    ['a later measurement keeps it passing until the last leaves', [errors(1, 500, 10), errors(1.5, 500, 30)], 20, 198],
    ['the older of two leaves and the rest fails alone', [errors(1, 5000, 10), errors(3, 1000, 30)], 40, 178],
    ['a small sample stays inconclusive until it leaves', [errors(1, 50, 10)], 20, null],
    ['tickets pass only under the first-month allowance', [obs('support-tickets-per-100', 5, 10, 600)], 624, 720],
    ['tickets pass after the first month too', [obs('support-tickets-per-100', 2, 10, 600)], 624, 768],
  ] as const)('next change: when %s, the judgement next changes at hour %s', (_case, recorded, hours, next) => {
    expect(nextGateChange(small, 'pilot', recorded, clock(hours))).toBe(next === null ? null : at(next));
  });

  it('agreement: when the recorded pilot is judged just before its next change and at it, only the latter differs', () => {
    const recorded = [1.5, 3.5, 1.8, 1.2, 1.1].flatMap((rate, w) => [
      errors(rate, 1000, 24 * 7 * (w + 1)),
      obs('support-tickets-per-100', 4, 1000, 24 * 7 * (w + 1)),
    ]);
    const statuses = (ms: number) =>
      evaluateGate(small, 'pilot', recorded, { at: new Date(ms).toISOString(), rolloutStartedAt: START }).criteria.map(
        (c) => c.status,
      );
    let moment = at(1);
    for (let steps = 0; steps < 20; steps++) {
      const next = nextGateChange(small, 'pilot', recorded, { at: moment, rolloutStartedAt: START });
      if (next === null) break;
      expect(statuses(Date.parse(next) - 1)).toEqual(statuses(Date.parse(moment)));
      expect(statuses(Date.parse(next))).not.toEqual(statuses(Date.parse(moment)));
      moment = next;
    }
    expect(nextGateChange(small, 'pilot', recorded, { at: moment, rolloutStartedAt: START })).toBeNull();
  });
});

describe('nextTimingChange', () => {
  const pilot = plan.phases[0];
  it.each([
    ['13 days into a 14-day soak', 24 * 13, 24 * 14],
    ['after the soak, before the tariff-change blackout', 24 * 15, 24 * 40],
    ['inside the blackout', 24 * 41, 24 * 45],
    ['after the blackout', 24 * 46, null],
  ] as const)('timing: when %s, the next change is at hour %s', (_case, hours, next) => {
    expect(nextTimingChange(plan, pilot, START, at(hours))).toBe(next === null ? null : at(next));
  });
});

describe('checkMeasurements', () => {
  const row = {
    phase: 'pilot',
    metric: 'declaration-error-rate',
    value: 1.2,
    sampleSize: 1500,
    windowStart: '2025-03-03T00:00:00Z',
    windowEnd: '2025-03-04T00:00:00Z',
    source: 'broker-gateway',
  };

  it('batch: when two of four rows are bad, each problem names its row index and no row is returned as good', () => {
    const { rows, problems } = checkMeasurements(plan, [
      row,
      { ...row, sampleSize: -1 },
      row,
      { ...row, phase: 'wave-9' },
    ]);
    expect(rows).toHaveLength(2);
    expect(problems).toEqual([
      expect.objectContaining({ index: 1, path: 'measurements.1.sampleSize' }),
      { index: 3, path: 'measurements.3.phase', message: 'the plan has no phase wave-9' },
    ]);
  });

  it('not an object: when a row is a string, its problem names its index', () => {
    expect(checkMeasurements(plan, ['1.2']).problems).toEqual([expect.objectContaining({ index: 0 })]);
  });
});

describe('Measurement', () => {
  const row = {
    phase: 'pilot',
    metric: 'declaration-error-rate',
    value: 1.2,
    sampleSize: 1500,
    windowStart: '2025-03-03T00:00:00Z',
    windowEnd: '2025-03-04T00:00:00Z',
    source: 'broker-gateway',
  };
  it.each([
    ['a negative sample', { sampleSize: -1 }, 'sampleSize'],
    ['a fractional sample', { sampleSize: 1.5 }, 'sampleSize'],
    ['a window ending before it starts', { windowEnd: '2025-03-02T00:00:00Z' }, 'windowEnd'],
    ['an unknown metric', { metric: 'mood' }, 'metric'],
    ['an infinite value', { value: Infinity }, 'value'],
    ['no source', { source: ' ' }, 'source'],
  ] as const)('parse: when a measurement has %s, the problem is at %s', (_case, change, where) => {
    expect(Measurement.safeParse({ ...row, ...change }).error?.issues[0].path.join('.')).toBe(where);
  });
});

describe('whatIf', () => {
  // A pilot week by week: errors spike in week 2, recover by week 4; every other criterion holds.
  const weekly = [1.5, 3.5, 1.8, 1.2, 1.1].map((rate, w) =>
    obs('declaration-error-rate', rate, 1000, 24 * 7 * (w + 1)),
  );
  const steady = [
    obs('training-completion', 95, 40, 24 * 7),
    obs('security-signoff', 1, 1, 24 * 7),
    ...[1, 2, 3, 4, 5].flatMap((w) => [
      obs('support-tickets-per-100', 2, 1000, 24 * 7 * w),
      obs('throughput-vs-baseline', 97, 1000, 24 * 7 * w),
    ]),
  ];
  const recorded = [...weekly, ...steady];

  it('replay: when the recorded pilot is replayed, the result shows pass in week 1, fail in week 2, pass again in week 3', () => {
    const result = whatIf(plan, recorded, { rolloutStartedAt: START, phaseEnteredAt: { pilot: START } });
    const pilot = result.phases[0];
    expect(pilot.changes.map((c) => [c.at, c.status, c.failing])).toEqual([
      [at(24 * 7), 'pass', []],
      [at(24 * 14), 'fail', ['declaration-error-rate']],
      [at(24 * 21), 'pass', []],
    ]);
    expect(pilot.couldAdvanceAt).toBe(at(24 * 21));
    expect(pilot.reviewTriggers).toEqual([{ at: at(24 * 14), value: 3.5, sampleSize: 1000 }]);
    expect(result.phases[1]).toMatchObject({ phase: 'full', evaluations: 0, finalStatus: 'inconclusive' });
  });

  it('candidate: when the error ceiling is raised to 4%, the same data would have passed throughout and opened no review', () => {
    const lenient = RolloutPlan.parse({
      ...planInput,
      stewardship: { above: 4 },
      phases: planInput.phases.map((p) => ({
        ...p,
        exitCriteria: p.exitCriteria.map((c) => (c.metric === 'declaration-error-rate' ? { ...c, threshold: 4 } : c)),
      })),
    });
    const pilot = whatIf(lenient, recorded, { rolloutStartedAt: START, phaseEnteredAt: { pilot: START } }).phases[0];
    expect(pilot.firstFailAt).toBeNull();
    expect(pilot.couldAdvanceAt).toBe(at(24 * 14));
    expect(pilot.reviewTriggers).toEqual([]);
  });

  it('agreement: when replayed, each step equals evaluateGate at that moment', () => {
    const result = whatIf(plan, recorded, { rolloutStartedAt: START });
    for (const change of result.phases[0].changes) {
      expect(evaluateGate(plan, 'pilot', recorded, { at: change.at, rolloutStartedAt: START }).status).toBe(
        change.status,
      );
    }
  });

  it('unknown phases: when measurements name a phase the candidate lacks, the result lists it', () => {
    expect(
      whatIf(plan, [obs('declaration-error-rate', 1, 10, 1, 'wave-7')], { rolloutStartedAt: START }).unknownPhases,
    ).toEqual(['wave-7']);
  });
});
