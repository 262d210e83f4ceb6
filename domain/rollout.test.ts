import type { Actor } from './actor';
import type { GateResult } from './gate';
import {
  advance,
  closeReview,
  hold,
  openReview,
  readiness,
  resume,
  rollback,
  startRollout,
  toView,
  type RolloutResult,
  type RolloutState,
} from './rollout';
import { RolloutPlan } from './rollout-plan';

const H = 3_600_000;
const T0 = '2025-03-03T00:00:00.000Z';
const at = (hours: number) => new Date(Date.parse(T0) + hours * H).toISOString();
const crit = [{ metric: 'declaration-error-rate', comparator: '<=', threshold: 2 }];
const plan = RolloutPlan.parse({
  blackouts: [{ name: 'quarter close', start: at(24 * 20), end: at(24 * 22) }],
  phases: [
    {
      name: 'pilot',
      cohort: { sites: ['s1'] },
      minimumSoak: 'P14D',
      exitCriteria: crit,
      rollback: [{ name: 'route to legacy', action: 'switch-routing', target: 'legacy' }],
    },
    {
      name: 'wave-1',
      cohort: { sites: ['s1', 's2'] },
      minimumSoak: 'P7D',
      exitCriteria: crit,
      rollback: [{ name: 'disable v3', action: 'disable-integration', target: 'api-v3' }],
    },
    { name: 'full', cohort: { declarationTypes: ['IM'] }, minimumSoak: 'P7D', exitCriteria: crit },
  ],
});

const people = {
  lena: { id: 'lena', roles: ['rollout-lead'] },
  carl: { id: 'carl', roles: ['ccb-chair'] },
  dora: { id: 'dora', roles: ['data-steward'] },
  mo: { id: 'mo', roles: ['ccb-member'] },
} as const satisfies Record<string, Actor>;

function ok(result: RolloutResult): RolloutState {
  if (!result.ok) throw new Error(`expected ok, got ${result.code}: ${result.message}`);
  return result.state;
}
const started = () =>
  ok(startRollout({ id: 'r1', changeRequestId: 'cr-1', plan, policyVersion: 'sha256:x', by: 'lena', at: T0 }));
const gate = (phase: string, status: GateResult['status'], when = at(24 * 15)): GateResult => ({
  phase,
  at: when,
  status,
  criteria: [
    {
      metric: 'declaration-error-rate',
      comparator: '<=',
      threshold: 2,
      allowance: false,
      value: status === 'pass' ? 1 : status === 'fail' ? 3 : null,
      sample: status === 'inconclusive' ? 0 : 1000,
      measurements: status === 'inconclusive' ? 0 : 1,
      status,
      reason: 'r',
    },
  ],
});

