import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { CutoverPlan } from '../domain/cutover-plan';
import {
  Reconciler,
  addCounts,
  compilePlan,
  emptyCounts,
  judgeWindow,
  type Discrepancy,
  type Side,
  type SourceRecord,
  type WindowCounts,
} from '../domain/reconcile';
import type { PrismaClient } from '../generated/prisma/client';
import type { Logger } from '../log';
import { readSource, type ReadProblem, type SourceRef } from './record-sources';

/** What the workflow asks for: one window of one cutover, with a run id it chose so retries land on the same row. */
export type ReconcileInput = {
  runId: string;
  cutoverId: string;
  window: string;
  planVersion: string;
  plan: Pick<CutoverPlan, 'records' | 'fields' | 'thresholds'>;
  legacy: SourceRef;
  new: SourceRef;
};

/** A malformed row, with the side it came from. */
export type InputProblem = ReadProblem & { side: Side };

export type ReconcileResult =
  | {
      runId: string;
      status: 'completed';
      counts: WindowCounts;
      rate: number;
      clean: boolean;
      reasons: string[];
      /** Partitions already committed when this attempt started (0 for a fresh run). */
      resumedAt: number;
    }
  | { runId: string; status: 'invalid'; problemCount: number; problems: InputProblem[] };

/** Heartbeat details: enough for the next attempt to skip the spill and find the committed partitions. */
export type ReconcileProgress = {
  runId: string;
  phase: 'spill' | 'reconcile';
  /** Records read (spill) or reconciled (reconcile) so far: the progress an operator sees. */
  records: number;
  partitionsDone: number;
  dir: string;
};

export interface ReconcileDeps {
  prisma: PrismaClient;
  log: Logger;
  /** Scratch space for the spilled partitions; on the worker's own disk. */
  workDir: string;
  /** For plans reading windows from tables of the Clearway database. */
  databaseUrl?: string;
  /** Key partitions: more means less memory per partition and more files. */
  partitions?: number;
  clock?: () => Date;
  /** Records reconciled between commits; each commit is a checkpoint a retry resumes from. */
  checkpointRecords?: number;
  /** Called after each checkpoint commits, with the partitions done; tests use it to crash a worker there. */
  afterCheckpoint?: (partitionsDone: number) => Promise<void>;
}

/** What the reconciliation needs of the activity context; a bench passes its own. */
export interface Progress {
  details: unknown;
  heartbeat(details: ReconcileProgress): void;
}

const DEFAULT_PARTITIONS = 64;
// A commit costs a few round trips; every 100,000 records keeps that under a second per million pairs while a
// crash loses at most a few seconds of work.
const DEFAULT_CHECKPOINT_RECORDS = 100_000;
const MAX_PROBLEMS_KEPT = 100;
const FLUSH_BYTES = 64 * 1024;
const HEARTBEAT_EVERY = 50_000;
const MARKER = 'spilled.json';

// FNV-1a: cheap, stable across processes, and spreads business keys evenly enough over a few dozen partitions.
function partitionOf(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

// Rows are encoded into a buffer at once: strings held until a flush would outlive the young generation and make
// every minor collection promote them, which cost more than the reconciliation itself.
class SpillFile {
  private readonly buffer = Buffer.allocUnsafe(FLUSH_BYTES);
  private used = 0;
  private readonly fd: number;
  /** Bytes written, recorded in the marker so a resumed attempt can tell a truncated spill from a whole one. */
  written = 0;

  constructor(file: string) {
    this.fd = fs.openSync(file, 'w');
  }

  write(text: string) {
    // A UTF-16 unit takes at most three UTF-8 bytes.
    if (this.used + text.length * 3 > FLUSH_BYTES) this.flush();
    if (text.length * 3 > FLUSH_BYTES) {
      this.written += fs.writeSync(this.fd, text);
      return;
    }
    this.used += this.buffer.write(text, this.used, 'utf8');
  }

  flush() {
    if (this.used > 0) this.written += fs.writeSync(this.fd, this.buffer, 0, this.used);
    this.used = 0;
  }

  close() {
    this.flush();
    fs.closeSync(this.fd);
  }
}

// Spilled rows keep only the fields the plan reads, tab-separated in `fieldsOf(side)` order after the line number:
// a third of the bytes of the source and a split instead of a second JSON.parse. Absent values spill as empty
// strings, which reconciliation already treats as absent.
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const UNESCAPES: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r' };

function spillValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]) : s;
}

function unspillValue(s: string): string {
  return s.includes('\\') ? s.replace(/\\(.)/g, (_, c: string) => UNESCAPES[c] ?? c) : s;
}

function spillName(dir: string, side: Side, partition: number) {
  return path.join(dir, `${side}-${partition}.spill`);
}

/**
 * Reads both sides once and writes every row to the partition its key hashes to (a grace hash join's first pass).
 * Nothing reaches the database here, so malformed input is found before any discrepancy is stored.
 */
