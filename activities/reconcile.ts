import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { CutoverPlan } from '../domain/cutover-plan';
import {
  Reconciler,
  addCounts,
  compilePlan,
  emptyCounts,
  judgeWindow,
  type CompiledPlan,
  type Discrepancy,
  type Side,
  type WindowCounts,
} from '../domain/reconcile';
import type { PrismaClient } from '../generated/prisma/client';
import type { Logger } from '../log';
import { readSource, type ReadProblem, type RowSink, type SourcePosition, type SourceRef } from './record-sources';

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
  | {
      runId: string;
      status: 'invalid';
      problemCount: number;
      /** The first problems, legacy side first, each by line. */
      problems: InputProblem[];
      /** The sides with at least one problem: their input is of no further use. */
      problemSides: Side[];
    };

/** Where a spill stood at its last checkpoint: enough for a retried attempt to continue it instead of starting over. */
export type SpillState = {
  /** The side being read; `legacy` is read first. */
  side: Side;
  /** Where reading `side` continues; null when it starts from its beginning. */
  position: SourcePosition | null;
  /** Bytes in each partition's spill file, per side; a retry cuts the files back to these sizes. */
  sizes: Record<Side, number[]>;
  records: Record<Side, number>;
  problemCount: Record<Side, number>;
  /** The first problems found (at most 100). */
  problems: InputProblem[];
};

/** Heartbeat details: the progress an operator sees, and what the next attempt needs to continue. */
export type ReconcileProgress = {
  runId: string;
  phase: 'spill' | 'reconcile';
  /** Records read (spill) or reconciled (reconcile) so far. */
  records: number;
  partitionsDone: number;
  dir: string;
  /** During the spill: its last checkpoint. */
  spill?: SpillState;
};

export interface ReconcileDeps {
  prisma: PrismaClient;
  log: Logger;
  /** Scratch space for the spilled partitions; on the worker's own disk. */
  workDir: string;
  /** For plans reading windows from tables of the Clearway database. */
  databaseUrl?: string;
  /** Key partitions; by default one per 2 MB of input, at least 256 and at most 512. */
  partitions?: number;
  clock?: () => Date;
  /** Records reconciled between commits; each commit is a checkpoint a retry resumes from. */
  checkpointRecords?: number;
  /** Least time between two spill checkpoints (each flushes every spill file). */
  spillCheckpointMs?: number;
  /** Bytes read from a file at a time. */
  readChunkBytes?: number;
  /** Called after each commit, with the partitions done; tests use it to crash a worker there. */
  afterCheckpoint?: (partitionsDone: number) => Promise<void>;
  /** Called after each spill checkpoint (and at the end of each side); tests use it to crash or hold a worker there. */
  afterSpillCheckpoint?: (state: SpillState, runId: string) => Promise<void>;
}

/** What the reconciliation needs of the activity context; a bench passes its own. */
export interface Progress {
  details: unknown;
  heartbeat(details: ReconcileProgress): void;
  /** Aborts when this attempt must stop. */
  signal?: AbortSignal;
  /**
   * Whether a stop means the run is no longer wanted (cancellation requested, workflow gone), so its staging and
   * partial results are removed; otherwise (worker shutting down, attempt timed out) a retry continues them.
   */
  abandoned?(): boolean;
}

