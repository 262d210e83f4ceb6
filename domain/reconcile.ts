import type { Compare, ComparedField, CutoverPlan, Thresholds } from './cutover-plan';

/** One record as a source produced it: field name to value (CSV gives strings, NDJSON any JSON scalar). */
export type SourceRecord = Record<string, unknown>;
export type Side = 'legacy' | 'new';

/** Why two values of one field differ. */
export type DifferenceReason = 'different' | 'missing' | 'not-a-number' | 'unmapped';

/** One field that differs between the two systems' versions of a record. */
export type FieldDifference = {
  field: string;
  legacy: string | null;
  new: string | null;
  reason: DifferenceReason;
  critical: boolean;
};

/** What reconciliation reports about one key; matched keys are counted, never reported. */
export type Discrepancy =
  | {
      kind: 'mismatch';
      key: string;
      legacyLine: number;
      newLine: number;
      critical: boolean;
      differences: FieldDifference[];
    }
  | { kind: 'missing_in_legacy'; key: string; newLine: number }
  | { kind: 'missing_in_new'; key: string; legacyLine: number }
  | { kind: 'duplicate'; key: string; side: Side; line: number; firstLine: number };
export type DiscrepancyKind = Discrepancy['kind'];
export const DISCREPANCY_KINDS = ['mismatch', 'missing_in_legacy', 'missing_in_new', 'duplicate'] as const;

/** Tallies of one window (or one part of it; parts add up with `addCounts`). */
export type WindowCounts = {
  legacyRecords: number;
  newRecords: number;
  keys: number;
  matched: number;
  mismatched: number;
  missingInLegacy: number;
  missingInNew: number;
  duplicates: number;
  criticalMismatches: number;
  /** Keys with any discrepancy: the numerator of the discrepancy rate. */
  discrepantKeys: number;
};

/** All-zero counts. */
export function emptyCounts(): WindowCounts {
  return {
    legacyRecords: 0,
    newRecords: 0,
    keys: 0,
    matched: 0,
    mismatched: 0,
    missingInLegacy: 0,
    missingInNew: 0,
    duplicates: 0,
    criticalMismatches: 0,
    discrepantKeys: 0,
  };
}

/** The sum of two tallies of disjoint key sets. */
export function addCounts(a: WindowCounts, b: WindowCounts): WindowCounts {
  const sum = emptyCounts();
  for (const k of Object.keys(sum) as (keyof WindowCounts)[]) sum[k] = a[k] + b[k];
  return sum;
}

/** A record that cannot take part: reported with its line, never compared. */
export type RecordProblem = { side: Side; line: number; message: string };

/**
 * One record as reconciliation reads it: the text of each of `fieldsOf(side)`, in that order, '' or null when the
 * record lacks the field. Sources produce rows directly, so no object is built per record.
 */
export type Row = readonly (string | null)[];

function isBlank(s: string): boolean {
  // Most values start with a visible character; only those that do not need the allocating trim.
  return s.length === 0 || (s.charCodeAt(0) <= 32 && s.trim() === '');
}

/** A source value as text: strings as they are, numbers and booleans as written, objects as JSON, null when absent. */
export function valueText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function present(s: string | null | undefined): string | null {
  return s === null || s === undefined || isBlank(s) ? null : s;
}

/** Upper-case letters and digits only, optionally cut to the leading `digits` characters. */
export function normaliseCode(value: string, digits?: number): string {
  // A loop instead of toUpperCase().replace(): codes are compared a million times a window.
  const limit = digits ?? Infinity;
  let out = '';
  for (let i = 0; i < value.length && out.length < limit; i++) {
    const c = value.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90)) out += value[i];
    else if (c >= 97 && c <= 122) out += String.fromCharCode(c - 32);
  }
  return out;
}

/** A decimal number written plainly (blanks allowed around it), or null. */
export function parseAmount(value: string): number | null {
  const s = value.trim();
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) return null;
  return Number(s);
}

// Tolerances are compared with a little slack: 0.1 + 0.2 must be within 0.3 of 0.
const EPSILON = 1e-9;

function lowerKeys(map: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(map).map(([k, v]) => [k.toLowerCase(), v]));
}

type FieldComparer = (legacy: string, next: string) => DifferenceReason | null;