async function spill(
  input: ReconcileInput,
  deps: ReconcileDeps,
  dir: string,
  partitions: number,
  beat: (records: number) => void,
): Promise<{ problems: InputProblem[]; problemCount: number; sizes: Record<string, number> }> {
  const compiled = compilePlan(input.plan);
  const problems: InputProblem[] = [];
  let problemCount = 0;
  let records = 0;
  const report = (side: Side, p: ReadProblem) => {
    problemCount++;
    if (problems.length < MAX_PROBLEMS_KEPT) problems.push({ side, ...p });
  };
  const sizes: Record<string, number> = {};
  for (const side of ['legacy', 'new'] as const) {
    const fields = compiled.fieldsOf(side);
    const files = Array.from({ length: partitions }, (_, p) => new SpillFile(spillName(dir, side, p)));
    try {
      for await (const batch of readSource(input[side], compiled.fieldsOf(side), deps.databaseUrl)) {
        for (const problem of batch.problems) report(side, problem);
        for (const row of batch.rows) {
          const key = compiled.keyOf(row.record);
          if (key === null) {
            report(side, { line: row.line, message: 'the record has no key' });
            continue;
          }
          // Once input is known to be bad nothing will be reconciled; keep reading only to report every problem.
          if (problemCount === 0) {
            let line = String(row.line);
            for (const f of fields) line += '\t' + spillValue(row.record[f]);
            files[partitionOf(key, partitions)].write(line + '\n');
          }
          if (++records % HEARTBEAT_EVERY === 0) beat(records);
        }
      }
    } finally {
      files.forEach((f, p) => {
        f.close();
        sizes[`${side}-${p}`] = f.written;
      });
    }
  }
  problems.sort((a, b) => (a.side === b.side ? a.line - b.line : a.side === 'legacy' ? -1 : 1));
  return { problems, problemCount, sizes };
}

/** The rows of one spill file, one at a time. */
function* spillRows(file: string, fields: readonly string[]): Generator<[SourceRecord, number]> {
  const text = fs.readFileSync(file, 'utf8');
  let start = 0;
  for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
    const values = text.slice(start, end).split('\t');
    const record: SourceRecord = {};
    for (let i = 0; i < fields.length; i++) record[fields[i]] = unspillValue(values[i + 1]);
    yield [record, Number(values[0])];
    start = end + 1;
  }
}

/**
 * Feeds one partition of both sides to the reconciler, alternating between them: two systems mostly emit in a similar
 * order, so a pair usually meets within a few rows and the join holds few records.
 */
function reconcilePartition(
  legacy: Iterator<[SourceRecord, number]>,
  next: Iterator<[SourceRecord, number]>,
  into: Reconciler,
): number {
  let n = 0;
  let a = legacy.next();
  let b = next.next();
  while (!a.done || !b.done) {
    if (!a.done) {
      into.add('legacy', a.value[0], a.value[1]);
      n++;
      a = legacy.next();
    }
    if (!b.done) {
      into.add('new', b.value[0], b.value[1]);
      n++;
      b = next.next();
    }
  }
  return n;
}

/** True when every spill file is as long as the marker says: a spill cut short by a machine crash is redone. */
function spillIntact(dir: string): boolean {
  let marker: { sizes: Record<string, number> };
  try {
    marker = JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8'));
  } catch {
    return false;
  }
  return Object.entries(marker.sizes).every(([name, size]) => {
    try {
      return fs.statSync(path.join(dir, `${name}.spill`)).size === size;
    } catch {
      return false;
    }
  });
}

function discrepancyRow(runId: string, partition: number, d: Discrepancy) {
  const base = { runId, partition, kind: d.kind, key: d.key, detail: d as object };
  switch (d.kind) {
    case 'mismatch':
      return {
        ...base,
        fields: d.differences.map((f) => f.field),
        critical: d.critical,
        legacyLine: d.legacyLine,
        newLine: d.newLine,
      };
    case 'missing_in_legacy':
      return { ...base, fields: [], newLine: d.newLine };
    case 'missing_in_new':
      return { ...base, fields: [], legacyLine: d.legacyLine };
    case 'duplicate':
      return { ...base, fields: [], ...(d.side === 'legacy' ? { legacyLine: d.line } : { newLine: d.line }) };
  }
}