const SIDES = ['legacy', 'new'] as const;
// Small partitions keep memory flat: the reconcile pass holds one partition at a time, and one that is done within a
// young-generation collection or two never promotes its keys to the old generation. Only one side's files are open
// at a time, so the cap stays well under the usual limit of 1,024 open files.
const DEFAULT_PARTITIONS = 256;
const MAX_PARTITIONS = 512;
const INPUT_BYTES_PER_PARTITION = 2 << 20;
// The spill buffers of all partitions together; each flushes when full.
const SPILL_BUFFER_BYTES = 4 << 20;
// A commit costs a few round trips; every 100,000 records keeps that under a second per million pairs while a
// crash loses at most a few seconds of work.
const DEFAULT_CHECKPOINT_RECORDS = 100_000;
// A window that disagrees everywhere commits sooner, so no transaction carries an unbounded batch.
const MAX_PENDING_DISCREPANCIES = 20_000;
const DEFAULT_SPILL_CHECKPOINT_MS = 1_000;
const MAX_PROBLEMS_KEPT = 100;
const FLUSH_BYTES = 64 * 1024;
const MARKER = 'spilled.json';
const RUN_FILE = 'run.json';
// A spill folder nobody touched for a day belongs to an attempt that will never come back (attempts last 4 hours).
const ABANDONED_AFTER_MS = 24 * 3600_000;

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
  private readonly buffer: Buffer;
  private used = 0;
  private readonly fd: number;
  /** Bytes written so far; a checkpoint records them so a retry can cut the file back to a known whole. */
  written: number;

  /** Opens `file`, keeping its first `keep` bytes (a resumed spill) or none. */
  constructor(file: string, keep: number, bufferBytes: number) {
    this.buffer = Buffer.allocUnsafe(bufferBytes);
    if (keep > 0) {
      fs.truncateSync(file, keep);
      this.fd = fs.openSync(file, 'a');
    } else {
      this.fd = fs.openSync(file, 'w');
    }
    this.written = keep;
  }

  write(text: string) {
    // A UTF-16 unit takes at most three UTF-8 bytes.
    if (this.used + text.length * 3 > this.buffer.length) this.flush();
    if (text.length * 3 > this.buffer.length) {
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

// A spilled row is its values tab-separated in `fieldsOf(side)` order, then its line: a third of the bytes of the
// source, and a split instead of a second parse. Absent values spill as empty strings, which reconciliation treats
// as absent anyway. Values holding a tab, line break or backslash are escaped.
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const UNESCAPES: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r' };
const SPECIAL = /[\\\t\n\r]/;

function escaped(s: string): string {
  return SPECIAL.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]) : s;
}

function unescaped(s: string): string {
  return s.includes('\\') ? s.replace(/\\(.)/g, (_, c: string) => UNESCAPES[c] ?? c) : s;
}

function spillLine(values: (string | null)[], line: number, plain: boolean): string {
  let s = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null) s += plain ? v : escaped(v);
    s += '\t';
  }
  return s + line + '\n';
}

function spillName(dir: string, side: Side, partition: number) {
  return path.join(dir, `${side}-${partition}.spill`);
}

/** Stops the attempt if it was told to. */
function checkStop(progress: Progress) {
  if (progress.signal?.aborted) throw progress.signal.reason ?? new CancelledFailure('CANCELLED');
}

function emptySpill(partitions: number): SpillState {
  const zeros = () => new Array<number>(partitions).fill(0);
  return {
    side: 'legacy',
    position: null,
    sizes: { legacy: zeros(), new: zeros() },
    records: { legacy: 0, new: 0 },
    problemCount: { legacy: 0, new: 0 },
    problems: [],
  };
}

/** The state with `side` back at its beginning (its records, problems and spill files dropped). */
function restartSide(state: SpillState, side: Side): SpillState {
  return {
    ...state,
    side,
    position: null,
    sizes: { ...state.sizes, [side]: state.sizes[side].map(() => 0) },
    records: { ...state.records, [side]: 0 },
    problemCount: { ...state.problemCount, [side]: 0 },
    problems: state.problems.filter((p) => p.side !== side),
  };
}

/** A checkpoint's state if the spill files still hold at least what it recorded; otherwise null (start over). */
function resumableSpill(prior: ReconcileProgress | undefined, dir: string, partitions: number): SpillState | null {
  const state = prior?.phase === 'spill' ? prior.spill : undefined;
  if (!state || state.sizes.legacy.length !== partitions || state.sizes.new.length !== partitions) return null;
  for (const side of SIDES) {
    for (let p = 0; p < partitions; p++) {
      const want = state.sizes[side][p];
      if (want === 0) continue;
      try {
        if (fs.statSync(spillName(dir, side, p)).size < want) return null;
      } catch {
        return null;
      }
    }
  }
  return state;
}

