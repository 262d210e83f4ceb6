import type { Actor } from './actor';
import { addMs } from './duration';
import {
  acknowledge,
  addCost,
  checkWindows,
  deadlines,
  escalate,
  nextBreachAt,
  openEscalation,
  reassign,
  recordOccurrence,
  reminderDueTimes,
  reopen,
  resolve,
  stepTimings,
  toView,
  type EscalationEvent,
  type EscalationResult,
  type EscalationState,
} from './escalation';
import { EscalationPolicy } from './escalation-policy';

const policy = EscalationPolicy.parse({
  ladders: {
    normal: {
      levels: [
        {
          name: 'owner team',
          who: 'owner',
          acknowledgeWithin: 'PT4H',
          resolveWithin: 'PT24H',
          reminders: ['PT2H', 'PT12H'],
        },
        { who: { role: 'integration-specialist' }, acknowledgeWithin: 'PT4H', resolveWithin: 'PT24H' },
        {
          who: { role: 'operations' },
          acknowledgeWithin: 'PT2H',
          resolveWithin: 'PT24H',
          reminders: ['PT1H'],
          repeat: 1,
        },
      ],
      reopenWithin: 'P7D',
      quietHours: { start: '20:00', end: '07:00' },
    },
    critical: {
      levels: [{ who: { user: 'olga' }, acknowledgeWithin: 'PT15M', resolveWithin: 'PT4H' }],
    },
  },
});

const T0 = '2025-03-03T09:00:00.000Z';
const H = 3_600_000;
const hoursLater = (hours: number) => addMs(T0, hours * H);

const people = {
  omar: { id: 'omar', roles: [] },
  ines: { id: 'ines', roles: ['integration-specialist'] },
  ivan: { id: 'ivan', roles: ['integration-specialist'] },
  dana: { id: 'dana', roles: ['data-steward'] },
  opal: { id: 'opal', roles: ['operations'] },
  fay: { id: 'fay', roles: ['finance'] },
} as const satisfies Record<string, Actor>;
type Person = keyof typeof people;

function ok(result: EscalationResult): EscalationState {
  if (!result.ok) throw new Error(`expected ok, got ${result.code}: ${result.message}`);
  return result.state;
}

function opened(severity = 'normal'): EscalationState {
  return ok(
    openEscalation({
      id: 'esc-1',
      key: 'cr-7/sla',
      severity,
      title: 'Decision SLA passed on cr-7',
      owner: { user: 'omar' },
      source: { kind: 'workflow', ref: 'cr-7' },
      by: 'system',
      at: T0,
      policy,
      policyVersion: 'sha256:test',
    }),
  );
}

/** Applies every breach due up to `hours`, as the workflow does after each timer fires. */
function runUntil(state: EscalationState, hours: number): { state: EscalationState; events: EscalationEvent[] } {
  const events: EscalationEvent[] = [];
  for (let i = 0; i < 50; i++) {
    const result = checkWindows(state, hoursLater(hours));
    if (!result.ok) throw new Error(result.message);
    if (result.events.length === 0) return { state, events };
    events.push(...result.events);
    state = result.state;
  }
  throw new Error('windows never settled');
}

const atLevel2 = () => runUntil(opened(), 4).state;
const acked = (who: Person = 'omar', hours = 1) =>
  ok(acknowledge(opened(), { actor: people[who], at: hoursLater(hours) }));
const resolved = () => ok(resolve(acked(), { actor: people.omar, note: 'mapping fixed', at: hoursLater(3) }));