function safeDirName(runId: string) {
  return runId.replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * Reconciles one window into ReconciliationRun and Discrepancy rows. Each key partition commits its discrepancies
 * together with the run's progress in one transaction, so an attempt that dies mid-way leaves whole partitions
 * only, and the next attempt continues after the last one committed instead of starting over.
 */
export async function reconcileWindow(
  deps: ReconcileDeps,
  input: ReconcileInput,
  progress: Progress,
): Promise<ReconcileResult> {
  const { prisma } = deps;
  const clock = deps.clock ?? (() => new Date());
  const log = deps.log.child({ runId: input.runId, cutoverId: input.cutoverId, window: input.window });
  const prior = (progress.details ?? undefined) as ReconcileProgress | undefined;

  let run = await prisma.reconciliationRun.findUnique({ where: { id: input.runId } });
  if (run?.status === 'completed' || run?.status === 'invalid') return storedResult(run);
  if (!run) {
    run = await prisma.reconciliationRun.create({
      data: {
        id: input.runId,
        cutoverId: input.cutoverId,
        window: input.window,
        planVersion: input.planVersion,
        status: 'running',
        partitions: deps.partitions ?? DEFAULT_PARTITIONS,
        counts: emptyCounts(),
        reasons: [],
        startedAt: clock(),
      },
    });
  }
  const partitions = run.partitions;
  const dir = prior?.dir ?? path.join(deps.workDir, safeDirName(input.runId));
  const spilled = spillIntact(dir);
  let records = 0;

  if (!spilled) {
    // A partial spill cannot be trusted; it is the cheap pass, so it starts over.
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const beat = (n: number) =>
      progress.heartbeat({ runId: input.runId, phase: 'spill', records: n, partitionsDone: 0, dir });
    const { problems, problemCount, sizes } = await spill(input, deps, dir, partitions, beat);
    if (problemCount > 0) {
      fs.rmSync(dir, { recursive: true, force: true });
      await prisma.reconciliationRun.update({
        where: { id: input.runId },
        data: { status: 'invalid', problemCount, problems, finishedAt: clock() },
      });
      log.info({ problemCount }, 'reconciliation refused malformed input');
      return { runId: input.runId, status: 'invalid', problemCount, problems };
    }
    fs.writeFileSync(path.join(dir, MARKER), JSON.stringify({ partitions, sizes }));
  }

  const resumedAt = run.partitionsDone;
  if (resumedAt > 0) {
    await prisma.reconciliationRun.update({ where: { id: input.runId }, data: { resumes: { increment: 1 } } });
    records = prior?.phase === 'reconcile' ? prior.records : 0;
    log.info({ resumedAt, records }, 'reconciliation resumed from its checkpoint');
  }
  let counts = run.counts as WindowCounts;
  const compiled = compilePlan(input.plan);
  const legacyFields = compiled.fieldsOf('legacy');
  const newFields = compiled.fieldsOf('new');
  const checkpointEvery = deps.checkpointRecords ?? DEFAULT_CHECKPOINT_RECORDS;
  let pending: ReturnType<typeof discrepancyRow>[] = [];
  let sinceCheckpoint = 0;
  for (let p = resumedAt; p < partitions; p++) {
    const reconciler = new Reconciler(compiled, (d) => pending.push(discrepancyRow(input.runId, p, d)));
    const n = reconcilePartition(
      spillRows(spillName(dir, 'legacy', p), legacyFields),
      spillRows(spillName(dir, 'new', p), newFields),
      reconciler,
    );
    records += n;
    sinceCheckpoint += n;
    counts = addCounts(counts, reconciler.finish());
    if (sinceCheckpoint < checkpointEvery && p < partitions - 1) continue;
    // Discrepancies and progress commit together: a retry never finds one without the other.
    await prisma.$transaction([
      prisma.discrepancy.createMany({ data: pending }),
      prisma.reconciliationRun.update({ where: { id: input.runId }, data: { partitionsDone: p + 1, counts } }),
    ]);
    pending = [];
    sinceCheckpoint = 0;
    progress.heartbeat({ runId: input.runId, phase: 'reconcile', records, partitionsDone: p + 1, dir });
    await deps.afterCheckpoint?.(p + 1);
  }

  const verdict = judgeWindow(counts, input.plan.thresholds);
  await prisma.reconciliationRun.update({
    where: { id: input.runId },
    data: {
      status: 'completed',
      rate: verdict.rate,
      clean: verdict.clean,
      reasons: verdict.reasons,
      finishedAt: clock(),
    },
  });
  // Removing a large spill takes a while and nothing waits on it.
  fs.promises.rm(dir, { recursive: true, force: true }).catch((error) => log.warn({ error }, 'spill not removed'));
  log.info({ counts, rate: verdict.rate, clean: verdict.clean }, 'window reconciled');
  return { runId: input.runId, status: 'completed', counts, ...verdict, resumedAt };
}

type StoredRun = {
  id: string;
  status: string;
  counts: unknown;
  rate: number | null;
  clean: boolean | null;
  reasons: string[];
  problemCount: number;
  problems: unknown;
};

function storedResult(run: StoredRun): ReconcileResult {
  if (run.status === 'invalid') {
    return {
      runId: run.id,
      status: 'invalid',
      problemCount: run.problemCount,
      problems: run.problems as InputProblem[],
    };
  }
  return {
    runId: run.id,
    status: 'completed',
    counts: run.counts as WindowCounts,
    rate: run.rate ?? 0,
    clean: run.clean ?? false,
    reasons: run.reasons,
    resumedAt: 0,
  };
}

/** The reconciliation activities, over injected dependencies. */
export const createReconcileActivities = (deps: ReconcileDeps) => ({
  /** Reconciles one window; heartbeats its progress and resumes from the last committed partition when retried. */
  async reconcileWindow(input: ReconcileInput): Promise<ReconcileResult> {
    const ctx = Context.current();
    return reconcileWindow(deps, input, {
      details: ctx.info.heartbeatDetails,
      heartbeat: (details) => ctx.heartbeat(details),
    });
  },
});
