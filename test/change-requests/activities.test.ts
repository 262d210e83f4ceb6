import { createHmac, randomUUID } from 'node:crypto';
import { createChangeRequestActivities, type ChangeRequestWrite } from '../../activities/change-request';
import type { Notification } from '../../activities/notifier';
import { SIGNATURE_HEADER, createSignedWebhookNotifier, signWebhook } from '../../activities/signed-webhook';
import { applyDecision, openChangeRequest, submitChangeRequest, toView } from '../../domain/change-request';
import { evidence, fields, people, recordingNotifier, shippedPolicy } from '../helpers/change-requests';
import { backends, createTestDatabase, silentLog, type TestDb } from '../helpers/db';

const T0 = '2026-03-02T09:00:00.000Z';

function steps(id: string): ChangeRequestWrite[] {
  const { policy, version } = shippedPolicy();
  const opened = openChangeRequest({
    id,
    by: people.requester.id,
    at: T0,
    fields: fields(),
    evidence: evidence('documentation', 'test-evidence', 'rollback-plan'),
    policy,
    policyVersion: version,
  });
  if (!opened.ok) throw new Error(opened.message);
  const submitted = submitChangeRequest(opened.state, { by: people.requester.id, at: T0 });
  if (!submitted.ok) throw new Error(submitted.message);
  const decided = applyDecision(
    submitted.state,
    { decision: 'approve', role: 'ccb-chair', by: people.chair.id, at: T0 },
    people.chair,
  );
  if (!decided.ok) throw new Error(decided.message);
  return [opened, submitted, decided].map((r, i) => ({ revision: i + 1, view: toView(r.state), events: r.events }));
}

describe.each(backends())('change-request activities on %s', (backend) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDatabase(backend);
  });
  afterAll(async () => {
    await db?.close();
  });

  const activities = (runId: string | null = null) =>
    createChangeRequestActivities({
      prisma: db.prisma,
      clock: () => new Date('2026-03-02T09:00:01.000Z'),
      notifier: recordingNotifier(),
      currentRun: () => runId,
    });

  it('recordChangeRequest: when a write is retried, the second run writes nothing', async () => {
    const id = randomUUID();
    const [opened, submitted, decided] = steps(id);
    const acts = activities();
    for (const write of [opened, submitted, decided]) expect((await acts.recordChangeRequest(write)).outcome).toBe('written');
    const audits = await db.prisma.auditEvent.count({ where: { subjectId: id } });
    expect((await acts.recordChangeRequest(decided)).outcome).toBe('already-written');
    expect((await acts.recordChangeRequest(opened)).outcome).toBe('already-written');
    expect(await db.prisma.auditEvent.count({ where: { subjectId: id } })).toBe(audits);
    expect(await db.prisma.decision.count({ where: { changeRequestId: id } })).toBe(1);
    expect(await db.prisma.evidence.count({ where: { changeRequestId: id } })).toBe(3);
  });

  it('recordChangeRequest: when an older revision arrives after a newer one, the projection keeps the newer', async () => {
    const id = randomUUID();
    const [opened, submitted, decided] = steps(id);
    const acts = activities();
    await acts.recordChangeRequest(opened);
    await acts.recordChangeRequest(decided);
    expect((await acts.recordChangeRequest(submitted)).outcome).toBe('already-written');
    const row = await db.prisma.changeRequest.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ revision: 3, voters: ['u-chair'], status: 'under_review' });
    expect(row.pendingRoles).toEqual(['integration-specialist', 'data-steward']);
  });

  it('recordChangeRequest: when a reset run writes an earlier revision, it takes the row over and the ended run is ignored', async () => {
    const id = randomUUID();
    const [opened, submitted, decided] = steps(id);
    for (const write of [opened, submitted, decided]) await activities('run-a').recordChangeRequest(write);
    expect(await db.prisma.decision.count({ where: { changeRequestId: id } })).toBe(1);

    // Run b went back to after submit and writes its view there, with no new events.
    const rewound = { ...submitted, revision: 3, events: [] };
    expect(await activities('run-b').recordChangeRequest(rewound)).toEqual({ outcome: 'written', runId: 'run-b' });
    const row = await db.prisma.changeRequest.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ revision: 3, runId: 'run-b', supersededRuns: ['run-a'], voters: [], status: 'under_review' });
    expect(await db.prisma.decision.count({ where: { changeRequestId: id } })).toBe(0);
    expect(await db.prisma.evidence.count({ where: { changeRequestId: id } })).toBe(3);
    const reset = await db.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: id, action: 'CHANGE_REQUEST_RESET' } });
    expect(reset.payload).toMatchObject({ runId: 'run-b', endedRunId: 'run-a', revision: 3, endedRevision: 3 });

    // A late write of the ended run, however new its revision, changes nothing; run b's retry neither.
    expect((await activities('run-a').recordChangeRequest({ ...decided, revision: 9 })).outcome).toBe('already-written');
    expect((await activities('run-b').recordChangeRequest(rewound)).outcome).toBe('already-written');
    expect(await db.prisma.changeRequest.findUniqueOrThrow({ where: { id } })).toMatchObject({ revision: 3, runId: 'run-b' });
    expect(await db.prisma.auditEvent.count({ where: { subjectId: id, action: 'CHANGE_REQUEST_RESET' } })).toBe(1);

    // Run b goes on as any run does.
    expect((await activities('run-b').recordChangeRequest({ ...decided, revision: 4 })).outcome).toBe('written');
    expect(await db.prisma.decision.count({ where: { changeRequestId: id } })).toBe(1);
  });

  it('recordChangeRequest: when a row written before runs were recorded meets a write of another revision, the revision rule holds', async () => {
    const id = randomUUID();
    const [opened, submitted, decided] = steps(id);
    for (const write of [opened, submitted]) await activities(null).recordChangeRequest(write);
    expect((await activities('run-a').recordChangeRequest({ ...opened, revision: 2 })).outcome).toBe('already-written');
    expect((await activities('run-a').recordChangeRequest(decided)).outcome).toBe('written');
    expect(await db.prisma.changeRequest.findUniqueOrThrow({ where: { id } })).toMatchObject({ revision: 3, runId: 'run-a', supersededRuns: [] });
  });

  it('recordChangeRequest: when events are written, each audit row names its actor and a unique event key', async () => {
    const id = randomUUID();
    const acts = activities();
    for (const write of steps(id)) await acts.recordChangeRequest(write);
    const rows = await db.prisma.auditEvent.findMany({ where: { subjectId: id }, orderBy: { id: 'asc' } });
    expect(rows.map((r) => [r.action, r.actor])).toEqual([
      ['CHANGE_REQUEST_OPENED', 'u-requester'],
      ['CHANGE_REQUEST_EVIDENCE_ADDED', 'u-requester'],
      ['CHANGE_REQUEST_EVIDENCE_ADDED', 'u-requester'],
      ['CHANGE_REQUEST_EVIDENCE_ADDED', 'u-requester'],
      ['CHANGE_REQUEST_SUBMITTED', 'u-requester'],
      ['CHANGE_REQUEST_DECISION_RECORDED', 'u-chair'],
    ]);
    const keys = rows.map((r) => (r.payload as { eventKey: string }).eventKey);
    expect(new Set(keys).size).toBe(rows.length);
  });
});

