import { CutoverPlan } from './cutover-plan';
import {
  addCounts,
  emptyCounts,
  formatRate,
  judgeWindow,
  normaliseCode,
  parseAmount,
  reconcileRecords,
  type SourceRecord,
} from './reconcile';

const plan = CutoverPlan.parse({
  records: { kind: 'customs-declaration', key: 'ref' },
  fields: [
    { field: 'duty', compare: { how: 'numeric', tolerance: 0.01 }, critical: true },
    { field: 'value', compare: { how: 'numeric', relative: 0.001 } },
    { field: 'hs', compare: { how: 'code', digits: 6 } },
    {
      field: 'status',
      compare: { how: 'mapped', legacy: { CLR: 'cleared', HLD: 'held' }, new: { cleared: 'cleared', held: 'held' } },
    },
    { field: 'currency', newField: 'ccy', compare: { how: 'exact', ignoreCase: true } },
  ],
  window: 'P1D',
  thresholds: { maxDiscrepancyRate: 0.005 },
  cleanWindowsRequired: 5,
  steps: {
    freeze: [{ name: 'f', owner: 'data-steward' }],
    switch: [{ name: 's', owner: 'operations' }],
    decommission: [{ name: 'd', owner: 'operations' }],
  },
  fallback: { steps: [{ name: 'b', owner: 'operations' }] },
});

const legacyBase = { ref: 'D1', duty: '100.00', value: '5000', hs: '8471.30.00', status: 'CLR', currency: 'EUR' };
const newBase = { ref: 'D1', duty: 100, value: 5000, hs: '847130', status: 'cleared', ccy: 'eur' };

function pair(legacy: SourceRecord, next: SourceRecord) {
  return reconcileRecords(plan, [{ ...legacyBase, ...legacy }], [{ ...newBase, ...next }]);
}

describe('reconcile: field comparison', () => {
  it.each([
    ['duty within the 0.01 tolerance', { duty: '100.004' }, {}],
    ['duty exactly at the tolerance', { duty: '100.01' }, {}],
    ['value within 0.1 % relative', {}, { value: '5004.9' }],
    ['an HS code written with dots and spaces', { hs: ' 8471 30 00' }, { hs: '8471.30.99' }],
    ['status codes that map to the same value', { status: 'clr' }, {}],
    ['currency in another case, under a renamed field', {}, { ccy: 'EUR' }],
    ['a field absent on both sides', { currency: undefined }, { ccy: '' }],
  ] as const)('when %s, the pair is matched', (_what, legacy, next) => {
    const r = pair(legacy, next);
    expect(r.discrepancies).toEqual([]);
    expect(r.counts).toMatchObject({ matched: 1, mismatched: 0, discrepantKeys: 0 });
  });

  it.each([
    ['duty beyond the tolerance', { duty: '100.02' }, {}, 'duty', 'different', true],
    ['value beyond 0.1 % relative', {}, { value: 5006 }, 'value', 'different', false],
    ['a non-numeric duty', { duty: '1OO' }, {}, 'duty', 'not-a-number', true],
    ['HS codes differing in the first six digits', {}, { hs: '847141' }, 'hs', 'different', false],
    ['status codes mapping to different values', {}, { status: 'held' }, 'status', 'different', false],
    ['a legacy status with no mapping', { status: 'XXX' }, {}, 'status', 'unmapped', false],
    ['a field only one side has', {}, { ccy: null }, 'currency', 'missing', false],
  ] as const)('when %s, the pair is mismatched on %s (%s)', (_what, legacy, next, field, reason, critical) => {
    const r = pair(legacy, next);
    expect(r.discrepancies).toEqual([
      {
        kind: 'mismatch',
        key: 'D1',
        legacyLine: 1,
        newLine: 1,
        critical,
        differences: [expect.objectContaining({ field, reason, critical })],
      },
    ]);
    expect(r.counts).toMatchObject({ mismatched: 1, criticalMismatches: critical ? 1 : 0, discrepantKeys: 1 });
  });

  it('when several fields differ, every difference is listed with both values', () => {
    const r = pair({ duty: '7', status: 'HLD' }, {});
    expect(r.discrepancies[0]).toMatchObject({
      differences: [
        { field: 'duty', legacy: '7', new: '100', reason: 'different', critical: true },
        { field: 'status', legacy: 'HLD', new: 'cleared', reason: 'different', critical: false },
      ],
    });
  });
});