function comparer(compare: Compare): FieldComparer {
  switch (compare.how) {
    case 'exact': {
      const prep = (v: string) => {
        const t = compare.trim ? v.trim() : v;
        return compare.ignoreCase ? t.toLowerCase() : t;
      };
      return (a, b) => (a === b || prep(a) === prep(b) ? null : 'different');
    }
    case 'numeric':
      return (a, b) => {
        const x = parseAmount(a);
        if (x === null) return 'not-a-number';
        if (a === b) return null;
        const y = parseAmount(b);
        if (y === null) return 'not-a-number';
        const diff = Math.abs(x - y);
        const allowed = Math.max(compare.tolerance, compare.relative * Math.max(Math.abs(x), Math.abs(y)));
        return diff <= allowed + EPSILON ? null : 'different';
      };
    case 'code':
      return (a, b) =>
        a === b || normaliseCode(a, compare.digits) === normaliseCode(b, compare.digits) ? null : 'different';
    case 'mapped': {
      const legacy = compare.ignoreCase ? lowerKeys(compare.legacy) : new Map(Object.entries(compare.legacy));
      const next = compare.ignoreCase ? lowerKeys(compare.new) : new Map(Object.entries(compare.new));
      const look = (map: Map<string, string>, v: string) =>
        map.get(compare.ignoreCase ? v.trim().toLowerCase() : v.trim());
      return (a, b) => {
        const x = look(legacy, a);
        const y = look(next, b);
        if (x === undefined || y === undefined) return 'unmapped';
        return x === y ? null : 'different';
      };
    }
  }
}

type CompiledField = {
  field: string;
  legacyAt: number;
  newAt: number;
  critical: boolean;
  compare: FieldComparer;
};

/** A plan turned into what reconciliation needs, built once per window. */
export type CompiledPlan = {
  /** The fields a side's rows hold, in row order: the key fields first, then the compared ones. */
  fieldsOf(side: Side): string[];
  /** A record as a row of `side`. */
  rowOf(side: Side, record: SourceRecord): Row;
  /** The key of a row of either side (the key fields lead both), or null when a key field is blank. */
  keyOf(row: Row): string | null;
  differences(legacy: Row, next: Row): FieldDifference[];
};

// The unit separator never appears in business keys, so joined composite keys cannot collide.
const KEY_SEPARATOR = '\u001f';

/** Compiles the plan's key and field rules. */
export function compilePlan(plan: Pick<CutoverPlan, 'records' | 'fields'>): CompiledPlan {
  const keyFields = [...new Set(plan.records.key)];
  const fieldsOf = (side: Side) => [
    ...new Set([...keyFields, ...plan.fields.map((f) => (side === 'legacy' ? f.field : (f.newField ?? f.field)))]),
  ];
  const legacyFields = fieldsOf('legacy');
  const newFields = fieldsOf('new');
  const fields: CompiledField[] = plan.fields.map((f: ComparedField) => ({
    field: f.field,
    legacyAt: legacyFields.indexOf(f.field),
    newAt: newFields.indexOf(f.newField ?? f.field),
    critical: f.critical,
    compare: comparer(f.compare),
  }));
  const keyCount = keyFields.length;
  return {
    fieldsOf: (side) => [...(side === 'legacy' ? legacyFields : newFields)],
    rowOf(side, record) {
      return (side === 'legacy' ? legacyFields : newFields).map((f) => valueText(record[f]));
    },
    keyOf(row) {
      if (keyCount === 1) {
        const k = present(row[0]);
        return k === null ? null : k.trim();
      }
      const parts: string[] = [];
      for (let i = 0; i < keyCount; i++) {
        const v = present(row[i]);
        if (v === null) return null;
        parts.push(v.trim());
      }
      return parts.join(KEY_SEPARATOR);
    },
    differences(legacy, next) {
      const out: FieldDifference[] = [];
      for (const f of fields) {
        const a = present(legacy[f.legacyAt]);
        const b = present(next[f.newAt]);
        if (a === null && b === null) continue;
        const reason = a === null || b === null ? 'missing' : f.compare(a, b);
        if (reason !== null) out.push({ field: f.field, legacy: a, new: b, reason, critical: f.critical });
      }
      return out;
    },
  };
}

/** The readable form of a composite key, for people and for the API. */
export function displayKey(key: string): string {
  return key.split(KEY_SEPARATOR).join(' / ');
}

/**
 * Reconciles one window (or one key partition of it) fed a record at a time from either side, in any order:
 * a symmetric hash join that compares a pair as soon as both halves have arrived and forgets the records. Only
 * discrepancies are emitted; matched pairs are counted.
 *
 * Every key must be remembered to the end (a later duplicate refers to its first line), so a key costs only its
 * string and a slot: lines and flags live in typed arrays by the key's index, and records are held, in a map of
 * their own, only until the other side arrives.
 */
export class Reconciler {
  private readonly index = new Map<string, number>();
  private legacyLines = new Int32Array(1024);
  private newLines = new Int32Array(1024);
  private discrepant = new Uint8Array(1024);
  private readonly held = new Map<number, Row>();
  private readonly counts = emptyCounts();

  constructor(
    private readonly plan: CompiledPlan,
    private readonly emit: (d: Discrepancy) => void,
  ) {}