describe('advance', () => {
  it.each([
    ['a rollout lead, gate passing, soak served', 'lena', 24 * 15, 'pass', undefined, null],
    ['a rollout lead, gate failing', 'lena', 24 * 15, 'fail', undefined, 'GATE_NOT_MET'],
    ['a rollout lead, gate inconclusive', 'lena', 24 * 15, 'inconclusive', undefined, 'GATE_NOT_MET'],
    ['a rollout lead, 13 days into a 14-day soak', 'lena', 24 * 13, 'pass', undefined, 'SOAK_INCOMPLETE'],
    ['a rollout lead, inside the quarter-close blackout', 'lena', 24 * 21, 'pass', undefined, 'BLACKOUT'],
    ['a board member', 'mo', 24 * 15, 'pass', undefined, 'ROLE_REQUIRED'],
    ['the chair without override', 'carl', 24 * 15, 'pass', undefined, 'ROLE_REQUIRED'],
    ['the chair overriding a failing gate', 'carl', 24 * 15, 'fail', { reason: 'pilot broker outage' }, null],
    ['the chair overriding an unserved soak', 'carl', 24 * 2, 'pass', { reason: 'regulator deadline' }, null],
    ['the chair overriding without a reason', 'carl', 24 * 15, 'fail', { reason: ' ' }, 'VALIDATION_FAILED'],
    ['a rollout lead trying to override', 'lena', 24 * 15, 'fail', { reason: 'x' }, 'ROLE_REQUIRED'],
    ['the chair overriding in a blackout', 'carl', 24 * 21, 'fail', { reason: 'x' }, 'BLACKOUT'],
  ] as const)('advance: when %s, the refusal is %s', (_case, who, hours, status, override, code) => {
    const result = advance(
      started(),
      { actor: people[who], at: at(hours), override },
      gate('pilot', status, at(hours)),
    );
    expect(result.ok ? null : result.code).toBe(code);
  });

  it('GATE_NOT_MET: when the gate fails, the refusal lists the failing criteria', () => {
    const result = advance(started(), { actor: people.lena, at: at(24 * 15) }, gate('pilot', 'fail'));
    if (result.ok) throw new Error('expected a refusal');
    expect(result.message).toContain('declaration-error-rate fail');
    expect((result.details?.failing as { metric: string }[]).map((c) => c.metric)).toEqual(['declaration-error-rate']);
  });

  it('override: when the chair overrides, the event records who, why and what was overridden', () => {
    const result = advance(
      started(),
      { actor: people.carl, at: at(24 * 2), override: { reason: 'regulator deadline' } },
      gate('pilot', 'fail', at(24 * 2)),
    );
    if (!result.ok) throw new Error(result.message);
    expect(result.events).toEqual([
      expect.objectContaining({
        type: 'OVERRIDDEN',
        by: 'carl',
        from: 'pilot',
        to: 'wave-1',
        reason: 'regulator deadline',
        overrode: ['GATE_NOT_MET', 'SOAK_INCOMPLETE'],
      }),
    ]);
    expect(result.state.visits[0].leftBecause).toBe('overridden');
  });

  it('pilot -> full: when every gate passes in turn, the rollout completes after the last phase', () => {
    let s = ok(advance(started(), { actor: people.lena, at: at(24 * 15) }, gate('pilot', 'pass')));
    s = ok(advance(s, { actor: people.lena, at: at(24 * 23) }, gate('wave-1', 'pass', at(24 * 23))));
    const done = advance(s, { actor: people.lena, at: at(24 * 31) }, gate('full', 'pass', at(24 * 31)));
    if (!done.ok) throw new Error(done.message);
    expect(done.state.status).toBe('completed');
    expect(done.events.map((e) => e.type)).toEqual(['COMPLETED']);
    expect(done.state.visits.map((v) => [v.phase, v.leftBecause])).toEqual([
      ['pilot', 'advanced'],
      ['wave-1', 'advanced'],
      ['full', 'completed'],
    ]);
  });

  it('conflict: when the caller names a phase the rollout has left, the result is CONFLICT', () => {
    const result = advance(started(), { actor: people.lena, at: at(24 * 15), from: 'wave-1' }, gate('pilot', 'pass'));
    expect(result.ok ? null : result.code).toBe('CONFLICT');
  });
});

describe('hold, resume, rollback', () => {
  it.each([
    ['lena', 'hold', null],
    ['dora', 'hold', null],
    ['mo', 'hold', 'ROLE_REQUIRED'],
  ] as const)('hold: when %s holds, the refusal is %s', (who, _a, code) => {
    const result = hold(started(), { actor: people[who], reason: 'mapping errors', at: at(1) });
    expect(result.ok ? null : result.code).toBe(code);
  });

  it('held: when held, advance is refused and resume lets it run again', () => {
    const held = ok(hold(started(), { actor: people.lena, reason: 'r', at: at(1) }));
    const refused = advance(held, { actor: people.lena, at: at(24 * 15) }, gate('pilot', 'pass'));
    expect(refused.ok ? null : refused.code).toBe('ROLLOUT_NOT_ACTIVE');
    expect(ok(resume(held, { actor: people.lena, at: at(2) })).status).toBe('active');
  });

  it.each([
    ['previous', 'wave-1', 'pilot', 'active', ['disable v3']],
    ['start', 'wave-1', null, 'rolled-back', ['disable v3', 'route to legacy']],
  ] as const)(
    'rollback: when rolling back to %s from %s, the rollout is at %s (%s) after steps %j',
    (to, _from, phase, status, steps) => {
      const wave = ok(advance(started(), { actor: people.lena, at: at(24 * 15) }, gate('pilot', 'pass')));
      const result = rollback(wave, { actor: people.lena, to, reason: 'errors', at: at(24 * 16) });
      if (!result.ok) throw new Error(result.message);
      expect(result.state.status).toBe(status);
      expect(
        result.state.status === 'rolled-back' ? null : result.state.plan.phases[result.state.phaseIndex].name,
      ).toBe(phase);
      const event = result.events[0];
      expect(event.type === 'ROLLED_BACK' ? event.steps.map((s) => s.name) : []).toEqual(steps);
    },
  );
});