describe('openEscalation', () => {
  it('open: when the severity has a ladder, the result waits at level 1 for the owner', () => {
    const result = openEscalation({
      id: 'esc-1',
      key: 'k',
      severity: 'normal',
      title: ' Broker feed down ',
      owner: { user: 'omar' },
      source: { kind: 'api' },
      by: 'dana',
      at: T0,
      policy,
      policyVersion: 'v1',
    });
    expect(result.ok && result.state).toMatchObject({
      status: 'open',
      level: 1,
      title: 'Broker feed down',
      occurrences: 1,
      costRoute: null,
      steps: [{ level: 1, who: { user: 'omar' }, enteredAt: T0, assignee: null }],
    });
    expect(result.ok && result.events).toEqual([
      { type: 'OPENED', at: T0, by: 'dana', severity: 'normal', level: 1, notify: { user: 'omar' } },
    ]);
    expect(result.ok && toView(result.state).subject).toBeNull();
  });

  it('open: when the issue is about a change request, the view names it as the subject', () => {
    const result = openEscalation({
      id: 'esc-cr-7',
      key: 'cr-7',
      severity: 'normal',
      title: 'Decision SLA passed',
      owner: { role: 'ccb-chair' },
      source: { kind: 'workflow', ref: 'cr-7' },
      subject: { type: 'change-request', id: '7' },
      by: 'workflow:cr-7',
      at: T0,
      policy,
      policyVersion: 'v1',
    });
    expect(result.ok && toView(result.state).subject).toEqual({ type: 'change-request', id: '7' });
  });

  it.each([
    ['the severity has no ladder', 'severity', { severity: 'minor' }],
    ['the severity is an object property name', 'severity', { severity: 'toString' }],
    ['the title is blank', 'title', { title: ' ' }],
    ['the time is not ISO', 'at', { at: 'now' }],
    ['the subject has no id', 'subject', { subject: { type: 'change-request', id: ' ' } }],
  ] as const)('open: when %s, the result is VALIDATION_FAILED about %s', (_case, field, override) => {
    const result = openEscalation({
      id: 'esc-1',
      key: 'k',
      severity: 'normal',
      title: 'x',
      owner: { user: 'omar' },
      source: { kind: 'api' },
      by: 'dana',
      at: T0,
      policy,
      policyVersion: 'v1',
      ...override,
    });
    expect(result.ok === false && [result.code, result.message.split(':')[0]]).toEqual(['VALIDATION_FAILED', field]);
  });
});

describe('recordOccurrence', () => {
  it.each([
    ['open', 2, () => opened()],
    ['acknowledged', 2, () => acked()],
    ['resolved', 'INVALID_STATE', resolved],
  ] as const)('recordOccurrence: when the escalation is %s, the result is %s', (_status, expected, make) => {
    const result = recordOccurrence(make(), hoursLater(5));
    expect(result.ok ? result.state.occurrences : result.code).toBe(expected);
  });
});

describe('acknowledge', () => {
  it.each([
    ['the owner at level 1', 'ok', 'omar', () => opened()],
    ['a specialist at level 1', 'ROLE_REQUIRED', 'ines', () => opened()],
    ['any specialist at level 2', 'ok', 'ivan', atLevel2],
    ['the owner at level 2', 'ROLE_REQUIRED', 'omar', atLevel2],
    ['the owner a second time', 'INVALID_STATE', 'omar', () => acked()],
    ['the owner after resolution', 'INVALID_STATE', 'omar', resolved],
  ] as const)('acknowledge: when %s acknowledges, the result is %s', (_case, expected, who, make) => {
    const result = acknowledge(make(), { actor: people[who], at: hoursLater(6) });
    expect(result.ok ? 'ok' : result.code).toBe(expected);
  });

  it('acknowledge: when the owner acknowledges after 90 minutes, the result records the time to acknowledge', () => {
    const result = acknowledge(opened(), { actor: people.omar, at: hoursLater(1.5) });
    expect(result.ok && result.events).toEqual([
      { type: 'ACKNOWLEDGED', at: hoursLater(1.5), by: 'omar', level: 1, timeToAcknowledgeMs: 1.5 * H },
    ]);
    expect(result.ok && [result.state.status, deadlines(result.state)]).toEqual([
      'acknowledged',
      { acknowledgeBy: null, resolveBy: hoursLater(24) },
    ]);
  });
});

