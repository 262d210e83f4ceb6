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
  /** Called after each partition commits; tests use it to crash a worker at a known point. */
  afterPartition?: (partition: number) => Promise<void>;
}

/** What the reconciliation needs of the activity context; a bench passes its own. */
export interface Progress {
  details: unknown;
  heartbeat(details: ReconcileProgress): void;
}

const DEFAULT_PARTITIONS = 64;
const MAX_PROBLEMS_KEPT = 100;
const FLUSH_BYTES = 256 * 1024;
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

class SpillFile {
  private chunks: string[] = [];
  private size = 0;
  private readonly fd: number;

  constructor(file: string) {
    this.fd = fs.openSync(file, 'w');
  }

  write(text: string) {
    this.chunks.push(text);
    this.size += text.length;
    if (this.size >= FLUSH_BYTES) this.flush();
  }

  flush() {
    if (this.chunks.length > 0) fs.writeSync(this.fd, this.chunks.join(''));
    this.chunks = [];
    this.size = 0;
  }

  close() {
    this.flush();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }
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
): Promise<{ problems: InputProblem[]; problemCount: number }> {
  const compiled = compilePlan(input.plan);
  const problems: InputProblem[] = [];
  let problemCount = 0;
  let records = 0;
  const report = (side: Side, p: ReadProblem) => {
    problemCount++;
    if (problems.length < MAX_PROBLEMS_KEPT) problems.push({ side, ...p });
  };
  for (const side of ['legacy', 'new'] as const) {
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
            files[partitionOf(key, partitions)].write(`${row.line}\t${row.raw ?? JSON.stringify(row.record)}\n`);
          }
          if (++records % HEARTBEAT_EVERY === 0) beat(records);
        }
      }
    } finally {
      for (const f of files) f.close();
    }
  }
  problems.sort((a, b) => (a.side === b.side ? a.line - b.line : a.side === 'legacy' ? -1 : 1));
  return { problems, problemCount };
}

function readSpill(file: string, side: Side, into: Reconciler) {
  const text = fs.readFileSync(file, 'utf8');
  let start = 0;
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', start)) {
    const tab = text.indexOf('\t', start);
    into.add(side, JSON.parse(text.slice(tab + 1, i)) as SourceRecord, Number(text.slice(start, tab)));
    start = i + 1;
    n++;
  }
  return n;
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
  const spilled = fs.existsSync(path.join(dir, MARKER));
  let records = 0;

  if (!spilled) {
    // A partial spill cannot be trusted; it is the cheap pass, so it starts over.
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const beat = (n: number) =>
      progress.heartbeat({ runId: input.runId, phase: 'spill', records: n, partitionsDone: 0, dir });
    const { problems, problemCount } = await spill(input, deps, dir, partitions, beat);
    if (problemCount > 0) {
      fs.rmSync(dir, { recursive: true, force: true });
      await prisma.reconciliationRun.update({
        where: { id: input.runId },
        data: { status: 'invalid', problemCount, problems, finishedAt: clock() },
      });
      log.info({ problemCount }, 'reconciliation refused malformed input');
      return { runId: input.runId, status: 'invalid', problemCount, problems };
    }
    fs.writeFileSync(path.join(dir, MARKER), JSON.stringify({ partitions }));
  }

  const resumedAt = run.partitionsDone;
  if (resumedAt > 0) {
    await prisma.reconciliationRun.update({ where: { id: input.runId }, data: { resumes: { increment: 1 } } });
    records = prior?.phase === 'reconcile' ? prior.records : 0;
    log.info({ resumedAt, records }, 'reconciliation resumed from its checkpoint');
  }
  let counts = run.counts as WindowCounts;
  const compiled = compilePlan(input.plan);
  for (let p = resumedAt; p < partitions; p++) {
    const found: Discrepancy[] = [];
    const reconciler = new Reconciler(compiled, (d) => found.push(d));
    records += readSpill(spillName(dir, 'legacy', p), 'legacy', reconciler);
    records += readSpill(spillName(dir, 'new', p), 'new', reconciler);
    counts = addCounts(counts, reconciler.finish());
    await prisma.$transaction([
      prisma.discrepancy.createMany({ data: found.map((d) => discrepancyRow(input.runId, p, d)) }),
      prisma.reconciliationRun.update({ where: { id: input.runId }, data: { partitionsDone: p + 1, counts } }),
    ]);
    progress.heartbeat({ runId: input.runId, phase: 'reconcile', records, partitionsDone: p + 1, dir });
    await deps.afterPartition?.(p);
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
  fs.rmSync(dir, { recursive: true, force: true });
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
