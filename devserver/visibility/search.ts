import { invalidArgument } from '../engine/errors';
import { executionStatus, rootExecutionOf, visibleEventCount, type Run } from '../engine/run';
import { temporal } from '../proto';
import type { Expr, Value, VisibilityQuery } from './query';

const T = temporal.api.enums.v1.IndexedValueType;
export const IndexedValueType = T;

/** Attributes every execution has, with their types. */
export const SYSTEM_ATTRIBUTES: Record<string, number> = {
  WorkflowId: T.INDEXED_VALUE_TYPE_KEYWORD,
  RunId: T.INDEXED_VALUE_TYPE_KEYWORD,
  WorkflowType: T.INDEXED_VALUE_TYPE_KEYWORD,
  ExecutionStatus: T.INDEXED_VALUE_TYPE_KEYWORD,
  StartTime: T.INDEXED_VALUE_TYPE_DATETIME,
  CloseTime: T.INDEXED_VALUE_TYPE_DATETIME,
  ExecutionTime: T.INDEXED_VALUE_TYPE_DATETIME,
  ExecutionDuration: T.INDEXED_VALUE_TYPE_INT,
  TaskQueue: T.INDEXED_VALUE_TYPE_KEYWORD,
  HistoryLength: T.INDEXED_VALUE_TYPE_INT,
  HistorySizeBytes: T.INDEXED_VALUE_TYPE_INT,
  TemporalChangeVersion: T.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  BinaryChecksums: T.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  BuildIds: T.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  ParentWorkflowId: T.INDEXED_VALUE_TYPE_KEYWORD,
  ParentRunId: T.INDEXED_VALUE_TYPE_KEYWORD,
  RootWorkflowId: T.INDEXED_VALUE_TYPE_KEYWORD,
  RootRunId: T.INDEXED_VALUE_TYPE_KEYWORD,
  TemporalNamespaceDivision: T.INDEXED_VALUE_TYPE_KEYWORD,
  TemporalScheduledStartTime: T.INDEXED_VALUE_TYPE_DATETIME,
  TemporalScheduledById: T.INDEXED_VALUE_TYPE_KEYWORD,
  TemporalSchedulePaused: T.INDEXED_VALUE_TYPE_BOOL,
};

/** The status names the query language uses. */
export const STATUS_NAMES: Record<number, string> = {
  1: 'Running',
  2: 'Completed',
  3: 'Failed',
  4: 'Canceled',
  5: 'Terminated',
  6: 'ContinuedAsNew',
  7: 'TimedOut',
};

/** Names of the type enum as users write them in --search-attribute and the operator API. */
export const TYPE_NAMES: Record<string, number> = {
  Text: T.INDEXED_VALUE_TYPE_TEXT,
  Keyword: T.INDEXED_VALUE_TYPE_KEYWORD,
  Int: T.INDEXED_VALUE_TYPE_INT,
  Double: T.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: T.INDEXED_VALUE_TYPE_BOOL,
  Datetime: T.INDEXED_VALUE_TYPE_DATETIME,
  KeywordList: T.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

type Attr = Value | Value[] | null;

function decodePayload(p: temporal.api.common.v1.IPayload | undefined): unknown {
  if (!p?.data) return null;
  try {
    return JSON.parse(Buffer.from(p.data).toString());
  } catch {
    return null;
  }
}

function systemValue(run: Run, name: string): Attr {
  switch (name) {
    case 'WorkflowId':
      return run.workflowId;
    case 'RunId':
      return run.runId;
    case 'WorkflowType':
      return run.start.workflowType?.name ?? '';
    case 'ExecutionStatus':
      return STATUS_NAMES[executionStatus(run.state)];
    case 'StartTime':
      return run.startMs;
    case 'CloseTime':
      return run.closeMs || null;
    case 'ExecutionTime':
      return run.executionMs;
    case 'ExecutionDuration':
      return run.closeMs ? (run.closeMs - run.executionMs) * 1e6 : null;
    case 'TaskQueue':
      return run.taskQueue;
    case 'HistoryLength':
      return visibleEventCount(run);
    case 'HistorySizeBytes':
      return run.historySizeBytes;
    case 'ParentWorkflowId':
      return run.start.parentWorkflowExecution?.workflowId || null;
    case 'ParentRunId':
      return run.start.parentWorkflowExecution?.runId || null;
    case 'RootWorkflowId':
      return rootExecutionOf(run).workflowId;
    case 'RootRunId':
      return rootExecutionOf(run).runId;
    default:
      return null;
  }
}

/** The value of a search attribute on a run (custom values come from its indexed fields). */
export function attributeValue(run: Run, name: string, type: number): Attr {
  const custom = run.searchAttributes[name];
  if (custom || !(name in SYSTEM_ATTRIBUTES) || SYSTEM_ATTRIBUTES[name] === T.INDEXED_VALUE_TYPE_KEYWORD_LIST) {
    const v = decodePayload(custom);
    if (v === null || v === undefined) return null;
    if (type === T.INDEXED_VALUE_TYPE_DATETIME) return typeof v === 'string' ? Date.parse(v) : Number(v);
    if (Array.isArray(v)) return v as Value[];
    return v as Value;
  }
  return systemValue(run, name);
}

function coerce(v: Value, type: number, field: string): Value {
  if (type === T.INDEXED_VALUE_TYPE_DATETIME) {
    const ms = typeof v === 'number' ? v / 1e6 : Date.parse(String(v));
    if (Number.isNaN(ms)) throw invalidArgument(`invalid query: ${field} needs an RFC 3339 date-time, got '${v}'`);
    return ms;
  }
  if (type === T.INDEXED_VALUE_TYPE_INT || type === T.INDEXED_VALUE_TYPE_DOUBLE) {
    const n = typeof v === 'number' ? v : field === 'ExecutionDuration' ? parseDuration(String(v)) : Number(v);
    if (Number.isNaN(n)) throw invalidArgument(`invalid query: ${field} needs a number, got '${v}'`);
    return n;
  }
  if (type === T.INDEXED_VALUE_TYPE_BOOL) return typeof v === 'boolean' ? v : String(v).toLowerCase() === 'true';
  return typeof v === 'string' ? v : String(v);
}

function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(s.trim());
  if (!m) return NaN;
  const unit = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 6e10, h: 3.6e12 }[m[2] as 'ns'];
  return Number(m[1]) * unit;
}