describe('resolve', () => {
  it.each([
    ['the owner at level 1', 'ok', 'omar', () => opened(), 'fixed'],
    ['the owner after it climbed to level 2', 'ok', 'omar', atLevel2, 'fixed'],
    ['a specialist at level 2', 'ok', 'ines', atLevel2, 'fixed'],
    ['finance, who is on no level', 'ROLE_REQUIRED', 'fay', atLevel2, 'fixed'],
    ['a specialist before the issue reached them', 'ROLE_REQUIRED', 'ines', () => opened(), 'fixed'],
    ['the owner with a blank note', 'VALIDATION_FAILED', 'omar', () => opened(), '  '],
    ['the owner a second time', 'INVALID_STATE', 'omar', resolved, 'again'],
  ] as const)('resolve: when %s resolves, the result is %s', (_case, expected, who, make, note) => {
    const result = resolve(make(), { actor: people[who], note, at: hoursLater(5) });
    expect(result.ok ? 'ok' : result.code).toBe(expected);
  });

  it('resolve: when nobody acknowledged first, the result counts the resolution as the acknowledgement', () => {
    const result = resolve(opened(), { actor: people.omar, note: ' restarted feed ', at: hoursLater(2) });
    expect(result.ok && result.state.steps[0]).toMatchObject({
      acknowledgedAt: hoursLater(2),
      acknowledgedBy: 'omar',
      resolvedAt: hoursLater(2),
      leftBecause: 'resolved',
    });
    expect(result.ok && result.state.resolution).toEqual({ note: 'restarted feed', by: 'omar', at: hoursLater(2) });
    expect(result.ok && result.events[0]).toMatchObject({
      type: 'RESOLVED',
      timeToResolveMs: 2 * H,
      note: 'restarted feed',
    });
    expect(result.ok && [nextBreachAt(result.state), reminderDueTimes(result.state)]).toEqual([null, []]);
  });
});

describe('reassign', () => {
  it.each([
    ['a specialist hands level 2 to another specialist', 'ok', 'ines', 'ivan', atLevel2],
    ['a specialist hands level 2 to a data steward', 'ROLE_REQUIRED', 'ines', 'dana', atLevel2],
    ['finance hands level 2 to a specialist', 'ROLE_REQUIRED', 'fay', 'ivan', atLevel2],
    ['the owner hands their level to a colleague', 'ok', 'omar', 'dana', () => opened()],
    ['the owner hands over after resolution', 'INVALID_STATE', 'omar', 'dana', resolved],
  ] as const)('reassign: when %s, the result is %s', (_case, expected, by, to, make) => {
    const result = reassign(make(), { actor: people[by], to: people[to], at: hoursLater(5) });
    expect(result.ok ? 'ok' : result.code).toBe(expected);
  });

  it('reassign: when level 2 is handed to one user who then stays silent, the breach names that user', () => {
    const handed = ok(
      reassign(atLevel2(), { actor: people.ines, to: people.ivan, reason: 'on call', at: hoursLater(5) }),
    );
    expect(acknowledge(handed, { actor: people.ivan, at: hoursLater(6) }).ok).toBe(true);
    const { events } = runUntil(handed, 8);
    expect(events[0]).toMatchObject({ type: 'CLIMBED', from: 2, to: 3, failedToRespond: { user: 'ivan' } });
    expect(nextBreachAt(handed)).toBe(hoursLater(8));
  });
});

describe('escalate', () => {
  it.each([
    ['the owner skips to level 2', 'ok', 'omar', undefined, 'customs portal rejecting all', () => opened()],
    ['the owner skips to level 3', 'ok', 'omar', 3, 'duty miscalculated', () => opened()],
    ['the owner names the current level', 'VALIDATION_FAILED', 'omar', 1, 'x', () => opened()],
    ['the owner names a level past the top', 'VALIDATION_FAILED', 'omar', 4, 'x', () => opened()],
    ['the owner gives no reason', 'VALIDATION_FAILED', 'omar', undefined, ' ', () => opened()],
    ['finance escalates', 'ROLE_REQUIRED', 'fay', undefined, 'x', () => opened()],
    ['operations escalates from the top', 'INVALID_STATE', 'opal', undefined, 'x', () => runUntil(opened(), 8).state],
    ['the owner escalates after resolution', 'INVALID_STATE', 'omar', undefined, 'x', resolved],
  ] as const)('escalate: when %s, the result is %s', (_case, expected, who, toLevel, reason, make) => {
    const result = escalate(make(), { actor: people[who], reason, toLevel, at: hoursLater(1) });
    expect(result.ok ? 'ok' : result.code).toBe(expected);
  });

  it('escalate: when the owner skips a level, the result notifies the new level with fresh windows', () => {
    const result = escalate(acked(), { actor: people.omar, reason: ' tariff table corrupt ', at: hoursLater(2) });
    expect(result.ok && result.events).toEqual([
      {
        type: 'ESCALATED',
        at: hoursLater(2),
        by: 'omar',
        from: 1,
        to: 2,
        reason: 'tariff table corrupt',
        notify: { role: 'integration-specialist' },
      },
    ]);
    expect(result.ok && result.state.status).toBe('open');
    expect(result.ok && result.state.steps[0]).toMatchObject({ leftAt: hoursLater(2), leftBecause: 'escalated' });
    expect(result.ok && deadlines(result.state)).toEqual({ acknowledgeBy: hoursLater(6), resolveBy: hoursLater(26) });
  });
});

