import fs from 'node:fs';
import path from 'node:path';
import { CutoverPlan, type CutoverPlanInput } from '../../domain/cutover-plan';

/** A plan over customs declarations with every kind of comparison; small windows count as evidence. */
export const planInput: CutoverPlanInput = {
  records: { kind: 'customs-declaration', key: 'ref' },
  fields: [
    { field: 'consignment', critical: true },
    { field: 'duty', compare: { how: 'numeric', tolerance: 0.01 }, critical: true },
    { field: 'hs', compare: { how: 'code', digits: 6 } },
    {
      field: 'status',
      compare: { how: 'mapped', legacy: { CLR: 'cleared', HLD: 'held' }, new: { cleared: 'cleared', held: 'held' } },
    },
  ],
  window: 'P1D',
  thresholds: { maxDiscrepancyRate: 0.005, minRecords: 1 },
  cleanWindowsRequired: 2,
  watchWindows: 1,
  steps: {
    freeze: [{ name: 'freeze mappings', owner: 'data-steward' }],
    switch: [{ name: 'switch endpoint', owner: 'integration-specialist' }],
    decommission: [{ name: 'archive legacy', owner: 'data-steward' }],
  },
  fallback: { steps: [{ name: 'point back to legacy', owner: 'integration-specialist' }] },
};
export const plan = CutoverPlan.parse(planInput);

export type Seeds = {
  mismatch?: number[];
  critical?: number[];
  missingInNew?: number[];
  missingInLegacy?: number[];
  duplicate?: number[];
};

/** Legacy and new records for declarations 1..n, with discrepancies seeded at the given positions. */
export function windowRecords(n: number, seeds: Seeds = {}) {
  const legacy: Record<string, unknown>[] = [];
  const next: Record<string, unknown>[] = [];
  const has = (list: number[] | undefined, i: number) => list?.includes(i) ?? false;
  for (let i = 1; i <= n; i++) {
    const ref = `D${String(i).padStart(7, '0')}`;
    const duty = (i % 997) + 0.5;
    if (!has(seeds.missingInLegacy, i)) {
      legacy.push({ ref, consignment: `C${i}`, duty: duty.toFixed(2), hs: '8471.30.00', status: 'CLR' });
      if (has(seeds.duplicate, i))
        legacy.push({ ref, consignment: `C${i}`, duty: duty.toFixed(2), hs: '8471.30.00', status: 'CLR' });
    }
    if (!has(seeds.missingInNew, i)) {
      next.push({
        ref,
        consignment: has(seeds.critical, i) ? `X${i}` : `C${i}`,
        duty: duty + 0.004,
        hs: '847130',
        status: has(seeds.mismatch, i) ? 'held' : 'cleared',
      });
    }
  }
  return { legacy, next };
}

/** Writes records as NDJSON. */
export function writeNdjson(file: string, records: Record<string, unknown>[]) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

/** Writes records as CSV with a header of `columns`. */
export function writeCsv(file: string, columns: string[], records: Record<string, unknown>[]) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const rows = records.map((r) => columns.map((c) => String(r[c] ?? '')).join(','));
  fs.writeFileSync(file, [columns.join(','), ...rows].join('\n') + '\n');
}