type RunContext = {
  input: ReconcileInput;
  deps: ReconcileDeps;
  progress: Progress;
  compiled: CompiledPlan;
  dir: string;
  partitions: number;
};

/**
 * Reads both sides once and writes every row to the partition its key hashes to (a grace hash join's first pass).
 * Nothing reaches the database here, so malformed input is found before any discrepancy is stored. Every second or
 * so the spill files are flushed and their sizes heartbeaten with the read position: a retried attempt cuts the
 * files back to those sizes and reads on from there.
 */
async function spill(ctx: RunContext, from: SpillState): Promise<SpillState> {
  const { input, deps, progress, compiled, dir, partitions } = ctx;
  const every = deps.spillCheckpointMs ?? DEFAULT_SPILL_CHECKPOINT_MS;
  let state = from;
  const beat = (live: number) =>
    progress.heartbeat({ runId: input.runId, phase: 'spill', records: live, partitionsDone: 0, dir, spill: state });
  for (const side of SIDES) {
    if (side === 'legacy' && state.side === 'new') continue;
    const resume = state.side === side && state.position !== null ? state.position : undefined;
    if (!resume) state = restartSide(state, side);
    const fields = compiled.fieldsOf(side);
    const other = side === 'legacy' ? 'new' : 'legacy';
    let records = state.records[side];
    let problemCount = state.problemCount[side];
    const problems = [...state.problems];
    const report = (p: ReadProblem) => {
      problemCount++;
      if (problems.length < MAX_PROBLEMS_KEPT) problems.push({ side, ...p });
    };
    const bufferBytes = Math.max(8 << 10, Math.min(FLUSH_BYTES, Math.floor(SPILL_BUFFER_BYTES / partitions)));
    const files = Array.from(
      { length: partitions },
      (_, p) => new SpillFile(spillName(dir, side, p), state.sizes[side][p], bufferBytes),
    );
    const sink: RowSink = {
      row(line, values, plain) {
        const key = compiled.keyOf(values);
        if (key === null) {
          report({ line, message: 'the record has no key' });
          return;
        }
        records++;
        // Once input is known to be bad nothing will be reconciled; reading goes on only to report every problem.
        if (problemCount + state.problemCount[other] === 0) {
          files[partitionOf(key, partitions)].write(spillLine(values, line, plain));
        }
      },
      problem: report,
    };
    const checkpoint = (position: SourcePosition | null, next: Side) => {
      for (const f of files) f.flush();
      state = {
        side: next,
        position,
        sizes: { ...state.sizes, [side]: files.map((f) => f.written) },
        records: { ...state.records, [side]: records },
        problemCount: { ...state.problemCount, [side]: problemCount },
        problems: [...problems],
      };
    };
    try {
      const ref = input[side];
      if (ref.kind === 'file' && !fs.existsSync(ref.path)) {
        report({ line: 0, message: 'the staged upload is missing' });
      } else {
        let last = performance.now();
        const reading = readSource(ref, fields, sink, {
          databaseUrl: deps.databaseUrl,
          from: resume,
          chunkBytes: deps.readChunkBytes,
        });
        for await (const position of reading) {
          checkStop(progress);
          const live = records + state.records[other];
          if (position === null || performance.now() - last < every) {
            beat(live);
            continue;
          }
          checkpoint(position, side);
          beat(live);
          await deps.afterSpillCheckpoint?.(state, input.runId);
          last = performance.now();
        }
      }
    } finally {
      for (const f of files) f.close();
    }
    checkpoint(null, 'new');
    beat(state.records.legacy + state.records.new);
    checkStop(progress);
    await deps.afterSpillCheckpoint?.(state, input.runId);
  }
  return state;
}

/**
 * The rows of one spill file, read 64 KiB at a time, each line decoded on its own. Decoding a whole block and slicing
 * it would let every key the reconciler keeps (a slice, once 13 characters or longer) hold its entire block alive
 * until the partition ends, and the old generation would fill with blocks.
 */
class SpillCursor {
  private readonly fd: number;
  private start = 0;
  private end = 0;
  private eof = false;
  private closed = false;
  row: string[] = [];
  line = 0;

