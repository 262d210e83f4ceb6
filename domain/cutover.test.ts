import type { Actor } from './actor';
import {
  abort,
  decommission,
  freeze,
  openCutover,
  recordWindow,
  rehearseFallback,
  requestSwitch,
  rollback,
  type CutoverState,
  type CutoverTransition,
} from './cutover';
import { CutoverPlan } from './cutover-plan';
import { emptyCounts } from './reconcile';

const plan = CutoverPlan.parse({
  records: { kind: 'customs-declaration', key: 'ref' },
  fields: [{ field: 'duty' }],
  window: 'P1D',
  thresholds: { maxDiscrepancyRate: 0.005 },
  cleanWindowsRequired: 2,
  watchWindows: 1,
  steps: {
    freeze: [{ name: 'f', owner: 'data-steward' }],
    switch: [{ name: 's', owner: 'operations' }],
    decommission: [{ name: 'd', owner: 'operations' }],
  },
  fallback: {
    steps: [
      { name: 'point back', owner: 'operations' },
      { name: 'replay', owner: 'data-steward' },
    ],
  },
});

const AT = '2026-11-25T10:00:00.000Z';
const lead: Actor = { id: 'lena', roles: ['rollout-lead'] };
const chair: Actor = { id: 'carl', roles: ['ccb-chair'] };
const both: Actor = { id: 'bo', roles: ['rollout-lead', 'ccb-chair'] };
const member: Actor = { id: 'mo', roles: ['ccb-member'] };

function ok(t: CutoverTransition): CutoverState {
  if (!t.ok) throw new Error(`refused: ${t.code} ${t.message}`);
  return t.state;
}

function window(state: CutoverState, name: string, clean: boolean) {
  const reasons = clean ? [] : ['discrepancy rate 1% above 0.5%'];
  return recordWindow(
    state,
    { window: name, runId: `r-${name}`, rate: clean ? 0 : 0.01, clean, reasons, counts: emptyCounts(), at: AT },
    AT,
  );
}

const opened = () =>
  openCutover({ id: 'c1', changeRequestId: 'cr1', plan, planVersion: 'v1', by: 'lena', at: AT }).state;
const ready = () => ok(window(ok(window(opened(), 'w1', true)), 'w2', true));
const rehearsed = (s: CutoverState) =>
  ok(
    rehearseFallback(
      s,
      {
        actor: lead,
        steps: [
          { step: 'point back', passed: true },
          { step: 'replay', passed: true },
        ],
      },
      AT,
    ),
  );
const frozen = () => ok(freeze(rehearsed(ready()), lead, AT));
const switched = () => ok(requestSwitch(ok(requestSwitch(frozen(), lead, AT)), chair, AT));

describe('cutover: windows', () => {
  it('recordWindow: when the required clean windows follow each other, the cutover becomes ready', () => {
    const t = window(ok(window(opened(), 'w1', true)), 'w2', true);
    expect(t).toMatchObject({ ok: true, state: { status: 'ready', cleanStreak: 2 } });
    expect(t.ok && t.events.map((e) => e.type)).toEqual(['WINDOW_RECONCILED', 'READY']);
  });

  it('recordWindow: when a spike follows clean windows, the streak resets and a spike event asks for escalation', () => {
    const t = window(ok(window(opened(), 'w1', true)), 'w2', false);
    expect(t).toMatchObject({ ok: true, state: { status: 'parallel_run', cleanStreak: 0 } });
    expect(t.ok && t.events.map((e) => e.type)).toEqual(['WINDOW_RECONCILED', 'SPIKE', 'STREAK_RESET']);
  });

  it('recordWindow: when a frozen cutover spikes, the freeze is lifted and switch approvals withdrawn', () => {
    const half = ok(requestSwitch(frozen(), lead, AT));
    const t = window(half, 'w3', false);
    expect(t).toMatchObject({ ok: true, state: { status: 'parallel_run', switchRequest: {} } });
    expect(t.ok && t.events.map((e) => e.type)).toContain('UNFROZEN');
  });

  it('recordWindow: when a window is counted twice in one phase, it is refused', () => {
    expect(window(ok(window(opened(), 'w1', true)), 'w1', true)).toMatchObject({
      ok: false,
      code: 'WINDOW_ALREADY_RECONCILED',
    });
  });

  it('recordWindow: when a watch window after the switch spikes, the cutover rolls back', () => {
    const t = window(switched(), 'w9', false);
    expect(t).toMatchObject({ ok: true, state: { status: 'rolled_back' } });
    expect(t.ok && t.events.map((e) => e.type)).toEqual(['WINDOW_RECONCILED', 'SPIKE', 'ROLLED_BACK']);
  });
});

