import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import {
  reconcileWindow,
  type ReconcileDeps,
  type ReconcileInput,
  type ReconcileProgress,
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