describe('checkWindows', () => {
  it.each([
    ['nobody acknowledges before 4 h', 3.99, [], () => opened()],
    ['nobody acknowledges within 4 h', 4, [['CLIMBED', 1, 'acknowledge', { user: 'omar' }, 4]], () => opened()],
    [
      'the owner acknowledged but did not resolve in 24 h',
      24,
      [['CLIMBED', 1, 'resolve', { user: 'omar' }, 24]],
      () => acked(),
    ],
    [
      'nobody answers at any level',
      13,
      [
        ['CLIMBED', 1, 'acknowledge', { user: 'omar' }, 4],
        ['CLIMBED', 2, 'acknowledge', { role: 'integration-specialist' }, 8],
        ['LEVEL_REPEATED', 3, 'acknowledge', { role: 'operations' }, 10],
        ['SLA_BREACHED', 3, 'acknowledge', { role: 'operations' }, 12],
      ],
      () => opened(),
    ],
    ['the issue was resolved', 100, [], resolved],
  ] as const)('checkWindows: when %s, the breaches by %d h are %j', (_case, hours, expected, make) => {
    const { events } = runUntil(make(), hours);
    expect(
      events.map((e) =>
        'failedToRespond' in e
          ? [
              e.type,
              'from' in e ? e.from : e.level,
              e.window,
              e.failedToRespond,
              (Date.parse(e.at) - Date.parse(T0)) / H,
            ]
          : [e.type],
      ),
    ).toEqual(expected);
  });

  it('checkWindows: when the top level keeps failing, the result records each breach and keeps the first time', () => {
    const { state, events } = runUntil(opened(), 16);
    expect(events.filter((e) => e.type === 'SLA_BREACHED').map((e) => e.type === 'SLA_BREACHED' && e.count)).toEqual([
      1, 2, 3,
    ]);
    expect(state.slaBreachedAt).toBe(hoursLater(12));
    expect(state.breaches.map((b) => b.outcome)).toEqual([
      'climbed',
      'climbed',
      'repeated',
      'top-level',
      'top-level',
      'top-level',
    ]);
    expect(state.status).toBe('open');
  });

  it('checkWindows: when the ladder climbs, the new step starts at the deadline, not at the late check', () => {
    const { state } = runUntil(opened(), 5);
    expect(state.steps.map((s) => [s.level, s.enteredAt, s.leftAt, s.leftBecause])).toEqual([
      [1, T0, hoursLater(4), 'climbed'],
      [2, hoursLater(4), null, null],
    ]);
    expect(nextBreachAt(state)).toBe(hoursLater(8));
  });

  it('checkWindows: when nothing is due, the result is the same state with no events', () => {
    const state = opened();
    expect(checkWindows(state, hoursLater(1))).toEqual({ ok: true, state, events: [] });
  });
});

describe('reminders', () => {
  it.each([
    [
      'level 1 opened at 09:00 with reminders at 2 h and 12 h',
      [hoursLater(2), '2025-03-04T07:00:00.000Z'],
      () => opened(),
    ],
    ['level 3 after a repeat at 19:00', ['2025-03-04T07:00:00.000Z'], () => runUntil(opened(), 10).state],
    ['a resolved escalation', [], resolved],
  ] as const)('reminderDueTimes: for %s, reminders outside quiet hours are %j', (_case, expected, make) => {
    expect(reminderDueTimes(make())).toEqual(expected);
  });
});

