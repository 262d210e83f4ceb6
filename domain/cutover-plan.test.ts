import { CutoverPlan, validateCutoverPlan } from './cutover-plan';
import { loadCutoverPlan } from '../policies/cutover-plan';

function rawPlan(): Record<string, any> {
  return {
    records: { kind: 'customs-declaration', key: 'declarationRef' },
    fields: [
      { field: 'dutyAmount', compare: { how: 'numeric', tolerance: 0.01 }, critical: true },
      { field: 'status' },
    ],
    window: 'P1D',
    thresholds: { maxDiscrepancyRate: 0.005 },
    cleanWindowsRequired: 5,
    steps: {
      freeze: [{ name: 'freeze mappings', owner: 'data-steward' }],
      switch: [{ name: 'switch endpoint', owner: 'integration-specialist' }],
      decommission: [{ name: 'archive', owner: 'data-steward' }],
    },
    fallback: { steps: [{ name: 'point back', owner: 'integration-specialist' }] },
  };
}

function withChange(change: (raw: Record<string, any>) => void): Record<string, any> {
  const raw = rawPlan();
  change(raw);
  return raw;
}

describe('CutoverPlan', () => {
  it('parse: when optional parts are omitted, the result has the documented defaults', () => {
    const plan = CutoverPlan.parse(rawPlan());
    expect(plan.records.key).toEqual(['declarationRef']);
    expect(plan.window).toBe(24 * 3_600_000);
    expect(plan.thresholds).toEqual({ maxDiscrepancyRate: 0.005, maxCriticalMismatches: 0, minRecords: 1 });
    expect(plan.fields[1]).toEqual({
      field: 'status',
      compare: { how: 'exact', trim: true, ignoreCase: false },
      critical: false,
    });
    expect(plan.watchWindows).toBe(3);
    expect(plan.escalationSeverity).toBe('critical');
  });

  it.each([
    ['an unknown comparison', 'fields[0].compare.how', (r: any): void => void (r.fields[0].compare = { how: 'fuzzy' })],
    [
      'a negative tolerance',
      'fields[0].compare.tolerance',
      (r: any): void => void (r.fields[0].compare.tolerance = -1),
    ],
    ['a rate above 1', 'thresholds.maxDiscrepancyRate', (r: any): void => void (r.thresholds.maxDiscrepancyRate = 2)],
    ['no clean windows', 'cleanWindowsRequired', (r: any): void => void (r.cleanWindowsRequired = 0)],
    ['a field listed twice', 'fields[2].field', (r: any) => r.fields.push({ field: 'status' })],
    ['a key field compared', 'fields[2].field', (r: any) => r.fields.push({ field: 'declarationRef' })],
    ['an unknown step owner', 'steps.freeze[0].owner', (r: any): void => void (r.steps.freeze[0].owner = 'intern')],
    ['no fallback steps', 'fallback.steps', (r: any): void => void (r.fallback.steps = [])],
    [
      'a quoted table name',
      'source.legacy.table',
      (r: any) =>
        (r.source = { legacy: { table: 'x"; drop', windowColumn: 'w' }, new: { table: 'n', windowColumn: 'w' } }),
    ],
    ['an unknown property', '(root)', (r: any): void => void (r.threshold = {})],
  ] as const)('validate: when the plan has %s, it is refused at %s', (_what, path, change) => {
    const result = validateCutoverPlan(withChange(change));
    expect(result).toMatchObject({ ok: false, path });
  });

  it('load: the shipped example validates and gets a sha256 version', () => {
    const loaded = loadCutoverPlan();
    expect(loaded).toMatchObject({ ok: true, version: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
  });
});