  /** Reads `file` into `buf`, which the caller reuses for the next file (fresh buffers fragment the allocator). */
  constructor(
    file: string,
    private buf: Buffer,
  ) {
    this.fd = fs.openSync(file, 'r');
  }

  /** The buffer in use, grown if a line needed it: hand it to the next cursor. */
  get buffer(): Buffer {
    return this.buf;
  }

  next(): boolean {
    let nl = this.buf.indexOf(10, this.start);
    while (nl === -1 || nl >= this.end) {
      if (!this.refill()) return false;
      nl = this.buf.indexOf(10, this.start);
    }
    const raw = this.buf.toString('utf8', this.start, nl);
    const parts = raw.split('\t');
    // The reconciler keeps the first field (the key) for the rest of the partition. V8 makes a substring of 13
    // characters or more a slice that keeps its whole line alive; decoded on its own, the key holds only itself.
    if (parts[0].length >= 13) parts[0] = this.buf.toString('utf8', this.start, this.buf.indexOf(9, this.start));
    this.start = nl + 1;
    this.line = Number(parts.pop());
    if (raw.includes('\\')) for (let i = 0; i < parts.length; i++) parts[i] = unescaped(parts[i]);
    this.row = parts;
    return true;
  }

  /** Moves the unread bytes to the front and reads more after them; false at the end of the file. */
  private refill(): boolean {
    if (this.eof) return false;
    const rest = this.end - this.start;
    if (rest === this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, this.start, this.end);
      this.buf = bigger;
    } else if (rest > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
    }
    this.start = 0;
    this.end = rest;
    const n = fs.readSync(this.fd, this.buf, rest, this.buf.length - rest, null);
    if (n === 0) {
      this.close();
      return false;
    }
    this.end += n;
    return true;
  }

  close() {
    if (!this.closed) fs.closeSync(this.fd);
    this.closed = true;
    this.eof = true;
  }
}

function readSpill(dir: string, side: Side, partition: number, buf: Buffer): SpillCursor {
  return new SpillCursor(spillName(dir, side, partition), buf);
}

/**
 * Feeds one partition of both sides to the reconciler, alternating between them: two systems mostly emit in a similar
 * order, so a pair usually meets within a few rows and the join holds few records.
 */
function reconcilePartition(legacy: SpillCursor, next: SpillCursor, into: Reconciler): number {
  let n = 0;
  let a = legacy.next();
  let b = next.next();
  while (a || b) {
    if (a) {
      into.add('legacy', legacy.row, legacy.line);
      n++;
      a = legacy.next();
    }
    if (b) {
      into.add('new', next.row, next.line);
      n++;
      b = next.next();
    }
  }
  return n;
}