  /** Takes one row of `side`; returns a problem (and ignores the row) when it has no key. */
  add(side: Side, record: Row, line: number): RecordProblem | null {
    const key = this.plan.keyOf(record);
    if (key === null) return { side, line, message: 'the record has no key' };
    if (side === 'legacy') this.counts.legacyRecords++;
    else this.counts.newRecords++;
    const i = this.index.get(key);
    if (i === undefined) {
      const at = this.index.size;
      if (at === this.legacyLines.length) this.grow();
      this.index.set(key, at);
      if (side === 'legacy') this.legacyLines[at] = line;
      else this.newLines[at] = line;
      this.held.set(at, record);
      return null;
    }
    const firstLine = side === 'legacy' ? this.legacyLines[i] : this.newLines[i];
    if (firstLine !== 0) {
      this.counts.duplicates++;
      this.mark(i);
      this.emit({ kind: 'duplicate', key: displayKey(key), side, line, firstLine });
      return null;
    }
    if (side === 'legacy') this.legacyLines[i] = line;
    else this.newLines[i] = line;
    const other = this.held.get(i) as Row;
    this.held.delete(i);
    const differences = side === 'legacy' ? this.plan.differences(record, other) : this.plan.differences(other, record);
    if (differences.length === 0) {
      this.counts.matched++;
      return null;
    }
    const critical = differences.some((d) => d.critical);
    this.counts.mismatched++;
    if (critical) this.counts.criticalMismatches++;
    this.mark(i);
    this.emit({
      kind: 'mismatch',
      key: displayKey(key),
      legacyLine: this.legacyLines[i],
      newLine: this.newLines[i],
      critical,
      differences,
    });
    return null;
  }

  /** Reports the keys only one side produced and returns the window's counts. */
  finish(): WindowCounts {
    for (const [key, i] of this.index) {
      if (this.legacyLines[i] === 0) {
        this.counts.missingInLegacy++;
        this.mark(i);
        this.emit({ kind: 'missing_in_legacy', key: displayKey(key), newLine: this.newLines[i] });
      } else if (this.newLines[i] === 0) {
        this.counts.missingInNew++;
        this.mark(i);
        this.emit({ kind: 'missing_in_new', key: displayKey(key), legacyLine: this.legacyLines[i] });
      }
    }
    this.counts.keys = this.index.size;
    this.index.clear();
    this.held.clear();
    return { ...this.counts };
  }

  private grow() {
    const size = this.legacyLines.length * 2;
    const legacy = new Int32Array(size);
    legacy.set(this.legacyLines);
    const next = new Int32Array(size);
    next.set(this.newLines);
    const flags = new Uint8Array(size);
    flags.set(this.discrepant);
    [this.legacyLines, this.newLines, this.discrepant] = [legacy, next, flags];
  }

  private mark(i: number) {
    if (this.discrepant[i]) return;
    this.discrepant[i] = 1;
    this.counts.discrepantKeys++;
  }
}

/** Reconciles two in-memory record lists (lines are 1-based positions); for tests and small windows. */
export function reconcileRecords(
  plan: Pick<CutoverPlan, 'records' | 'fields'>,
  legacy: readonly SourceRecord[],
  next: readonly SourceRecord[],
): { counts: WindowCounts; discrepancies: Discrepancy[]; problems: RecordProblem[] } {
  const discrepancies: Discrepancy[] = [];
  const problems: RecordProblem[] = [];
  const compiled = compilePlan(plan);
  const r = new Reconciler(compiled, (d) => discrepancies.push(d));
  const n = Math.max(legacy.length, next.length);
  // Interleaved, as the streaming reader feeds them, so the join's order-independence is what is exercised.
  for (let i = 0; i < n; i++) {
    for (const [side, list] of [
      ['legacy', legacy],
      ['new', next],
    ] as const) {
      if (i >= list.length) continue;
      const problem = r.add(side, compiled.rowOf(side, list[i]), i + 1);
      if (problem) problems.push(problem);
    }
  }
  return { counts: r.finish(), discrepancies, problems };
}

/** Whether a window is clean, and if not, why. */
export type WindowVerdict = { rate: number; clean: boolean; reasons: string[] };

/** Judges a window's counts against the plan's thresholds. */
export function judgeWindow(counts: WindowCounts, thresholds: Thresholds): WindowVerdict {
  const rate = counts.keys === 0 ? 0 : counts.discrepantKeys / counts.keys;
  const reasons: string[] = [];
  if (counts.keys < thresholds.minRecords) {
    reasons.push(`${counts.keys} keys, fewer than the ${thresholds.minRecords} a window needs`);
  }
  if (rate > thresholds.maxDiscrepancyRate) {
    reasons.push(`discrepancy rate ${formatRate(rate)} above ${formatRate(thresholds.maxDiscrepancyRate)}`);
  }
  if (counts.criticalMismatches > thresholds.maxCriticalMismatches) {
    reasons.push(
      `${counts.criticalMismatches} critical-field mismatches (at most ${thresholds.maxCriticalMismatches})`,
    );
  }
  return { rate, clean: reasons.length === 0, reasons };
}

/** A rate as a percentage with up to three decimals: 0.005 -> `0.5%`. */
export function formatRate(rate: number): string {
  return `${Number((rate * 100).toFixed(3))}%`;
}
