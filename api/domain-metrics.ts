import { Counter, Gauge, type Registry } from 'prom-client';
import type { PrismaClient } from '../generated/prisma/client';
import type { Logger } from '../log';

/** What the process tables say at one moment; every figure covers all workers and API processes alike. */
export interface DomainCounts {
  gates: { status: string; n: number }[];
  climbs: { reason: string; severity: string; n: number }[];
  runs: { status: string; runs: number; legacy: number; new: number; discrepant: number; seconds: number }[];
  lastRun: { records: number; seconds: number } | null;
  changeRequests: { status: string; class: string; n: number }[];
  /** Reviews past their decision SLA, and approved changes past their retrospective's due time without it. */
  overdue: { decision: number; retrospective: number; retrospectivePending: number };
}

/** Reads the counts behind the domain metrics from Postgres. */
export async function readDomainCounts(prisma: PrismaClient): Promise<DomainCounts> {
  // One query at a time: the embedded database serves few connections, and a scrape is never in a hurry.
  const gates = await prisma.$queryRaw<DomainCounts['gates']>`
    SELECT status, count(*)::int AS n FROM "GateEvaluation" GROUP BY status`;
  const climbs = await prisma.$queryRaw<DomainCounts['climbs']>`
    SELECT s."leftBecause" AS reason, e.severity, count(*)::int AS n
    FROM "EscalationStep" s JOIN "Escalation" e ON e.id = s."escalationId"
    WHERE s."leftBecause" IN ('climbed', 'escalated')
    GROUP BY 1, 2`;
  const runs = await prisma.$queryRaw<DomainCounts['runs']>`
    SELECT status, count(*)::int AS runs,
      coalesce(sum((counts->>'legacyRecords')::bigint), 0)::float8 AS legacy,
      coalesce(sum((counts->>'newRecords')::bigint), 0)::float8 AS new,
      coalesce(sum((counts->>'discrepantKeys')::bigint), 0)::float8 AS discrepant,
      coalesce(sum(extract(epoch FROM "finishedAt" - "startedAt")), 0)::float8 AS seconds
    FROM "ReconciliationRun" GROUP BY status`;
  const [last] = await prisma.$queryRaw<{ records: number; seconds: number }[]>`
    SELECT ((counts->>'legacyRecords')::bigint + (counts->>'newRecords')::bigint)::float8 AS records,
      extract(epoch FROM "finishedAt" - "startedAt")::float8 AS seconds
    FROM "ReconciliationRun" WHERE status = 'completed' AND "finishedAt" IS NOT NULL
    ORDER BY "finishedAt" DESC LIMIT 1`;
  const changeRequests = await prisma.$queryRaw<DomainCounts['changeRequests']>`
    SELECT status, class, count(*)::int AS n FROM "ChangeRequest" GROUP BY 1, 2`;
  const [overdue] = await prisma.$queryRaw<DomainCounts['overdue'][]>`
    SELECT count(*) FILTER (WHERE status = 'under_review' AND "slaDueAt" < now())::int AS decision,
      count(*) FILTER (WHERE "retrospectiveRole" IS NOT NULL AND "retrospectiveDueAt" < now())::int AS retrospective,
      count(*) FILTER (WHERE "retrospectiveRole" IS NOT NULL)::int AS "retrospectivePending"
    FROM "ChangeRequest"`;
  return { gates, climbs, runs, lastRun: last ?? null, changeRequests, overdue };
}

/**
 * Registers the domain metrics on `registry`. They are counted from the append-only process tables when scraped (at
 * most once per `cacheMs`), not kept in this process's memory: gate evaluations, escalation steps and reconciliation
 * runs are written by activities on whichever worker ran them, so only the database sees them all. When the database
 * does not answer, the metrics are left out of that scrape and `clearway_metrics_source_up{source="database"}` is 0.
 * Returns the loader, so a scrape can read the counts (and set `up`) before any metric is written out.
 */
