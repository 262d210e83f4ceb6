import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { Client } from 'pg';
import {
  reconcileWindow,
  type ReconcileDeps,
  type ReconcileInput,
  type ReconcileProgress,
  type SpillState,
} from '../../activities/reconcile';
import { backends, createTestDatabase, silentLog, type TestDb } from '../helpers/db';
import { plan, windowRecords, writeCsv, writeNdjson } from './fixtures';

function recorder(details?: unknown) {
  const beats: ReconcileProgress[] = [];
  return { beats, progress: { details, heartbeat: (d: ReconcileProgress) => beats.push(d) } };
}

describe.each(backends())('reconcile activity on %s', (backend) => {
  let db: TestDb;
  let dir: string;
  let deps: ReconcileDeps;
  let n = 0;

  beforeAll(async () => {
    db = await createTestDatabase(backend);
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-recon-'));
    deps = {
      prisma: db.prisma,
      log: silentLog,
      workDir: path.join(dir, 'work'),
      partitions: 8,
      checkpointRecords: 1,
      databaseUrl: db.url,
    };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function input(legacy: ReconcileInput['legacy'], next: ReconcileInput['new']): ReconcileInput {
    return {
      runId: `run-${backend}-${++n}`,
      cutoverId: 'co-1',
      window: '2026-11-25',
      planVersion: 'sha256:test',
      plan,
      legacy,
      new: next,
    };
  }

  function ndjsonWindow(count: number, seeds: Parameters<typeof windowRecords>[1]) {
    const { legacy, next } = windowRecords(count, seeds);
    writeNdjson(path.join(dir, 'legacy.ndjson'), legacy);
    writeNdjson(path.join(dir, 'new.ndjson'), next);
    return input(
      { kind: 'file', path: path.join(dir, 'legacy.ndjson'), format: 'ndjson' },
      { kind: 'file', path: path.join(dir, 'new.ndjson'), format: 'ndjson' },
    );
  }

  it('reconcileWindow: when NDJSON windows differ, only the discrepancies are stored and the run holds the counts', async () => {
    const job = ndjsonWindow(1000, {
      mismatch: [10],
      critical: [20],
      missingInNew: [30],
      missingInLegacy: [40],
      duplicate: [50],
    });
    const { progress, beats } = recorder();
    const result = await reconcileWindow(deps, job, progress);
    expect(result).toMatchObject({
      status: 'completed',
      counts: {
        keys: 1000,
        matched: 996,
        mismatched: 2,
        criticalMismatches: 1,
        missingInNew: 1,
        missingInLegacy: 1,
        duplicates: 1,
        discrepantKeys: 5,
      },
      rate: 0.005,
      clean: false,
      reasons: ['1 critical-field mismatches (at most 0)'],
      resumedAt: 0,
    });
    const rows = await db.prisma.discrepancy.findMany({ where: { runId: job.runId }, orderBy: { key: 'asc' } });
    expect(rows.map((r) => [r.kind, r.key, r.fields, r.critical, r.legacyLine, r.newLine])).toEqual([
      ['mismatch', 'D0000010', ['status'], false, 10, 10],
      ['mismatch', 'D0000020', ['consignment'], true, 20, 20],
      ['missing_in_new', 'D0000030', [], false, 30, null],
      ['missing_in_legacy', 'D0000040', [], false, null, 39],
      ['duplicate', 'D0000050', [], false, 50, null],
    ]);
    const run = await db.prisma.reconciliationRun.findUniqueOrThrow({ where: { id: job.runId } });
    expect(run).toMatchObject({ status: 'completed', partitionsDone: 8, resumes: 0, clean: false });
    expect(beats.at(-1)).toMatchObject({ phase: 'reconcile', partitionsDone: 8, records: 1999 });
  });

  it('reconcileWindow: when the legacy side is CSV and the new side NDJSON, a clean window is judged clean', async () => {
    const { legacy, next } = windowRecords(200);
    writeCsv(path.join(dir, 'legacy.csv'), ['ref', 'consignment', 'duty', 'hs', 'status'], legacy);
    writeNdjson(path.join(dir, 'new.ndjson'), next);
    const job = input(
      { kind: 'file', path: path.join(dir, 'legacy.csv'), format: 'csv' },
      { kind: 'file', path: path.join(dir, 'new.ndjson'), format: 'ndjson' },
    );
    const result = await reconcileWindow(deps, job, recorder().progress);
    expect(result).toMatchObject({ status: 'completed', clean: true, rate: 0, counts: { keys: 200, matched: 200 } });
    expect(await db.prisma.discrepancy.count({ where: { runId: job.runId } })).toBe(0);
  });

  it('reconcileWindow: when rows are malformed, each is reported with its side and line and no discrepancy is stored', async () => {
    const { legacy, next } = windowRecords(20, { mismatch: [2] });
    writeCsv(path.join(dir, 'legacy.csv'), ['ref', 'consignment', 'duty', 'hs', 'status'], legacy);
    fs.appendFileSync(path.join(dir, 'legacy.csv'), 'D9,C9,1.00\n,C10,1.00,8471,CLR\n');
    writeNdjson(path.join(dir, 'new.ndjson'), next);
    const lines = fs.readFileSync(path.join(dir, 'new.ndjson'), 'utf8').split('\n');
    lines.splice(4, 0, '{"ref": "D5", broken', '[1,2]');
    fs.writeFileSync(path.join(dir, 'new.ndjson'), lines.join('\n'));
    const job = input(
      { kind: 'file', path: path.join(dir, 'legacy.csv'), format: 'csv' },
      { kind: 'file', path: path.join(dir, 'new.ndjson'), format: 'ndjson' },
    );
    const result = await reconcileWindow(deps, job, recorder().progress);
    expect(result).toMatchObject({ status: 'invalid', problemCount: 4 });
    expect(result.status === 'invalid' && result.problems.map((p) => [p.side, p.line])).toEqual([
      ['legacy', 22],
      ['legacy', 23],
      ['new', 5],
      ['new', 6],
    ]);
    expect(await db.prisma.discrepancy.count({ where: { runId: job.runId } })).toBe(0);
    expect(await db.prisma.reconciliationRun.findUniqueOrThrow({ where: { id: job.runId } })).toMatchObject({
      status: 'invalid',
      problemCount: 4,
    });
  });

  it('reconcileWindow: when a CSV header lacks a compared field, line 1 is reported', async () => {
    writeCsv(path.join(dir, 'legacy.csv'), ['ref', 'consignment', 'duty', 'status'], windowRecords(3).legacy);
    writeNdjson(path.join(dir, 'new.ndjson'), windowRecords(3).next);
    const job = input(
      { kind: 'file', path: path.join(dir, 'legacy.csv'), format: 'csv' },
      { kind: 'file', path: path.join(dir, 'new.ndjson'), format: 'ndjson' },
    );
    const result = await reconcileWindow(deps, job, recorder().progress);
    expect(result).toMatchObject({
      status: 'invalid',
      problems: [{ side: 'legacy', line: 1, message: 'the header lacks hs' }],
    });
  });

  it('reconcileWindow: when an attempt dies after some partitions, the next resumes after the last commit and stores nothing twice', async () => {
    const job = ndjsonWindow(2000, { mismatch: [1, 500, 999, 1500, 2000], missingInNew: [700] });
    const first = recorder();
    const crash = {
      ...deps,
      afterCheckpoint: async (done: number) => {
        if (done === 3) throw new Error('worker lost');
      },
    };
    await expect(reconcileWindow(crash, job, first.progress)).rejects.toThrow('worker lost');
    const checkpoint = first.beats.at(-1)!;
    expect(checkpoint).toMatchObject({ phase: 'reconcile', partitionsDone: 3 });

    const second = recorder(checkpoint);
    const result = await reconcileWindow(deps, job, second.progress);
    expect(result).toMatchObject({
      status: 'completed',
      resumedAt: 3,
      counts: { keys: 2000, mismatched: 5, missingInNew: 1 },
    });
    expect(second.beats.map((b) => b.phase)).not.toContain('spill');
    expect(second.beats.at(-1)!.records).toBe(3999);
    expect(await db.prisma.discrepancy.count({ where: { runId: job.runId } })).toBe(6);
    expect(await db.prisma.reconciliationRun.findUniqueOrThrow({ where: { id: job.runId } })).toMatchObject({
      resumes: 1,
    });
  });

  it('reconcileWindow: when an attempt dies mid-spill, the next continues the spill from the last checkpoint and counts every record once', async () => {
    const { legacy, next } = windowRecords(3000, { mismatch: [2, 1700, 2999], missingInNew: [10], duplicate: [2400] });
    writeCsv(path.join(dir, 'legacy.csv'), ['ref', 'consignment', 'duty', 'hs', 'status'], legacy);
    writeNdjson(path.join(dir, 'new.ndjson'), next);
    const job = input(
      { kind: 'file', path: path.join(dir, 'legacy.csv'), format: 'csv' },
      { kind: 'file', path: path.join(dir, 'new.ndjson'), format: 'ndjson' },
    );
    const small = { ...deps, spillCheckpointMs: 0, readChunkBytes: 4096 };
    // One attempt dies in the legacy CSV, the next in the new side's NDJSON, the third finishes.
    const crashAt = (side: 'legacy' | 'new') => ({
      ...small,
      afterSpillCheckpoint: async (state: SpillState) => {
        if (state.side === side && state.records[side] > 1000) throw new Error('worker lost');
      },
    });
    const first = recorder();
    await expect(reconcileWindow(crashAt('legacy'), job, first.progress)).rejects.toThrow('worker lost');
    const atCrash = first.beats.at(-1)!;
    expect(atCrash).toMatchObject({ phase: 'spill', spill: { side: 'legacy' } });

    const second = recorder(atCrash);
    await expect(reconcileWindow(crashAt('new'), job, second.progress)).rejects.toThrow('worker lost');
    // The second attempt never read the legacy rows before the checkpoint again.
    expect(second.beats[0].records).toBeGreaterThanOrEqual(atCrash.spill!.records.legacy);
    const third = recorder(second.beats.at(-1));
    const result = await reconcileWindow(small, job, third.progress);
    expect(third.beats[0].spill).toMatchObject({ side: 'new' });
    expect(third.beats[0].records).toBeGreaterThan(3000);
    expect(result).toMatchObject({
      status: 'completed',
      counts: { keys: 3000, legacyRecords: 3001, newRecords: 2999, mismatched: 3, missingInNew: 1, duplicates: 1 },
    });
    expect(await db.prisma.discrepancy.count({ where: { runId: job.runId } })).toBe(5);
    expect(await db.prisma.reconciliationRun.findUniqueOrThrow({ where: { id: job.runId } })).toMatchObject({
      resumes: 2,
    });
  });

  it.each([
    ['spill', { spillCheckpointMs: 0, readChunkBytes: 4096 }],
    ['reconcile', {}],
  ] as const)(
    'reconcileWindow: when cancelled during the %s pass, it stops, removes its spill and partial results and ends cancelled',
    async (phase, tuning) => {
      const job = ndjsonWindow(2000, { mismatch: [1, 500, 999, 1500, 2000] });
      const controller = new AbortController();
      const stop = () => controller.abort(new CancelledFailure('CANCELLED'));
      const { progress, beats } = recorder();
      const attempt = reconcileWindow(
        {
          ...deps,
          ...tuning,
          afterSpillCheckpoint: async () => (phase === 'spill' ? stop() : undefined),
          afterCheckpoint: async (done) => (done === 3 ? stop() : undefined),
        },
        job,
        { ...progress, signal: controller.signal, abandoned: () => true },
      );
      await expect(attempt).rejects.toBeInstanceOf(CancelledFailure);
      expect(beats.at(-1)!.phase).toBe(phase);
      expect(fs.existsSync(beats.at(-1)!.dir)).toBe(false);
      expect(await db.prisma.reconciliationRun.findUniqueOrThrow({ where: { id: job.runId } })).toMatchObject({
        status: 'cancelled',
        finishedAt: expect.any(Date),
      });
      expect(await db.prisma.discrepancy.count({ where: { runId: job.runId } })).toBe(0);
      // A cancelled run is over: asking for it again is refused, never restarted.
      await expect(reconcileWindow(deps, job, recorder().progress)).rejects.toMatchObject({
        type: 'RECONCILIATION_CANCELLED',
      });
    },
  );

  it('reconcileWindow: when an attempt is interrupted rather than cancelled (worker shutting down), its spill stays for the retry', async () => {
    const job = ndjsonWindow(2000, { mismatch: [1, 1500] });
    const controller = new AbortController();
    const first = recorder();
    const attempt = reconcileWindow(
      {
        ...deps,
        afterCheckpoint: async (done) => void (done === 2 && controller.abort(new CancelledFailure('WORKER_SHUTDOWN'))),
      },
      job,
      { ...first.progress, signal: controller.signal, abandoned: () => false },
    );
    await expect(attempt).rejects.toBeInstanceOf(CancelledFailure);
    expect(fs.existsSync(first.beats.at(-1)!.dir)).toBe(true);
    const result = await reconcileWindow(deps, job, recorder(first.beats.at(-1)).progress);
    expect(result).toMatchObject({ status: 'completed', resumedAt: 2, counts: { mismatched: 2 } });
  });

  it('reconcileWindow: when an upload is missing, the window is invalid and names the side', async () => {
    const job = ndjsonWindow(10, {});
    fs.rmSync(path.join(dir, 'new.ndjson'));
    const result = await reconcileWindow(deps, job, recorder().progress);
    expect(result).toMatchObject({
      status: 'invalid',
      problemSides: ['new'],
      problems: [{ side: 'new', line: 0, message: 'the staged upload is missing' }],
    });
  });

  it('reconcileWindow: when the work folder holds spills of finished runs or untouched for a day, they are removed', async () => {
    const finished = ndjsonWindow(20, {});
    await reconcileWindow(deps, finished, recorder().progress);
    const work = deps.workDir;
    const finishedDir = path.join(work, finished.runId.replace(/[^A-Za-z0-9._-]/g, '_'));
    fs.mkdirSync(finishedDir, { recursive: true });
    fs.writeFileSync(path.join(finishedDir, 'run.json'), JSON.stringify({ runId: finished.runId }));
    const stale = path.join(work, 'someone-else');
    fs.mkdirSync(stale);
    fs.writeFileSync(path.join(stale, 'run.json'), JSON.stringify({ runId: 'unknown-run' }));
    const dayAgo = new Date(Date.now() - 25 * 3600_000);
    fs.utimesSync(path.join(stale, 'run.json'), dayAgo, dayAgo);
    const fresh = path.join(work, 'in-flight-elsewhere');
    fs.mkdirSync(fresh);
    fs.writeFileSync(path.join(fresh, 'run.json'), JSON.stringify({ runId: 'another-db-run' }));

    await reconcileWindow(deps, ndjsonWindow(20, {}), recorder().progress);
    expect(fs.existsSync(finishedDir)).toBe(false);
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(fresh)).toBe(true);
  });

  it('reconcileWindow: when checkpoints are 1,000 records apart, partitions commit in groups and the last one always commits', async () => {
    const job = ndjsonWindow(1000, { mismatch: [9] });
    const { progress, beats } = recorder();
    const commits: number[] = [];
    await reconcileWindow(
      { ...deps, checkpointRecords: 1000, afterCheckpoint: async (done) => void commits.push(done) },
      job,
      progress,
    );
    expect(commits.length).toBeLessThan(8);
    expect(commits.at(-1)).toBe(8);
    expect(beats.filter((b) => b.phase === 'reconcile').map((b) => b.partitionsDone)).toEqual(commits);
  });

  it('reconcileWindow: when a finished run is asked again, the stored result is returned unchanged', async () => {
    const job = ndjsonWindow(50, { mismatch: [3] });
    const once = await reconcileWindow(deps, job, recorder().progress);
    const again = await reconcileWindow(deps, job, recorder().progress);
    expect(again).toEqual(once);
    expect(await db.prisma.discrepancy.count({ where: { runId: job.runId } })).toBe(1);
  });

  (backend === 'postgres' ? it : it.skip)(
    'reconcileWindow: when the plan names two tables, the window is read from them',
    async () => {
      const client = new Client({ connectionString: db.url });
      await client.connect();
      try {
        for (const t of ['legacy_decl', 'new_decl']) {
          await client.query(
            `CREATE TABLE ${t} (win text, ref text, consignment text, duty numeric, hs text, status text)`,
          );
        }
        const { legacy, next } = windowRecords(30, { mismatch: [7] });
        for (const [t, rows] of [
          ['legacy_decl', legacy],
          ['new_decl', next],
        ] as const) {
          for (const r of rows)
            await client.query(`INSERT INTO ${t} VALUES ('w1', $1, $2, $3, $4, $5)`, [
              r.ref,
              r.consignment,
              r.duty,
              r.hs,
              r.status,
            ]);
          await client.query(`INSERT INTO ${t} VALUES ('w2', 'OTHER', 'C', 1, '1', 'CLR')`);
        }
      } finally {
        await client.end();
      }
      const job = input(
        { kind: 'table', table: 'legacy_decl', windowColumn: 'win', window: 'w1' },
        { kind: 'table', table: 'new_decl', windowColumn: 'win', window: 'w1' },
      );
      const result = await reconcileWindow(deps, job, recorder().progress);
      expect(result).toMatchObject({ status: 'completed', counts: { keys: 30, mismatched: 1, matched: 29 } });
    },
  );
});