function compare(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** Checks every name in a query against the registry; INVALID_ARGUMENT for unknown ones. */
export function resolveTypes(q: VisibilityQuery, custom: ReadonlyMap<string, number>): Map<string, number> {
  const types = new Map<string, number>();
  const need = (name: string) => {
    const t = SYSTEM_ATTRIBUTES[name] ?? custom.get(name);
    if (t === undefined) throw invalidArgument(`invalid query: unknown search attribute '${name}'`);
    types.set(name, t);
  };
  const walk = (e: Expr | null): void => {
    if (!e) return;
    if (e.kind === 'and' || e.kind === 'or') {
      walk(e.left);
      walk(e.right);
    } else if (e.kind === 'not') walk(e.expr);
    else need(e.field);
  };
  walk(q.where);
  for (const o of q.orderBy) need(o.field);
  return types;
}

/** Whether a run satisfies a filter. */
export function matches(run: Run, e: Expr | null, types: Map<string, number>): boolean {
  if (!e) return true;
  if (e.kind === 'and') return matches(run, e.left, types) && matches(run, e.right, types);
  if (e.kind === 'or') return matches(run, e.left, types) || matches(run, e.right, types);
  if (e.kind === 'not') return !matches(run, e.expr, types);
  const type = types.get(e.field)!;
  const actual = attributeValue(run, e.field, type);
  if (e.kind === 'isNull') return (actual === null || (Array.isArray(actual) && !actual.length)) !== e.negated;
  if (actual === null) return e.kind === 'in' ? e.negated : e.kind === 'cmp' && e.op === '!=';
  const values = Array.isArray(actual) ? actual : [actual];
  const any = (pred: (v: Value) => boolean) => values.some(pred);
  switch (e.kind) {
    case 'cmp': {
      const want = coerce(e.value, type, e.field);
      if (type === T.INDEXED_VALUE_TYPE_TEXT && (e.op === '=' || e.op === '!=')) {
        const contains = any((v) => String(v).toLowerCase().includes(String(want).toLowerCase()));
        return e.op === '=' ? contains : !contains;
      }
      const test = (v: Value) => {
        const c = compare(v, want);
        return { '=': c === 0, '!=': c !== 0, '>': c > 0, '>=': c >= 0, '<': c < 0, '<=': c <= 0 }[e.op];
      };
      return e.op === '!=' ? values.every(test) : any(test);
    }
    case 'in': {
      const set = e.values.map((v) => coerce(v, type, e.field));
      const hit = any((v) => set.some((w) => compare(v, w) === 0));
      return hit !== e.negated;
    }
    case 'between': {
      const lo = coerce(e.low, type, e.field);
      const hi = coerce(e.high, type, e.field);
      return any((v) => compare(v, lo) >= 0 && compare(v, hi) <= 0) !== e.negated;
    }
    case 'startsWith':
      return any((v) => String(v).startsWith(e.prefix));
  }
}

/** Sorts runs by the query's ORDER BY (StartTime descending by default). */
export function sortRuns(runs: Run[], q: VisibilityQuery, types: Map<string, number>): Run[] {
  const order = q.orderBy.length ? q.orderBy : [{ field: 'StartTime', desc: true }];
  const key = (r: Run, f: string) => attributeValue(r, f, types.get(f) ?? SYSTEM_ATTRIBUTES[f]);
  return runs.sort((a, b) => {
    for (const o of order) {
      const x = key(a, o.field);
      const y = key(b, o.field);
      if (x === y) continue;
      if (x === null) return 1;
      if (y === null) return -1;
      const c = compare(x as Value, y as Value);
      if (c) return o.desc ? -c : c;
    }
    return a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0;
  });
}
