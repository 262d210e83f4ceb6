// `npm run bench:rollout`: 100,000 measurements of the example plan's pilot phase ingested the way
// POST /rollouts/{id}/measurements does it (every row checked, each batch of 10,000 written by one statement)
// into a fresh Postgres database, then the pilot gate re-evaluated over all of them by the evaluateGate activity
// and replayed by what-if. Prints throughput and memory. Flags: --rows=N (default 100000), --batch=N (default 10000).
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import { createRolloutActivities, insertMeasurements } from '../activities/rollout';
import { createPrisma, migrateDatabase } from '../cli/database';
import { checkMeasurements, whatIf, type Observation } from '../domain/gate';
import { validateRolloutPlan, type Metric } from '../domain/rollout-plan';
import { createLogger } from '../log';
import { loadPolicyFile } from '../policies/load';

const ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
const HOUR = 3_600_000;

function flag(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

const total = Number(flag('rows', '100000'));
const batchSize = Number(flag('batch', '10000'));

// Hourly feeds of the four volume metrics over the last 14 days, plus a sign-off or stress test now and then.
const FEEDS: [Metric, (i: number) => number, number][] = [
  ['declaration-error-rate', (i) => 1 + (i % 9) / 10, 250],
  ['support-tickets-per-100', (i) => 2 + (i % 5) / 10, 250],
  ['throughput-vs-baseline', (i) => 90 + (i % 7), 250],
  ['training-completion', (i) => 85 + (i % 12), 12],
];

function row(i: number, now: number) {
  const [metric, value, sampleSize] =
    i % 1000 === 999 ? (['stress-test-passed', () => 1, 1] as const) : FEEDS[i % FEEDS.length];
  const end = now - (i % (14 * 24)) * HOUR - (i % 3600) * 1000 - 1000;
  return {
    phase: 'pilot',
    metric,
    value: value(i),
    sampleSize,
    windowStart: new Date(end - HOUR).toISOString(),
    windowEnd: new Date(end).toISOString(),
    source: `feed-${i % 8}`,
  };
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

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en')}/s`;

async function main() {
  const loaded = loadPolicyFile(path.join(__dirname, '../policies/rollout-plan.example.yaml'), validateRolloutPlan);
  if (!loaded.ok) throw new Error(loaded.error);
  const plan = loaded.policy;
  try {
    await admin('SELECT 1');
  } catch {
    console.log('bench:rollout skipped: no Postgres answers on 127.0.0.1:5432');
    return;
  }
  const dbName = `clearway_bench_rollout_${process.pid}`;
  await admin(`CREATE DATABASE "${dbName}"`);
  const url = `postgresql://postgres@127.0.0.1:5432/${dbName}`;
  const log = createLogger({ level: 'silent', pretty: false });
  const prisma = createPrisma(url, { embedded: false });
  try {
    await migrateDatabase(url, log);
    const rolloutId = randomUUID();
    const now = Date.now();
    const startedAt = new Date(now - 20 * 24 * HOUR).toISOString();

    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);

    let t = performance.now();
    let checkMs = 0;
    for (let first = 0; first < total; first += batchSize) {
      const raw = Array.from({ length: Math.min(batchSize, total - first) }, (_, k) => row(first + k, now));
      const c = performance.now();
      const { rows, problems } = checkMeasurements(plan, raw);
      checkMs += performance.now() - c;
      if (problems.length > 0) throw new Error(`generated rows are invalid: ${JSON.stringify(problems[0])}`);
      await insertMeasurements(prisma, { rolloutId, batchId: `bench-${first}`, by: 'bench', at: new Date(), rows });
    }
    const ingestMs = performance.now() - t;

    const acts = createRolloutActivities({ prisma, log, clock: () => new Date() });
    t = performance.now();
    const gate = await acts.evaluateGate({
      key: `bench/${rolloutId}`,
      rolloutId,
      plan,
      phase: 'pilot',
      at: new Date(now).toISOString(),
      rolloutStartedAt: startedAt,
      trigger: 'bench',
    });
    const gateMs = performance.now() - t;

    t = performance.now();
    const stored = await prisma.measurement.findMany({
      where: { rolloutId },
      select: { phase: true, metric: true, value: true, sampleSize: true, windowEnd: true },
    });
    const observations = stored.map(
      (r): Observation => ({ ...r, metric: r.metric as Metric, windowEnd: r.windowEnd.toISOString() }),
    );
    const readMs = performance.now() - t;
    t = performance.now();
    const replay = whatIf(plan, observations, { rolloutStartedAt: startedAt, phaseEnteredAt: { pilot: startedAt } });
    const replayMs = performance.now() - t;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);

    console.log(
      `ingest: ${total.toLocaleString('en')} measurements in batches of ${batchSize.toLocaleString('en')} in ` +
        `${(ingestMs / 1000).toFixed(2)} s (${rate(total, ingestMs)}; row checks ${(checkMs / 1000).toFixed(2)} s)`,
    );
    console.log(
      `gate: pilot re-evaluated over ${gate.criteria.reduce((n, c) => n + c.measurements, 0).toLocaleString('en')} ` +
        `measurements in ${gateMs.toFixed(0)} ms -> ${gate.status} ` +
        `(${gate.criteria.map((c) => `${c.metric} ${c.status}`).join(', ')})`,
    );
    console.log(
      `what-if: read ${observations.length.toLocaleString('en')} in ${readMs.toFixed(0)} ms, replayed ` +
        `${replay.phases[0].evaluations.toLocaleString('en')} gate evaluations in ${replayMs.toFixed(0)} ms ` +
        `(${rate(observations.length, replayMs)})`,
    );
    console.log(
      `memory: rss baseline ${mb(baseline)}, peak ${mb(peak)} (+${mb(peak - baseline)}), heap used ${mb(process.memoryUsage().heapUsed)}`,
    );
  } finally {
    await prisma.$disconnect();
    await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