export function registerDomainMetrics(
  registry: Registry,
  prisma: PrismaClient,
  log: Logger,
  up: Gauge<'source'>,
  cacheMs: number,
): () => Promise<DomainCounts | null> {
  let cached: { at: number; counts: Promise<DomainCounts | null> } | undefined;
  const load = (): Promise<DomainCounts | null> => {
    const now = Date.now();
    if (cached && now - cached.at < cacheMs) return cached.counts;
    const counts = readDomainCounts(prisma).then(
      (c) => {
        up.set({ source: 'database' }, 1);
        return c;
      },
      (e: unknown) => {
        log.warn({ err: e }, 'metrics: the database did not answer');
        up.set({ source: 'database' }, 0);
        return null;
      },
    );
    cached = { at: now, counts };
    return counts;
  };

  // Each scrape refills a family from the counts: reset, then add each row (a counter's value is the table's total).
  const family =
    (Metric: typeof Counter | typeof Gauge) =>
    <L extends string>(
      name: string,
      help: string,
      labelNames: L[],
      fill: (c: DomainCounts, add: (labels: Record<L, string>, value: number) => void) => void,
    ) =>
      new (Metric as typeof Counter<L>)({
        name,
        help,
        labelNames,
        registers: [registry],
        async collect() {
          const counts = await load();
          this.reset();
          if (counts) fill(counts, (labels, value) => this.inc(labels, value));
        },
      });
  const counter = family(Counter);
  const gauge = family(Gauge);

  counter(
    'clearway_gate_evaluations_total',
    'Rollout gate evaluations recorded, by outcome (pass, fail, inconclusive)',
    ['status'],
    (c, set) => c.gates.forEach((g) => set({ status: g.status }, g.n)),
  );
  counter(
    'clearway_escalation_climbs_total',
    'Escalations moved up a level: climbed when a window passed unanswered, escalated when skipped up by hand',
    ['reason', 'severity'],
    (c, set) => c.climbs.forEach((r) => set({ reason: r.reason, severity: r.severity }, r.n)),
  );
  counter(
    'clearway_reconciliation_runs_total',
    'Reconciliation runs finished, by status (completed, invalid, cancelled, failed)',
    ['status'],
    (c, set) => c.runs.filter((r) => r.status !== 'running').forEach((r) => set({ status: r.status }, r.runs)),
  );
  counter(
    'clearway_reconciliation_records_total',
    'Records reconciled from each side (legacy, new), partitions of running reconciliations included',
    ['side'],
    (c, set) => {
      set(
        { side: 'legacy' },
        c.runs.reduce((sum, r) => sum + r.legacy, 0),
      );
      set(
        { side: 'new' },
        c.runs.reduce((sum, r) => sum + r.new, 0),
      );
    },
  );
  counter(
    'clearway_reconciliation_discrepant_keys_total',
    'Record keys the two systems disagreed on, over all reconciliations',
    [],
    (c, set) =>
      set(
        {},
        c.runs.reduce((sum, r) => sum + r.discrepant, 0),
      ),
  );
  counter(
    'clearway_reconciliation_seconds_total',
    'Wall time spent by finished reconciliation runs, first start to finish',
    [],
    (c, set) =>
      set(
        {},
        c.runs.reduce((sum, r) => sum + r.seconds, 0),
      ),
  );
  gauge('clearway_change_requests', 'Change requests by status and class', ['status', 'class'], (c, set) =>
    c.changeRequests.forEach((r) => set({ status: r.status, class: r.class }, r.n)),
  );
  gauge(
    'clearway_change_requests_overdue',
    'Change requests past a deadline: decision (under review past the SLA), retrospective (approved, review owed past its due time)',
    ['deadline'],
    (c, set) => {
      set({ deadline: 'decision' }, c.overdue.decision);
      set({ deadline: 'retrospective' }, c.overdue.retrospective);
    },
  );
  gauge(
    'clearway_change_request_retrospectives_pending',
    'Approved emergency changes whose retrospective review is owed',
    [],
    (c, set) => set({}, c.overdue.retrospectivePending),
  );
  gauge('clearway_reconciliation_running', 'Reconciliation runs in progress', [], (c, add) =>
    add({}, c.runs.find((r) => r.status === 'running')?.runs ?? 0),
  );
  gauge(
    'clearway_reconciliation_last_run_records_per_second',
    'Records (both sides) per second of the most recently completed reconciliation run',
    [],
    (c, add) => {
      if (c.lastRun && c.lastRun.seconds > 0) add({}, c.lastRun.records / c.lastRun.seconds);
    },
  );
  return load;
}