describe('addCost', () => {
  const cost = (amount: number, at: string, note = 'demurrage') => ({ amount, currency: 'USD', note, by: 'fay', at });
  const apply = (list: readonly (readonly [number, string])[], other = 0) =>
    list.reduce<{ state: EscalationState; events: EscalationEvent[] }>(
      (acc, [amount, at]) => {
        const result = addCost(acc.state, cost(amount, at), { otherCostsInCycleCents: other });
        if (!result.ok) throw new Error(result.message);
        return { state: result.state, events: [...acc.events, ...result.events] };
      },
      { state: opened(), events: [] },
    );

  it.each([
    ['one cost of $9,999.99', 'finance', [[9_999.99, hoursLater(1)]], 0, [[null, 'finance']]],
    ['one cost of $10,000', 'operations', [[10_000, hoursLater(1)]], 0, [[null, 'operations']]],
    [
      'costs split across the month that stay under $10,000',
      'finance',
      [
        [6_000, '2025-03-03T10:00:00Z'],
        [3_999.99, '2025-03-28T10:00:00Z'],
      ],
      0,
      [[null, 'finance']],
    ],
    [
      'costs split across the month that reach $10,000',
      'operations',
      [
        [6_000, '2025-03-03T10:00:00Z'],
        [3_999.99, '2025-03-28T10:00:00Z'],
        [0.01, '2025-03-31T23:59:00Z'],
      ],
      0,
      [
        [null, 'finance'],
        ['finance', 'operations'],
      ],
    ],
    [
      '$5,000 when other issues booked $5,000 this month',
      'operations',
      [[5_000, hoursLater(1)]],
      500_000,
      [[null, 'operations']],
    ],
    [
      'a new month after $12,000',
      'finance',
      [
        [12_000, '2025-03-20T10:00:00Z'],
        [2_000, '2025-04-01T00:00:00Z'],
      ],
      0,
      [
        [null, 'operations'],
        ['operations', 'finance'],
      ],
    ],
  ] as const)('addCost: when an issue carries %s, the cycle goes to %s', (_case, route, list, other, routings) => {
    const { state, events } = apply(list, other);
    expect(state.costRoute).toBe(route);
    expect(
      events.filter((e) => e.type === 'COST_ROUTED').map((e) => e.type === 'COST_ROUTED' && [e.from, e.to]),
    ).toEqual(routings);
    expect(state.costs.map((c) => c.cycle)).toEqual(list.map(([, at]) => at.slice(0, 7)));
  });

  it('addCost: when a cost is added, the event carries the entry in cents and the cycle total', () => {
    const result = addCost(opened(), cost(1_250.5, hoursLater(1), ' storage fees '), { otherCostsInCycleCents: 100 });
    expect(result.ok && result.events[0]).toEqual({
      type: 'COST_ADDED',
      at: hoursLater(1),
      by: 'fay',
      entry: {
        amountCents: 125_050,
        currency: 'USD',
        note: 'storage fees',
        by: 'fay',
        at: hoursLater(1),
        cycle: '2025-03',
      },
      cycleTotalCents: 125_150,
      route: 'finance',
    });
  });

  it.each([
    ['a zero amount', 'amount', { amount: 0 }],
    ['a negative amount', 'amount', { amount: -5 }],
    ['fractions of a cent', 'amount', { amount: 10.001 }],
    ['another currency', 'currency', { currency: 'EUR' }],
    ['a blank note', 'note', { note: ' ' }],
  ] as const)('addCost: when the cost has %s, the result is VALIDATION_FAILED about %s', (_case, field, override) => {
    const result = addCost(opened(), { ...cost(100, hoursLater(1)), ...override });
    expect(result.ok === false && [result.code, result.message.split(':')[0]]).toEqual(['VALIDATION_FAILED', field]);
  });

  it.each([
    ['$9,999.99 including this cost', 999_999, 'finance'],
    ['exactly $10,000 including this cost', 1_000_000, 'operations'],
  ] as const)('addCost: when the ledger booked the cycle to %s, the cycle goes to %s', (_case, total, route) => {
    const result = addCost(opened(), cost(2_500, hoursLater(1)), { cycleTotalCents: total });
    expect(result.ok && result.events[0]).toMatchObject({ type: 'COST_ADDED', cycleTotalCents: total, route });
  });

  it("addCost: when the ledger's cycle total is below the issue's own costs, the result is VALIDATION_FAILED", () => {
    const result = addCost(opened(), cost(2_500, hoursLater(1)), { cycleTotalCents: 249_999 });
    expect(result.ok === false && [result.code, result.message.split(':')[0]]).toEqual(['VALIDATION_FAILED', 'ledger']);
  });

  it('addCost: when the issue is already resolved, the result still books the cost', () => {
    expect(addCost(resolved(), cost(100, hoursLater(10))).ok).toBe(true);
  });
});