describe('reconcile: keys', () => {
  const L = (ref: string | undefined, extra: SourceRecord = {}) => ({ ...legacyBase, ref, ...extra });
  const N = (ref: string | undefined, extra: SourceRecord = {}) => ({ ...newBase, ref, ...extra });

  it('when the sides list keys in different orders, every key is matched', () => {
    const r = reconcileRecords(plan, [L('A'), L('B'), L('C')], [N('C'), N('A'), N('B')]);
    expect(r.counts).toMatchObject({ keys: 3, matched: 3, discrepantKeys: 0 });
  });

  it('when a key exists on one side only, it is reported as missing on the other with its line', () => {
    const r = reconcileRecords(plan, [L('A'), L('B')], [N('A'), N('C')]);
    expect(r.discrepancies).toEqual(
      expect.arrayContaining([
        { kind: 'missing_in_new', key: 'B', legacyLine: 2 },
        { kind: 'missing_in_legacy', key: 'C', newLine: 2 },
      ]),
    );
    expect(r.counts).toMatchObject({ keys: 3, matched: 1, missingInNew: 1, missingInLegacy: 1, discrepantKeys: 2 });
  });

  it('when a side repeats a key, the repeat is a duplicate pointing at the first line and the key is discrepant once', () => {
    const r = reconcileRecords(plan, [L('A'), L('A'), L('A')], [N('A')]);
    expect(r.discrepancies).toEqual([
      { kind: 'duplicate', key: 'A', side: 'legacy', line: 2, firstLine: 1 },
      { kind: 'duplicate', key: 'A', side: 'legacy', line: 3, firstLine: 1 },
    ]);
    expect(r.counts).toMatchObject({ keys: 1, matched: 1, duplicates: 2, discrepantKeys: 1, legacyRecords: 3 });
  });

  it('when a record has no key, it is reported as a problem with its line and not counted', () => {
    const r = reconcileRecords(plan, [L('A'), L(undefined)], [N('A'), N('  ')]);
    expect(r.problems).toEqual([
      { side: 'legacy', line: 2, message: 'the record has no key' },
      { side: 'new', line: 2, message: 'the record has no key' },
    ]);
    expect(r.counts).toMatchObject({ keys: 1, legacyRecords: 1, newRecords: 1 });
  });

  it('when the key has several fields, only records agreeing on all of them pair up', () => {
    const composite = { ...plan, records: { kind: 'line', key: ['ref', 'line'] } };
    const r = reconcileRecords(composite, [L('A', { line: 1 }), L('A', { line: 2 })], [N('A', { line: '2' })]);
    expect(r.discrepancies).toEqual([{ kind: 'missing_in_new', key: 'A / 1', legacyLine: 1 }]);
  });
});

describe('reconcile: window verdict', () => {
  const counts = (keys: number, discrepantKeys: number, criticalMismatches = 0) => ({
    ...emptyCounts(),
    keys,
    discrepantKeys,
    criticalMismatches,
  });

  it.each([
    ['0.5 % discrepant', counts(1000, 5), true, 0.005],
    ['0.6 % discrepant', counts(1000, 6), false, 0.006],
    ['no discrepancy but one critical mismatch', counts(1000, 0, 1), false, 0],
    ['no keys at all', counts(0, 0), false, 0],
  ] as const)('when a window is %s, clean is %s', (_what, c, clean, rate) => {
    const v = judgeWindow(c, plan.thresholds);
    expect(v.clean).toBe(clean);
    expect(v.rate).toBeCloseTo(rate, 10);
    expect(v.reasons.length === 0).toBe(clean);
  });

  it('when parts of a window are added, the counts are their sums', () => {
    expect(addCounts(counts(3, 1, 1), counts(4, 2))).toMatchObject({
      keys: 7,
      discrepantKeys: 3,
      criticalMismatches: 1,
    });
  });

  it.each([
    [0.005, '0.5%'],
    [0.0012345, '0.123%'],
  ] as const)('formatRate: %d reads %s', (rate, text) => expect(formatRate(rate)).toBe(text));
});

describe('reconcile: normalisation helpers', () => {
  it.each([
    ['8471.30.00', undefined, '84713000'],
    ['8471 30-00', 6, '847130'],
    ['ab-12', undefined, 'AB12'],
  ] as const)('normaliseCode: %s (digits %s) is %s', (code, digits, expected) =>
    expect(normaliseCode(code, digits)).toBe(expected),
  );

  it.each([
    ['12.50', 12.5],
    [' -3 ', -3],
    ['.5', 0.5],
    ['1e3', 1000],
    ['1,000', null],
    ['', null],
    ['abc', null],
  ] as const)('parseAmount: %j is %s', (text, value) => expect(parseAmount(text)).toBe(value));
});