describe('reviews', () => {
  const trigger = { value: 3.1, sampleSize: 1000, windowEnd: at(5) };
  const reviewed = () => ok(openReview(started(), { id: 'rv-1', phase: 'pilot', trigger, at: at(5) }));

  it('open: when the error rate breaches, a review is due 48 hours later and blocks advancing', () => {
    const s = reviewed();
    expect(s.reviews[0]).toMatchObject({ status: 'open', dueAt: at(53) });
    const refused = advance(
      s,
      { actor: people.carl, at: at(24 * 15), override: { reason: 'x' } },
      gate('pilot', 'pass'),
    );
    expect(refused.ok ? null : refused.code).toBe('REVIEW_OPEN');
  });

  it('open twice: when a review of the phase is already open, no second one opens', () => {
    const again = openReview(reviewed(), { id: 'rv-2', phase: 'pilot', trigger, at: at(6) });
    expect(again.ok && again.events).toEqual([]);
  });

  it.each([
    ['continue', 'active', 'pilot'],
    ['hold', 'held', 'pilot'],
    ['rollback', 'rolled-back', 'pilot'],
  ] as const)('close: when the steward decides %s, the rollout is %s', (decision, status, phase) => {
    const s = ok(
      closeReview(reviewed(), { id: 'rv-1', actor: people.dora, findings: 'SKU master drift', decision, at: at(20) }),
    );
    expect([s.status, s.plan.phases[s.phaseIndex].name, s.reviews[0].status]).toEqual([status, phase, 'closed']);
  });

  it.each([
    ['lena', 'SKU drift', 'ROLE_REQUIRED'],
    ['dora', '', 'VALIDATION_FAILED'],
  ] as const)('close: when %s closes with findings %j, the refusal is %s', (who, findings, code) => {
    const result = closeReview(reviewed(), {
      id: 'rv-1',
      actor: people[who],
      findings,
      decision: 'continue',
      at: at(20),
    });
    expect(result.ok ? null : result.code).toBe(code);
  });

  it('view: when a review is open, the view lists it and the time in phase', () => {
    const view = toView(reviewed(), at(10));
    expect(view.openReviews.map((r) => r.id)).toEqual(['rv-1']);
    expect(view.timeInPhaseMs).toBe(10 * H);
  });
});

describe('readiness', () => {
  const judged = (status: GateResult['status'], phase = 'pilot') => ({ ...started(), lastGate: gate(phase, status) });
  const trigger = { value: 3.1, sampleSize: 1000, windowEnd: at(5) };

  it.each([
    ['the gate passes after the soak, outside blackouts, with no review', () => judged('pass'), 24 * 15, []],
    ['the soak is not served', () => judged('pass'), 24 * 13, ['SOAK_INCOMPLETE']],
    ['a blackout runs', () => judged('pass'), 24 * 21, ['BLACKOUT']],
    ['the gate fails', () => judged('fail'), 24 * 15, ['GATE_NOT_MET']],
    ['the gate is inconclusive', () => judged('inconclusive'), 24 * 15, ['GATE_NOT_MET']],
    ['the gate has not been judged', () => started(), 24 * 15, ['GATE_NOT_MET']],
    ['the last gate judged another phase', () => judged('pass', 'wave-1'), 24 * 15, ['GATE_NOT_MET']],
    [
      'a review is open and the soak is not served',
      () => ok(openReview(judged('pass'), { id: 'rv-1', phase: 'pilot', trigger, at: at(5) })),
      24 * 2,
      ['REVIEW_OPEN', 'SOAK_INCOMPLETE'],
    ],
    [
      'the rollout is held',
      () => ok(hold(judged('pass'), { actor: people.lena, reason: 'broker outage', at: at(1) })),
      24 * 15,
      ['ROLLOUT_NOT_ACTIVE'],
    ],
  ] as const)('ready: when %s, the blockers are %j', (_case, state, hours, codes) => {
    const result = readiness(state(), at(hours));
    expect(result.blockers.map((b) => b.code)).toEqual(codes);
    expect(result.ready).toBe(codes.length === 0);
  });

  it('until: when the soak is not served, the blocker says when it will be', () => {
    expect(readiness(judged('pass'), at(24))).toMatchObject({ blockers: [{ until: at(24 * 14) }] });
  });
});
