import path from 'node:path';
import { loadPolicyFile } from '../policies/load';
import { blackoutAt, phaseNamed, RolloutPlan, validateRolloutPlan, type RolloutPlanInput } from './rollout-plan';

const H = 3_600_000;
const D = 24 * H;

const minimal: RolloutPlanInput = {
  phases: [
    {
      name: 'pilot',
      cohort: { sites: ['rotterdam-1'] },
      minimumSoak: 'P14D',
      exitCriteria: [{ metric: 'declaration-error-rate', comparator: '<=', threshold: 2 }],
    },
  ],
};

describe('RolloutPlan', () => {
  it('parse: when only phases are given, the seeds fill the rest: 30-day first month, review above 2% within 48 hours', () => {
    const plan = RolloutPlan.parse(minimal);
    expect(plan.firstMonth).toBe(30 * D);
    expect(plan.blackouts).toEqual([]);
    expect(plan.stewardship).toEqual({
      metric: 'declaration-error-rate',
      above: 2,
      minimumSample: 1,
      reviewWithin: 48 * H,
      escalationSeverity: 'normal',
    });
    expect(plan.phases[0].minimumSoak).toBe(14 * D);
    expect(plan.phases[0].exitCriteria[0]).toEqual({
      metric: 'declaration-error-rate',
      comparator: '<=',
      threshold: 2,
      window: 7 * D,
      minimumSample: 1,
      aggregate: 'weighted-mean',
    });
  });

  it('load: when the example plan is loaded, the result has pilot, wave-1 and full with the seeds thresholds', () => {
    const loaded = loadPolicyFile(path.join(__dirname, '../policies/rollout-plan.example.yaml'), validateRolloutPlan);
    if (!loaded.ok) throw new Error(loaded.error);
    expect(loaded.policy.phases.map((p) => p.name)).toEqual(['pilot', 'wave-1', 'full']);
    expect(loaded.version).toMatch(/^sha256:[0-9a-f]{64}$/);
    const pilot = phaseNamed(loaded.policy, 'pilot');
    const throughput = pilot?.exitCriteria.find((c) => c.metric === 'throughput-vs-baseline');
    expect(throughput).toMatchObject({ comparator: '>=', threshold: 95, firstMonthThreshold: 80 });
    expect(pilot?.rollback.map((s) => s.action)).toEqual(['switch-routing', 'notify']);
  });

  const withPhase = (change: Record<string, unknown>) => ({ phases: [{ ...minimal.phases[0], ...change }] });
  it.each([
    ['no phases', 'phases', { phases: [] }],
    ['a phase named twice', 'phases.1.name', { phases: [minimal.phases[0], minimal.phases[0]] }],
    ['an upper-case phase name', 'phases.0.name', withPhase({ name: 'Pilot' })],
    ['an empty cohort', 'phases.0.cohort', withPhase({ cohort: {} })],
    ['no exit criteria', 'phases.0.exitCriteria', withPhase({ exitCriteria: [] })],
    [
      'an unknown metric',
      'phases.0.exitCriteria.0.metric',
      withPhase({ exitCriteria: [{ metric: 'vibes', comparator: '<', threshold: 1 }] }),
    ],
    [
      'an unknown comparator',
      'phases.0.exitCriteria.0.comparator',
      withPhase({ exitCriteria: [{ metric: 'training-completion', comparator: '=>', threshold: 90 }] }),
    ],
    [
      'a negative minimum sample',
      'phases.0.exitCriteria.0.minimumSample',
      withPhase({
        exitCriteria: [{ metric: 'training-completion', comparator: '>=', threshold: 90, minimumSample: -1 }],
      }),
    ],
    ['a soak written in months', 'phases.0.minimumSoak', withPhase({ minimumSoak: 'P1M' })],
    [
      'a blackout ending before it starts',
      'blackouts.0',
      { ...minimal, blackouts: [{ name: 'q', start: '2026-01-02T00:00:00Z', end: '2026-01-01T00:00:00Z' }] },
    ],
    [
      'an unknown rollback action',
      'phases.0.rollback.0.action',
      withPhase({ rollback: [{ name: 'x', action: 'pray', target: 'y' }] }),
    ],
    ['an unknown key', '', { ...minimal, gates: [] }],
  ] as const)('validate: when a plan has %s, the problem is at "%s"', (_case, where, raw) => {
    const result = validateRolloutPlan(raw);
    expect(result.ok).toBe(false);
    const parsed = RolloutPlan.safeParse(raw);
    expect(parsed.error?.issues[0].path.join('.')).toBe(where);
  });

  const plan = RolloutPlan.parse({
    ...minimal,
    blackouts: [{ name: 'tariff change', start: '2025-12-29T00:00:00Z', end: '2026-01-03T00:00:00Z' }],
  });
  it.each([
    ['2025-12-28T23:59:59.999Z', null],
    ['2025-12-29T00:00:00.000Z', 'tariff change'],
    ['2026-01-02T23:59:59.999Z', 'tariff change'],
    ['2026-01-03T00:00:00.000Z', null],
  ] as const)('blackoutAt: when the time is %s, the blackout is %s', (at, name) => {
    expect(blackoutAt(plan, at)?.name ?? null).toBe(name);
  });
});
