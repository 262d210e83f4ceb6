import { randomUUID } from 'node:crypto';
import { planInput, windowRecords } from '../cutover/fixtures';
import { evidence, fields } from '../helpers/change-requests';
import { postgresAvailable } from '../helpers/db';
import { eventually, parseExposition, startOnPostgres, total, type Exposition, type Started } from './support';

// A real `clearway start` process doing real work on real Postgres: minutes on a busy machine.
jest.setTimeout(300_000);

const TOKEN = 'metrics-token-for-the-test';
const CR = '/api/v1/change-requests';
const MIN = 60_000;

(postgresAvailable ? describe : describe.skip)('GET /metrics', () => {
  let started: Started;
  const scrape = async (): Promise<Exposition> => {
    const res = await fetch(`${started.base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(await res.text());
  };

  beforeAll(async () => {
    started = await startOnPostgres({ METRICS_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await started?.stop();
  });

  it('metrics: when METRICS_TOKEN is set, a scrape without it or with another one is refused with 401', async () => {
    const none = await fetch(`${started.base}/metrics`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    const wrong = await fetch(`${started.base}/metrics`, { headers: { authorization: 'Bearer not-the-token-at-all' } });
    expect(wrong.status).toBe(401);
  });

  it('metrics: when real work runs through the API and the worker, every family is exported and its counters move', async () => {
    const before = await scrape();
    expect(before.duplicates).toEqual([]);
    expect(total(before, 'clearway_metrics_source_up', { source: 'database' })).toBe(1);
    expect(total(before, 'clearway_metrics_source_up', { source: 'worker' })).toBe(1);

    const [specialist, specialist2, chair, steward, lead, operator] = await Promise.all([
      started.user(['integration-specialist']),
      started.user(['integration-specialist']),
      started.user(['ccb-chair']),
      started.user(['data-steward']),
      started.user(['rollout-lead']),
      started.user(['operator']),
    ]);
    const call = started.call;

    // A change request approved by the board: workflow start, updates, activities.
    const body = { ...fields(), evidence: evidence('documentation', 'test-evidence', 'rollback-plan') };
    const crId = (await call(specialist.token, 'POST', CR, body)).body.id as string;
    expect((await call(specialist.token, 'POST', `${CR}/${crId}/submit`)).status).toBe(200);
    for (const [user, role] of [
      [chair, 'ccb-chair'],
      [specialist2, 'integration-specialist'],
      [steward, 'data-steward'],
    ] as const) {
      const decided = await call(user.token, 'POST', `${CR}/${crId}/decisions`, { decision: 'approve', role });
      expect(decided.status).toBe(200);
    }
    expect((await call(steward.token, 'GET', `${CR}/${crId}`)).body.status).toBe('approved');
    // Approval ends that run; a withdrawal ends another: both close as completed.
    const withdrawnId = (await call(specialist.token, 'POST', CR, body)).body.id as string;
    expect((await call(specialist.token, 'POST', `${CR}/${withdrawnId}/withdraw`, {})).status).toBe(200);
    // An emergency change approved on the fast path stays open, owing its retrospective review.
    const emergency = { ...fields({ class: 'emergency' }), evidence: evidence('rollback-plan') };
    const emergencyId = (await call(specialist.token, 'POST', CR, emergency)).body.id as string;
    expect((await call(specialist.token, 'POST', `${CR}/${emergencyId}/submit`)).status).toBe(200);
    for (const [user, role] of [
      [chair, 'ccb-chair'],
      [steward, 'data-steward'],
    ] as const) {
      expect(
        (await call(user.token, 'POST', `${CR}/${emergencyId}/decisions`, { decision: 'approve', role })).status,
      ).toBe(200);
    }
    // And one under review. The deadlines of these two are moved into the past in the projection the gauges read.
    const reviewingId = (await call(specialist.token, 'POST', CR, body)).body.id as string;
    expect((await call(specialist.token, 'POST', `${CR}/${reviewingId}/submit`)).status).toBe(200);
    const past = new Date(Date.now() - 60_000);
    await started.prisma.changeRequest.update({ where: { id: emergencyId }, data: { retrospectiveDueAt: past } });
    await started.prisma.changeRequest.update({ where: { id: reviewingId }, data: { slaDueAt: past } });

    // A rollout whose gate is judged at start and again on a measurement.
    const plan = {
      phases: [
        {
          name: 'pilot',
          cohort: { sites: ['rotterdam-1'] },
          minimumSoak: 'PT1S',
          exitCriteria: [{ metric: 'declaration-error-rate', comparator: '<=', threshold: 2, minimumSample: 100 }],
        },
      ],
    };
    const rollout = await call(lead.token, 'POST', '/api/v1/rollouts', { changeRequestId: crId, plan });
    expect(rollout.status).toBe(201);
    const measured = await call(lead.token, 'POST', `/api/v1/rollouts/${rollout.body.id}/measurements`, {
      phase: 'pilot',
      metric: 'declaration-error-rate',
      value: 1.2,
      sampleSize: 500,
      windowStart: new Date(Date.now() - 61 * MIN).toISOString(),
      windowEnd: new Date(Date.now() - MIN).toISOString(),
      source: 'broker-feed',
    });
    expect(measured.status).toBe(201);

    // An escalation skipped up one level by hand.
    const escalation = await call(operator.token, 'POST', '/api/v1/escalations', {
      key: `obs-${randomUUID()}`,
      severity: 'normal',
      title: 'Tariff feed stale',
      owner: { user: specialist.id },
    });
    expect(escalation.status).toBe(201);
    const up = await call(specialist.token, 'POST', `/api/v1/escalations/${escalation.body.id}/escalate`, {
      reason: 'needs the data steward lead',
    });
    expect(up.body.level).toBe(2);

    // A cutover window of 200 record pairs, reconciled by the worker.
    const cutover = await call(lead.token, 'POST', '/api/v1/cutovers', { changeRequestId: crId, plan: planInput });
    expect(cutover.status).toBe(201);
    const { legacy, next } = windowRecords(200);
    for (const [side, records] of [
      ['legacy', legacy],
      ['new', next],
    ] as const) {
      const res = await fetch(`${started.base}/api/v1/cutovers/${cutover.body.id}/windows/d1/${side}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${steward.token}`, 'content-type': 'application/x-ndjson' },
        body: records.map((r) => JSON.stringify(r)).join('\n') + '\n',
      });
      expect(res.status).toBe(200);
    }
    expect(
      (await call(steward.token, 'POST', `/api/v1/cutovers/${cutover.body.id}/reconcile`, { window: 'd1' })).status,
    ).toBe(202);
    await eventually(
      () => call(steward.token, 'GET', `/api/v1/cutovers/${cutover.body.id}`),
      (res) => res.body.windows?.some((w: { window: string }) => w.window === 'd1'),
    );

    // Domain counts are cached for 5 s: poll until the scrape shows them all.
    const domainFigures = (e: Exposition) => ({
      reconciled: total(e, 'clearway_reconciliation_runs_total', { status: 'completed' }),
      gates: total(e, 'clearway_gate_evaluations_total'),
      closed: total(e, 'clearway_workflow_closed_total', { workflow_type: 'changeRequest', outcome: 'completed' }),
    });
    const after = await eventually(
      scrape,
      (e) => {
        const f = domainFigures(e);
        return f.reconciled === 1 && f.gates >= 2 && f.closed === 2;
      },
      domainFigures,
    );
    expect(after.duplicates).toEqual([]);

    // HTTP: one histogram, labelled by route template and status, never by a raw id.
    expect(after.types.get('clearway_http_request_duration_seconds')).toBe('histogram');
    const requests = (route: string, status: string, method = 'POST') =>
      total(after, 'clearway_http_request_duration_seconds_count', { method, route, status });
    expect(requests('/api/v1/change-requests', '201')).toBe(4);
    expect(requests('/api/v1/change-requests/{id}/decisions', '200')).toBe(5);
    expect(requests('/api/v1/change-requests/{id}', '200', 'GET')).toBe(1);
    expect(requests('/api/v1/cutovers/{id}/windows/{window}/legacy', '200')).toBe(1);
    expect(requests('/api/v1/cutovers/{id}/windows/{window}/new', '200')).toBe(1);
    expect(requests('/api/v1/escalations/{id}/escalate', '200')).toBe(1);
    const routes = new Set(after.samples.filter((s) => s.name.startsWith('clearway_http_')).map((s) => s.labels.route));
    for (const route of routes) expect(route).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}|esc-obs/);
    const buckets = after.samples.filter(
      (s) => s.name === 'clearway_http_request_duration_seconds_bucket' && s.labels.route === '/api/v1/change-requests',
    );
    expect(Object.keys(buckets[0].labels).sort()).toEqual(['le', 'method', 'route', 'status']);

    // Workflows: starts and outcomes by type, counted once each though every task replays the history.
    const wf = (name: string, labels: Record<string, string>) => total(after, name, labels);
    expect(after.types.get('clearway_workflow_started_total')).toBe('counter');
    expect(wf('clearway_workflow_started_total', { workflow_type: 'changeRequest' })).toBe(4);
    expect(wf('clearway_workflow_started_total', { workflow_type: 'rollout' })).toBe(1);
    expect(wf('clearway_workflow_started_total', { workflow_type: 'escalation' })).toBe(1);
    expect(wf('clearway_workflow_started_total', { workflow_type: 'cutover' })).toBe(1);
    const startedLabels = after.samples.find((s) => s.name === 'clearway_workflow_started_total')!.labels;
    expect(Object.keys(startedLabels).sort()).toEqual(['namespace', 'task_queue', 'workflow_type']);

    // Gates, escalations, reconciliation: counted from the tables every worker writes to.
    expect(after.types.get('clearway_gate_evaluations_total')).toBe('counter');
    const gates = after.samples.filter((s) => s.name === 'clearway_gate_evaluations_total');
    for (const g of gates) expect(['pass', 'fail', 'inconclusive']).toContain(g.labels.status);
    expect(total(after, 'clearway_gate_evaluations_total')).toBeGreaterThan(
      total(before, 'clearway_gate_evaluations_total'),
    );
    expect(total(after, 'clearway_escalation_climbs_total', { reason: 'escalated', severity: 'normal' })).toBe(1);
    expect(total(after, 'clearway_reconciliation_records_total', { side: 'legacy' })).toBe(200);
    expect(total(after, 'clearway_reconciliation_records_total', { side: 'new' })).toBe(200);
    expect(total(after, 'clearway_reconciliation_discrepant_keys_total')).toBe(0);
    expect(total(after, 'clearway_reconciliation_running')).toBe(0);
    expect(total(after, 'clearway_reconciliation_last_run_records_per_second')).toBeGreaterThan(0);
    // Change requests: by status and class, what is overdue, the retrospectives owed.
    expect(after.types.get('clearway_change_requests')).toBe('gauge');
    expect(total(after, 'clearway_change_requests', { status: 'approved', class: 'normal' })).toBe(1);
    expect(total(after, 'clearway_change_requests', { status: 'withdrawn', class: 'normal' })).toBe(1);
    expect(total(after, 'clearway_change_requests', { status: 'approved', class: 'emergency' })).toBe(1);
    expect(total(after, 'clearway_change_requests', { status: 'under_review', class: 'normal' })).toBe(1);
    expect(total(after, 'clearway_change_requests_overdue', { deadline: 'decision' })).toBe(1);
    expect(total(after, 'clearway_change_requests_overdue', { deadline: 'retrospective' })).toBe(1);
    expect(total(after, 'clearway_change_request_retrospectives_pending')).toBe(1);

    // The worker's own runtime metrics from the Temporal SDK, in the same scrape.
    expect(total(after, 'temporal_workflow_completed_total', { workflow_type: 'changeRequest' })).toBe(2);
    expect(total(after, 'temporal_activity_execution_latency_seconds_count')).toBeGreaterThan(0);
    expect(after.samples.some((s) => s.name === 'temporal_worker_task_slots_available')).toBe(true);
    // And the process's own.
    expect(total(after, 'process_cpu_seconds_total')).toBeGreaterThan(0);
  });
});