describe('signed webhook notifier', () => {
  const note: Notification = {
    dedupeKey: 'cr-1#2.cr.submitted.role:ccb-chair',
    kind: 'cr.submitted',
    subjectType: 'change-request',
    subjectId: '1',
    to: 'role:ccb-chair',
    text: 'change request "x" awaits your decision',
    at: T0,
  };
  type Call = { url: string; headers: Record<string, string>; body: string };

  function fakeFetch(statuses: (number | Error)[]) {
    const calls: Call[] = [];
    const fetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, headers: init.headers as Record<string, string>, body: String(init.body) });
      const next = statuses.shift() ?? 200;
      if (next instanceof Error) throw next;
      return new Response(null, { status: next });
    }) as unknown as typeof globalThis.fetch;
    return { fetch, calls };
  }

  const notifier = (fetch: typeof globalThis.fetch, sleeps: number[] = []) =>
    createSignedWebhookNotifier({
      url: 'https://hooks.example.com/clearway',
      secret: 's3cret',
      log: silentLog,
      fetch,
      now: () => 1_760_000_000_000,
      sleep: async (ms) => void sleeps.push(ms),
    });

  it('notify: when the webhook answers 200, the body is signed with HMAC-SHA256 over timestamp and body', async () => {
    const { fetch, calls } = fakeFetch([200]);
    expect(await notifier(fetch).notify(note)).toBe('delivered');
    const [call] = calls;
    const expected = createHmac('sha256', 's3cret').update(`1760000000.${call.body}`).digest('hex');
    expect(call.headers[SIGNATURE_HEADER]).toBe(`t=1760000000,v1=${expected}`);
    expect(call.headers['idempotency-key']).toBe(note.dedupeKey);
    expect(JSON.parse(call.body)).toEqual(note);
  });

  it('notify: when the webhook fails with 503 then recovers, it retries with growing backoff', async () => {
    const sleeps: number[] = [];
    const { fetch, calls } = fakeFetch([503, new Error('ECONNRESET'), 200]);
    expect(await notifier(fetch, sleeps).notify(note)).toBe('delivered');
    expect(calls).toHaveLength(3);
    expect(sleeps).toEqual([500, 1000]);
  });

  it('notify: when the webhook refuses with 400, it gives up at once and reports failed without throwing', async () => {
    const { fetch, calls } = fakeFetch([400]);
    expect(await notifier(fetch).notify(note)).toBe('failed');
    expect(calls).toHaveLength(1);
  });

  it('notify: when the webhook stays down, it stops after the attempt limit and reports failed', async () => {
    const { fetch, calls } = fakeFetch([503, 503, 503, 503, 503]);
    expect(await notifier(fetch).notify(note)).toBe('failed');
    expect(calls).toHaveLength(4);
  });

  it('signWebhook: when the body changes, the signature changes', () => {
    expect(signWebhook('k', 1, '{"a":1}')).not.toBe(signWebhook('k', 1, '{"a":2}'));
  });
});