describe('reopen', () => {
  it.each([
    ['the owner within the window', 'ok', 'omar', 'still failing', () => resolved(), 3 + 7 * 24],
    ['the owner after the window', 'INVALID_STATE', 'omar', 'still failing', () => resolved(), 3 + 7 * 24 + 0.01],
    ['the owner of an open issue', 'INVALID_STATE', 'omar', 'x', () => opened(), 5],
    ['the owner without a reason', 'VALIDATION_FAILED', 'omar', ' ', () => resolved(), 5],
    ['finance', 'ROLE_REQUIRED', 'fay', 'x', () => resolved(), 5],
  ] as const)('reopen: when %s reopens, the result is %s', (_case, expected, who, reason, make, hours) => {
    const result = reopen(make(), { actor: people[who], reason, at: hoursLater(hours) });
    expect(result.ok ? 'ok' : result.code).toBe(expected);
  });

  it('reopen: when reopened, the result waits at the resolving level again with fresh windows', () => {
    const result = reopen(resolved(), { actor: people.omar, reason: 'errors are back', at: hoursLater(30) });
    expect(result.ok && result.state).toMatchObject({ status: 'open', level: 1, reopenCount: 1, resolution: null });
    expect(result.ok && result.state.steps.map((s) => s.enteredAt)).toEqual([T0, hoursLater(30)]);
    expect(result.ok && nextBreachAt(result.state)).toBe(hoursLater(34));
    expect(result.ok && result.events).toEqual([
      {
        type: 'REOPENED',
        at: hoursLater(30),
        by: 'omar',
        level: 1,
        reason: 'errors are back',
        notify: { user: 'omar' },
      },
    ]);
  });
});

describe('timings and view', () => {
  it('stepTimings: when an issue is acknowledged, climbs and is resolved, the result measures each level from its start', () => {
    let state = acked('omar', 1);
    state = runUntil(state, 24).state;
    state = ok(acknowledge(state, { actor: people.ines, at: hoursLater(25) }));
    state = ok(resolve(state, { actor: people.ines, note: 'done', at: hoursLater(26.5) }));
    expect(stepTimings(state)).toEqual([
      { level: 1, enteredAt: T0, timeToAcknowledgeMs: 1 * H, timeToResolveMs: null },
      { level: 2, enteredAt: hoursLater(24), timeToAcknowledgeMs: 1 * H, timeToResolveMs: 2.5 * H },
    ]);
  });

  it('toView: when an escalation is open, the result shows who must answer and by when, without the ladder', () => {
    const view = toView(atLevel2());
    expect(view).not.toHaveProperty('ladder');
    expect(view).toMatchObject({
      level: 2,
      topLevel: 3,
      levelName: null,
      responsible: { role: 'integration-specialist' },
      acknowledgeBy: hoursLater(8),
      resolveBy: hoursLater(28),
      reopenableUntil: null,
    });
    expect(toView(resolved())).toMatchObject({
      responsible: null,
      levelName: 'owner team',
      reopenableUntil: hoursLater(171),
    });
  });

  it('state: when an escalation has climbed, carried costs and been resolved, the result survives a JSON round trip', () => {
    let state = runUntil(opened(), 9).state;
    state = ok(addCost(state, { amount: 10, currency: 'USD', note: 'n', by: 'fay', at: hoursLater(9) }));
    state = ok(resolve(state, { actor: people.opal, note: 'ok', at: hoursLater(9.5) }));
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });
});
