import { EscalationPolicy, unknownLadders, validateEscalationPolicy } from './escalation-policy';

const H = 3_600_000;

function rawPolicy(): Record<string, any> {
  return {
    ladders: {
      normal: {
        levels: [
          { who: 'owner', acknowledgeWithin: 4, resolveWithin: 24, reminders: ['PT2H'] },
          { who: { role: 'operations' }, acknowledgeWithin: 'PT2H', resolveWithin: 'PT24H', repeat: 1 },
        ],
      },
    },
  };
}

function withChange(change: (raw: Record<string, any>) => unknown): Record<string, any> {
  const raw = rawPolicy();
  change(raw);
  return raw;
}

describe('EscalationPolicy', () => {
  it('parse: when optional parts are omitted, the result has the documented defaults', () => {
    const policy = EscalationPolicy.parse(rawPolicy());
    expect(policy.costRouting).toEqual({
      currency: 'USD',
      threshold: 10_000,
      cycle: 'calendar-month',
      below: 'finance',
      atOrAbove: 'operations',
    });
    expect(policy.ladders.normal.reopenWithin).toBe(7 * 24 * H);
    expect(policy.ladders.normal.levels[0]).toEqual({
      who: 'owner',
      acknowledgeWithin: 4 * H,
      resolveWithin: 24 * H,
      reminders: [2 * H],
      repeat: 0,
    });
  });

  it.each([
    [
      'the acknowledge window exceeds the resolve window',
      'ladders.normal.levels[0].acknowledgeWithin',
      'acknowledgeWithin exceeds resolveWithin',
      (p: any): unknown => (p.ladders.normal.levels[0].acknowledgeWithin = 30),
    ],
    [
      'a reminder falls after the resolve window',
      'ladders.normal.levels[0].reminders[0]',
      'a reminder must fall before resolveWithin',
      (p: any): unknown => (p.ladders.normal.levels[0].reminders = [25]),
    ],
    [
      'the level names an unknown role',
      'ladders.normal.levels[1].who',
      'who must be "owner"',
      (p: any): unknown => (p.ladders.normal.levels[1].who = { role: 'cfo' }),
    ],
    [
      'the level names a blank user',
      'ladders.normal.levels[1].who.user',
      'Too small',
      (p: any): unknown => (p.ladders.normal.levels[1].who = { user: ' ' }),
    ],
    [
      'repeat is negative',
      'ladders.normal.levels[1].repeat',
      'expected number to be >=0',
      (p: any): unknown => (p.ladders.normal.levels[1].repeat = -1),
    ],
    [
      'a ladder has no levels',
      'ladders.normal.levels',
      'a ladder needs at least one level',
      (p: any): unknown => (p.ladders.normal.levels = []),
    ],
    ['there are no ladders', 'ladders', 'at least one ladder is required', (p: any): unknown => (p.ladders = {})],
    [
      'a severity is not kebab-case',
      'ladders.Critical',
      'Invalid key in record',
      (p: any): unknown => (p.ladders.Critical = p.ladders.normal),
    ],
    [
      'the quiet hours are malformed',
      'ladders.normal.quietHours.start',
      'expected a time of day',
      (p: any): unknown => (p.ladders.normal.quietHours = { start: '8pm', end: '07:00' }),
    ],
    [
      'the cost threshold is negative',
      'costRouting.threshold',
      'expected number to be >0',
      (p: any): unknown => (p.costRouting = { threshold: -5 }),
    ],
    [
      'a key is misspelt',
      'ladders.normal',
      'Unrecognized key: "reopenWithn"',
      (p: any): unknown => (p.ladders.normal.reopenWithn = 'P7D'),
    ],
  ] as const)('validateEscalationPolicy: when %s, the result names %s: %s', (_case, path, problem, change) => {
    const result = validateEscalationPolicy(withChange(change));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.path).toBe(path);
    expect(result.problem).toContain(problem);
  });

  it('validateEscalationPolicy: when the policy is sound, the result is ok', () => {
    expect(validateEscalationPolicy(rawPolicy()).ok).toBe(true);
  });

  it.each([
    [['normal'], []],
    [['normal', 'critical', 'critical'], ['critical']],
    [['constructor'], ['constructor']],
  ] as const)('unknownLadders: when a policy with only "normal" is asked for %j, the result is %j', (refs, missing) => {
    expect(unknownLadders(EscalationPolicy.parse(rawPolicy()), refs)).toEqual(missing);
  });
});