describe('cutover: switch', () => {
  it.each([
    ['the streak is short', () => ok(window(opened(), 'w1', true)), lead, 'CUTOVER_NOT_READY'],
    ['it is ready but not frozen', () => rehearsed(ready()), lead, 'INVALID_STATE'],
    ['the fallback was never rehearsed', () => ok(freeze(ready(), lead, AT)), lead, 'FALLBACK_NOT_REHEARSED'],
    [
      'the rehearsal failed',
      () =>
        ok(
          freeze(
            ok(
              rehearseFallback(
                ready(),
                {
                  actor: lead,
                  steps: [
                    { step: 'point back', passed: true },
                    { step: 'replay', passed: false },
                  ],
                },
                AT,
              ),
            ),
            lead,
            AT,
          ),
        ),
      lead,
      'FALLBACK_NOT_REHEARSED',
    ],
    [
      'the rehearsal skipped a step',
      () =>
        ok(
          freeze(
            ok(rehearseFallback(ready(), { actor: lead, steps: [{ step: 'point back', passed: true }] }, AT)),
            lead,
            AT,
          ),
        ),
      lead,
      'FALLBACK_NOT_REHEARSED',
    ],
    ['the caller is only a board member', frozen, member, 'ROLE_REQUIRED'],
    [
      'the same person would request and approve',
      () => ok(requestSwitch(frozen(), both, AT)),
      both,
      'SELF_APPROVAL_FORBIDDEN',
    ],
  ] as const)('requestSwitch: when %s, it is refused with %s', (_what, state, actor, code) => {
    expect(requestSwitch(state(), actor, AT)).toMatchObject({ ok: false, code });
  });

  it('requestSwitch: when the lead asks and the chair approves, the cutover switches naming both', () => {
    const t = requestSwitch(ok(requestSwitch(frozen(), lead, AT)), chair, AT);
    expect(t).toMatchObject({ ok: true, state: { status: 'switched' } });
    expect(t.ok && t.events.at(-1)).toEqual({ type: 'SWITCHED', at: AT, lead: 'lena', chair: 'carl' });
  });

  it('rehearseFallback: when a step is not in the plan, it is refused', () => {
    expect(rehearseFallback(ready(), { actor: lead, steps: [{ step: 'pray', passed: true }] }, AT)).toMatchObject({
      ok: false,
      code: 'VALIDATION_FAILED',
    });
  });
});

describe('cutover: ending', () => {
  it('decommission: when no watch window passed yet, it is refused with WATCH_INCOMPLETE', () => {
    expect(decommission(switched(), lead, AT)).toMatchObject({ ok: false, code: 'WATCH_INCOMPLETE' });
  });

  it('decommission: when the watch windows passed clean, the legacy system is retired', () => {
    expect(decommission(ok(window(switched(), 'w9', true)), lead, AT)).toMatchObject({
      ok: true,
      state: { status: 'decommissioned', closedAt: AT },
    });
  });

  it.each([
    ['rollback before the switch', () => rollback(frozen(), lead, 'no', AT), 'INVALID_STATE'],
    ['abort after the switch', () => abort(switched(), chair, 'no', AT), 'INVALID_STATE'],
    ['freeze before ready', () => freeze(opened(), lead, AT), 'CUTOVER_NOT_READY'],
    ['abort by a board member', () => abort(opened(), member, 'no', AT), 'ROLE_REQUIRED'],
  ] as const)('%s is refused with %s', (_what, attempt, code) => {
    expect(attempt()).toMatchObject({ ok: false, code });
  });

  it.each([
    ['rollback after the switch', () => rollback(switched(), chair, 'customs rejects', AT), 'rolled_back'],
    ['abort during the parallel run', () => abort(opened(), lead, 'vendor withdrew', AT), 'aborted'],
  ] as const)('%s ends the cutover as %s', (_what, attempt, status) => {
    expect(attempt()).toMatchObject({ ok: true, state: { status, closedAt: AT } });
  });
});
