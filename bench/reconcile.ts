// `npm run bench:reconcile`: one window of 1,000,000 record pairs with 0.3 % seeded discrepancies, reconciled by the
// same code the activity runs, into a fresh Postgres database. Prints time and resident memory.
// Flags: --pairs=N (default 1000000), --format=ndjson|csv, --partitions=N.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { reconcileWindow, type ReconcileProgress } from '../activities/reconcile';
import type { RecordFormat } from '../activities/record-sources';
import { createPrisma, migrateDatabase } from '../cli/database';
import { createLogger } from '../log';
import { loadCutoverPlan } from '../policies/cutover-plan';

const ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

function flag(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

const pairs = Number(flag('pairs', '1000000'));
const format = flag('format', 'ndjson') as RecordFormat;
const partitions = Number(flag('partitions', '64'));

// Seeded positions: 3 in every 1,000 keys, spread over the four kinds by a fixed pattern.
type Seed = 'mismatch' | 'critical' | 'missing_in_new' | 'missing_in_legacy' | 'duplicate' | null;
function seedOf(i: number): Seed {
  const r = (i * 7919) % 1000;
  if (r === 0) return 'mismatch';
  if (r === 1) return Math.floor(i / 1000) % 2 === 0 ? 'missing_in_new' : 'missing_in_legacy';
  if (r === 2) return i % 3 === 0 ? 'duplicate' : i % 3 === 1 ? 'critical' : 'mismatch';
  return null;
}

const COLUMNS = ['declarationRef', 'consignmentId', 'hsCode', 'customsValue', 'dutyAmount', 'currency', 'status'];
const STATUS = ['CLR', 'HLD', 'INS', 'REJ'];
const NEW_STATUS: Record<string, string> = { CLR: 'cleared', HLD: 'held', INS: 'physical_inspection', REJ: 'rejected' };

function legacyRow(i: number) {
  const value = ((i * 37) % 100_000) + 0.25;
  return {
    declarationRef: `DEC-${String(i).padStart(8, '0')}`,
    consignmentId: `CN${i}`,
    hsCode: `${8400 + (i % 90)}.${String(i % 100).padStart(2, '0')}.00`,
    customsValue: value.toFixed(2),
    dutyAmount: (value * 0.042).toFixed(2),
    currency: 'EUR',
    status: STATUS[i % 4],
  };
}

function newRow(i: number, seed: Seed) {
  const l = legacyRow(i);
  return {
    declarationRef: l.declarationRef,
    consignmentId: seed === 'critical' ? `CN${i}-X` : l.consignmentId,
    hsCode: l.hsCode.replace(/\./g, ''),
    customsValue: Number(l.customsValue),
    dutyAmount: Number(l.dutyAmount) + 0.004,
    currency: 'eur',
    status: seed === 'mismatch' ? 'rejected' : NEW_STATUS[l.status],
  };
}

function encode(row: Record<string, unknown>): string {
  return format === 'csv' ? COLUMNS.map((c) => String(row[c])).join(',') : JSON.stringify(row);
}

function writeLines(file: string, header: string | null, each: (emit: (line: string) => void) => void) {
  const fd = fs.openSync(file, 'w');
  let buf: string[] = header ? [header] : [];
  const emit = (line: string) => {
    buf.push(line);
    if (buf.length >= 10_000) {
      fs.writeSync(fd, buf.join('\n') + '\n');
      buf = [];
    }
  };
  each(emit);
  if (buf.length > 0) fs.writeSync(fd, buf.join('\n') + '\n');
  fs.closeSync(fd);
}

function generate(dir: string) {
  const header = format === 'csv' ? COLUMNS.join(',') : null;
  const legacyFile = path.join(dir, `legacy.${format}`);
  const newFile = path.join(dir, `new.${format}`);
  writeLines(legacyFile, header, (emit) => {
    for (let i = 1; i <= pairs; i++) {
      const seed = seedOf(i);
      if (seed === 'missing_in_legacy') continue;
      emit(encode(legacyRow(i)));
      if (seed === 'duplicate') emit(encode(legacyRow(i)));
    }
  });
  // The new system writes in another order (blocks of 1,000 reversed), as two systems rarely agree on order.
  writeLines(newFile, header, (emit) => {
    for (let block = 0; block * 1000 < pairs; block++) {
      for (let i = Math.min(pairs, block * 1000 + 1000); i > block * 1000; i--) {
        const seed = seedOf(i);
        if (seed !== 'missing_in_new') emit(encode(newRow(i, seed)));
      }
    }
  });
  return { legacyFile, newFile };
}

async function admin(sql: string) {
  const c = new Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;

async function main() {
  const loaded = loadCutoverPlan();
  if (!loaded.ok) throw new Error(loaded.error);
  const plan = loaded.policy;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-bench-reconcile-'));
  const dbName = `clearway_bench_${process.pid}`;
  try {
    await admin('SELECT 1');
  } catch {
    console.log('bench:reconcile skipped: no Postgres answers on 127.0.0.1:5432');
    return;
  }
  await admin(`CREATE DATABASE "${dbName}"`);
  const url = `postgresql://postgres@127.0.0.1:5432/${dbName}`;
  const log = createLogger({ level: 'silent', pretty: false });
  const prisma = createPrisma(url, { embedded: false });
  try {
    await migrateDatabase(url, log);
    let t = performance.now();
    const { legacyFile, newFile } = generate(dir);
    const sizes = fs.statSync(legacyFile).size + fs.statSync(newFile).size;
    console.log(
      `generated ${pairs.toLocaleString('en')} pairs as ${format} (${mb(sizes)}) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );

    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const phases: string[] = [];
    let phase = '';
    const progress = {
      details: undefined,
      heartbeat(d: ReconcileProgress) {
        if (d.phase !== phase) {
          phases.push(`${d.phase} from ${((performance.now() - t) / 1000).toFixed(1)} s`);
          phase = d.phase;
        }
      },
    };
    t = performance.now();
    const cpu0 = process.cpuUsage();
    const result = await reconcileWindow(
      { prisma, log, workDir: path.join(dir, 'work'), partitions },
      {
        runId: `bench-${process.pid}`,
        cutoverId: 'bench',
        window: 'w1',
        planVersion: 'bench',
        plan,
        legacy: { kind: 'file', path: legacyFile, format },
        new: { kind: 'file', path: newFile, format },
      },
      progress,
    );
    const seconds = (performance.now() - t) / 1000;
    const cpu = process.cpuUsage(cpu0);
    // CPU time as well as wall time: on a shared machine the wall clock also measures the neighbours.
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    if (result.status !== 'completed')
      throw new Error(`bench input was refused: ${JSON.stringify(result.problems[0])}`);
    const stored = await prisma.discrepancy.count({ where: { runId: result.runId } });
    const c = result.counts;
    console.log(
      `reconciled ${pairs.toLocaleString('en')} pairs (${format}, ${partitions} partitions) in ${seconds.toFixed(1)} s = ` +
        `${Math.round(pairs / seconds).toLocaleString('en')} pairs/s, ${cpuSeconds.toFixed(1)} s CPU; ${phases.join(', ')}; ` +
        `load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`,
    );
    console.log(
      `  keys ${c.keys}, matched ${c.matched}, mismatched ${c.mismatched} (critical ${c.criticalMismatches}), ` +
        `missing in legacy ${c.missingInLegacy}, missing in new ${c.missingInNew}, duplicates ${c.duplicates}; ` +
        `rate ${(result.rate * 100).toFixed(3)} %; ${stored} discrepancy rows stored`,
    );
    console.log(
      `  RSS before ${mb(baseline)}, peak ${mb(peak)} (sampled every 20 ms); process max RSS ${mb(process.resourceUsage().maxRSS * 1024)}`,
    );
  } finally {
    await prisma.$disconnect();
    await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