/** True when every spill file is as long as the marker says: a spill cut short by a machine crash is redone. */
function spillIntact(dir: string, partitions: number): boolean {
  let marker: { partitions: number; sizes: Record<Side, number[]> };
  try {
    marker = JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8'));
  } catch {
    return false;
  }
  if (marker.partitions !== partitions) return false;
  return SIDES.every((side) =>
    marker.sizes[side].every((size, p) => {
      try {
        return fs.statSync(spillName(dir, side, p)).size === size;
      } catch {
        return false;
      }
    }),
  );
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

/** The partitions for a run: enough that one holds about 2 MB of input (see DEFAULT_PARTITIONS). */
function partitionsFor(input: ReconcileInput, deps: ReconcileDeps): number {
  if (deps.partitions) return deps.partitions;
  let bytes = 0;
  for (const side of SIDES) {
    const ref = input[side];
    if (ref.kind !== 'file') continue;
    try {
      bytes += fs.statSync(ref.path).size;
    } catch {
      // A missing upload is reported by the spill.
    }
  }
  return Math.min(MAX_PARTITIONS, Math.max(DEFAULT_PARTITIONS, Math.ceil(bytes / INPUT_BYTES_PER_PARTITION)));
}

/** Raised when the run was closed under this attempt (the workflow gave it up): nothing more may be committed. */
class RunClosed extends Error {}

/** Removes a run's spill and partial discrepancies and marks it cancelled, unless it already finished. */
/** How a run that will never finish is closed: given up when cancelled, or failed with the last attempt's error. */
type RunEnd = { status: 'cancelled' } | { status: 'failed'; failure: string };

async function closeRun(deps: ReconcileDeps, runId: string, dir: string, end: RunEnd): Promise<void> {
  await fs.promises.rm(dir, { recursive: true, force: true });
  const clock = deps.clock ?? (() => new Date());
  await deps.prisma.$transaction(async (tx) => {
    const closed = await tx.reconciliationRun.updateMany({
      where: { id: runId, status: 'running' },
      data: { ...end, finishedAt: clock() },
    });
    if (closed.count > 0) await tx.discrepancy.deleteMany({ where: { runId } });
  });
}

/**
 * Removes spill folders of other runs that will never continue: their run finished or was cancelled, or nobody has
 * touched them for a day (the worker that owned them died and the run went elsewhere). Best effort.
 */
async function sweepWorkDir(deps: ReconcileDeps, keep: string, log: Logger): Promise<void> {
  let names: string[];
  try {
    names = await fs.promises.readdir(deps.workDir);
  } catch {
    return;
  }
  const now = Date.now();
  const found: { dir: string; runId: string | null; touched: number }[] = [];
  for (const name of names) {
    const dir = path.join(deps.workDir, name);
    if (dir === keep) continue;
    let runId: string | null = null;
    let touched = 0;
    try {
      const file = path.join(dir, RUN_FILE);
      touched = (await fs.promises.stat(file)).mtimeMs;
      runId = (JSON.parse(await fs.promises.readFile(file, 'utf8')) as { runId: string }).runId;
    } catch {
      touched = await fs.promises.stat(dir).then(
        (s) => s.mtimeMs,
        () => now,
      );
    }
    found.push({ dir, runId, touched });
  }
  if (found.length === 0) return;
  const ids = found.flatMap((f) => (f.runId ? [f.runId] : []));
  const runs = await deps.prisma.reconciliationRun.findMany({
    where: { id: { in: ids } },
    select: { id: true, status: true },
  });
  // Only runs this database knows to be over are removed at once: a folder of an unknown run may belong to another
  // database's worker sharing the folder, and waits out the day like any other.
  const over = new Set(runs.filter((r) => r.status !== 'running').map((r) => r.id));
  for (const f of found) {
    const stale = now - f.touched > ABANDONED_AFTER_MS;
    if (!stale && !(f.runId !== null && over.has(f.runId))) continue;
    await fs.promises.rm(f.dir, { recursive: true, force: true });
    log.info({ dir: f.dir, runId: f.runId }, 'removed an abandoned reconciliation spill');
  }
}

/**
 * Reconciles one window into ReconciliationRun and Discrepancy rows. Each group of key partitions commits its
 * discrepancies together with the run's progress in one transaction, so an attempt that dies mid-way leaves whole
 * partitions only, and the next attempt continues after the last one committed instead of starting over; the spill
 * before it continues from its last checkpoint too. Told to stop, it stops at the next row batch or partition; if
 * the run is no longer wanted it removes its spill and partial results and ends cancelled.
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
  if (run?.status === 'cancelled') {
    throw ApplicationFailure.create({
      type: 'RECONCILIATION_CANCELLED',
      message: `reconciliation ${input.runId} was cancelled`,
      nonRetryable: true,
    });
  }
  if (!run) {
    run = await prisma.reconciliationRun.create({
      data: {
        id: input.runId,
        cutoverId: input.cutoverId,
        window: input.window,
        planVersion: input.planVersion,
        status: 'running',
        partitions: partitionsFor(input, deps),
        counts: emptyCounts(),
        reasons: [],
        startedAt: clock(),
      },
    });
  }
  const partitions = run.partitions;
  const dir = path.join(deps.workDir, safeDirName(input.runId));
  await sweepWorkDir(deps, dir, log).catch((error) => log.warn({ error }, 'spill sweep failed'));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, RUN_FILE), JSON.stringify({ runId: input.runId }));
  const compiled = compilePlan(input.plan);
  const ctx: RunContext = { input, deps, progress, compiled, dir, partitions };

  try {
    if (!spillIntact(dir, partitions)) {
      const resume = run.partitionsDone === 0 ? resumableSpill(prior, dir, partitions) : null;
      if (resume) {
        log.info({ side: resume.side, position: resume.position }, 'spill resumed from its checkpoint');
        await prisma.reconciliationRun.update({ where: { id: input.runId }, data: { resumes: { increment: 1 } } });
      }
      fs.rmSync(path.join(dir, MARKER), { force: true });
      const state = await spill(ctx, resume ?? emptySpill(partitions));
      const problemCount = state.problemCount.legacy + state.problemCount.new;
      if (problemCount > 0) {
        await fs.promises.rm(dir, { recursive: true, force: true });
        const problems = [...state.problems].sort((a, b) =>
          a.side === b.side ? a.line - b.line : a.side === 'legacy' ? -1 : 1,
        );
        const problemSides = SIDES.filter((s) => state.problemCount[s] > 0);
        await prisma.reconciliationRun.update({
          where: { id: input.runId },
          data: { status: 'invalid', problemCount, problems, finishedAt: clock() },
        });
        log.info({ problemCount }, 'reconciliation refused malformed input');
        return { runId: input.runId, status: 'invalid', problemCount, problems, problemSides };
      }
      fs.writeFileSync(path.join(dir, MARKER), JSON.stringify({ partitions, sizes: state.sizes }));
    }
    return await reconcilePartitions(ctx, run.partitionsDone, run.counts as WindowCounts, prior, log);
  } catch (e) {
    const stopped = progress.signal?.aborted || e instanceof RunClosed;
    if (!stopped) throw e;
    if (e instanceof RunClosed || (progress.abandoned?.() ?? true)) {
      await closeRun(deps, input.runId, dir, { status: 'cancelled' });
      log.info('reconciliation cancelled; its spill and partial results are removed');
      throw new CancelledFailure('CANCELLED');
    }
    log.info('reconciliation attempt interrupted; a retry continues from its checkpoint');
    throw e;
  }
}

/** The second pass: partition by partition, from `resumedAt`, committing discrepancies with the run's progress. */
async function reconcilePartitions(
  ctx: RunContext,
  resumedAt: number,
  committed: WindowCounts,
  prior: ReconcileProgress | undefined,
  log: Logger,
): Promise<ReconcileResult> {
  const { input, deps, progress, compiled, dir, partitions } = ctx;
  const { prisma } = deps;
  const clock = deps.clock ?? (() => new Date());
  let records = 0;
  if (resumedAt > 0) {
    await prisma.reconciliationRun.update({ where: { id: input.runId }, data: { resumes: { increment: 1 } } });
    records = prior?.phase === 'reconcile' ? prior.records : 0;
    log.info({ resumedAt, records }, 'reconciliation resumed from its checkpoint');
  }
  let counts = committed;
  const checkpointEvery = deps.checkpointRecords ?? DEFAULT_CHECKPOINT_RECORDS;
  let pending: ReturnType<typeof discrepancyRow>[] = [];
  let sinceCheckpoint = 0;
  let buffers: Buffer[] = [Buffer.allocUnsafe(FLUSH_BYTES), Buffer.allocUnsafe(FLUSH_BYTES)];
  for (let p = resumedAt; p < partitions; p++) {
    checkStop(progress);
    const reconciler = new Reconciler(compiled, (d) => pending.push(discrepancyRow(input.runId, p, d)));
    const legacy = readSpill(dir, 'legacy', p, buffers[0]);
    const next = readSpill(dir, 'new', p, buffers[1]);
    let n: number;
    try {
      n = reconcilePartition(legacy, next, reconciler);
    } finally {
      legacy.close();
      next.close();
      buffers = [legacy.buffer, next.buffer];
    }
    records += n;
    sinceCheckpoint += n;
    counts = addCounts(counts, reconciler.finish());
    const due = sinceCheckpoint >= checkpointEvery || pending.length >= MAX_PENDING_DISCREPANCIES;
    if (!due && p < partitions - 1) {
      // Lets heartbeats and a cancellation in between partitions.
      await nextTurn();
      continue;
    }
    checkStop(progress);
    // Discrepancies and progress commit together: a retry never finds one without the other. A run the workflow
    // gave up on takes no more.
    const rows = pending;
    await prisma.$transaction(async (tx) => {
      const moved = await tx.reconciliationRun.updateMany({
        where: { id: input.runId, status: 'running' },
        data: { partitionsDone: p + 1, counts },
      });
      if (moved.count === 0) throw new RunClosed(`reconciliation ${input.runId} is no longer running`);
      if (rows.length > 0) await tx.discrepancy.createMany({ data: rows });
    });
    pending = [];
    sinceCheckpoint = 0;
    progress.heartbeat({ runId: input.runId, phase: 'reconcile', records, partitionsDone: p + 1, dir });
    await deps.afterCheckpoint?.(p + 1);
  }

  const verdict = judgeWindow(counts, input.plan.thresholds);
  const done = await prisma.reconciliationRun.updateMany({
    where: { id: input.runId, status: 'running' },
    data: {
      status: 'completed',
      rate: verdict.rate,
      clean: verdict.clean,
      reasons: verdict.reasons,
      finishedAt: clock(),
    },
  });
  if (done.count === 0) throw new RunClosed(`reconciliation ${input.runId} is no longer running`);
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
    const problems = run.problems as InputProblem[];
    return {
      runId: run.id,
      status: 'invalid',
      problemCount: run.problemCount,
      problems,
      problemSides: SIDES.filter((s) => problems.some((p) => p.side === s)),
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

// The SDK sends heartbeats at most once per throttle interval (one second on Clearway's workers); calling it every
// second keeps the attempt alive through long commits, and every call may bring back a cancellation.
const KEEPALIVE_MS = 1_000;

/** The reconciliation activities, over injected dependencies. */
export const createReconcileActivities = (deps: ReconcileDeps) => ({
  /**
   * Reconciles one window; heartbeats its progress, resumes from its last checkpoint when retried, and ends
   * cancelled, its spill and partial results removed, when the workflow cancels it.
   */
  async reconcileWindow(input: ReconcileInput): Promise<ReconcileResult> {
    const ctx = Context.current();
    // Until this attempt has its own checkpoint, the previous one's is re-sent: a heartbeat replaces the details.
    let last: unknown = ctx.info.heartbeatDetails;
    const keepalive = setInterval(() => ctx.heartbeat(last), KEEPALIVE_MS);
    keepalive.unref();
    try {
      return await reconcileWindow(deps, input, {
        details: ctx.info.heartbeatDetails,
        heartbeat: (details) => {
          last = details;
          ctx.heartbeat(details);
        },
        signal: ctx.cancellationSignal,
        abandoned: () => {
          const why = ctx.cancellationDetails;
          const reason = (ctx.cancellationSignal.reason as Error | undefined)?.message;
          return Boolean(why?.cancelRequested || why?.notFound || reason === 'CANCELLED' || reason === 'NOT_FOUND');
        },
      });
    } finally {
      clearInterval(keepalive);
    }
  },

  /**
   * Gives up a run whose attempt could not acknowledge a cancellation (its worker died): marks it cancelled and
   * removes its partial discrepancies and, if it is here, its spill. A finished run is left as it is.
   */
  async abandonReconciliation(runId: string): Promise<void> {
    await closeRun(deps, runId, path.join(deps.workDir, safeDirName(runId)), { status: 'cancelled' });
  },

  /**
   * Closes a run whose attempts are spent: marks it failed with the last error and removes its partial
   * discrepancies and, if it is here, its spill, so nothing reads half a window as a result. A finished run is left
   * as it is.
   */
  async failReconciliation(runId: string, failure: string): Promise<void> {
    await closeRun(deps, runId, path.join(deps.workDir, safeDirName(runId)), { status: 'failed', failure });
  },
});
