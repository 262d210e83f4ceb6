import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { buildApp } from '../../api/app';
import { addUser } from '../../cli/users';
import type { Role } from '../../domain/roles';
import { silentLog, type TestDb } from '../helpers/db';
import { startCutoverEnvironment } from './environment';
import { planInput, windowRecords, type Seeds } from './fixtures';

const TASK_QUEUE = 'cutover-api';
let env: TestWorkflowEnvironment;
let db: TestDb;
let bundle: WorkflowBundle;
let dir: string;
let worker: Worker;
let running: Promise<void>;
let app: Express;
const tokens: Record<string, string> = {};
const started: string[] = [];

async function user(name: string, roles: Role[]) {
  tokens[name] = (await addUser(db.prisma, { name: `${name}-${process.pid}`, roles, actor: 'test' })).token;
}

async function changeRequest(status: string): Promise<string> {
  const id = randomUUID();
  const at = new Date();
  await db.prisma.changeRequest.create({
    data: {
      id,
      workflowId: `cr-${id}`,
      title: 'Move declarations to the new platform',
      class: 'normal',
      risk: 'high',
      status,
      requester: 'someone',
      affectedSystems: ['broker'],
      touches: [],
      round: 1,
      pendingRoles: [],
      voters: [],
      policyVersion: 'sha256:x',
      openedAt: at,
      updatedAt: at,
      revision: 1,
      view: {},
      projectedAt: at,
    },
  });
  return id;
}

const as = (name: string) => ({ Authorization: `Bearer ${tokens[name]}` });

beforeAll(async () => {
  ({ env, db, bundle, dir, worker, running } = await startCutoverEnvironment(TASK_QUEUE, 'clearway-cutover-api-'));
  app = buildApp({
    prisma: db.prisma,
    log: silentLog,
    temporal: () => env.client,
    checks: {},
    version: 'test',
    cutovers: { taskQueue: TASK_QUEUE, uploadDir: path.join(dir, 'uploads'), maxUploadBytes: 200_000 },
  });
  await user('lead', ['rollout-lead']);
  await user('chair', ['ccb-chair']);
  await user('steward', ['data-steward']);
  await user('member', ['ccb-member']);
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  if (env && bundle) {
    const histories = await Promise.all(
      started.map(async (workflowId) => ({
        workflowId,
        history: await env.client.workflow.getHandle(workflowId).fetchHistory(),
      })),
    );
    for await (const r of Worker.runReplayHistories({ workflowBundle: bundle, replayName: 'cutover-api' }, histories)) {
      if (r.error) throw new Error(`history of ${r.workflowId} does not replay: ${r.error.message}`);
    }
  }
  await env?.teardown();
  await db?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function openCutover(changeRequestId?: string): Promise<string> {
  const res = await request(app)
    .post('/api/v1/cutovers')
    .set(as('lead'))
    .send({ changeRequestId: changeRequestId ?? (await changeRequest('approved')), plan: planInput });
  expect(res.status).toBe(201);
  expect(res.headers.location).toBe(`/api/v1/cutovers/${res.body.id}`);
  started.push(`cutover-${res.body.id}`);
  return res.body.id;
}

const ndjson = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const csv = (rows: Record<string, unknown>[]) =>
  ['ref,consignment,duty,hs,status', ...rows.map((r) => [r.ref, r.consignment, r.duty, r.hs, r.status].join(','))].join(
    '\n',
  ) + '\n';

async function uploadWindow(id: string, window: string, seeds: Seeds = {}) {
  const { legacy, next } = windowRecords(200, seeds);
  const a = await request(app)
    .post(`/api/v1/cutovers/${id}/windows/${window}/legacy`)
    .set(as('steward'))
    .set('Content-Type', 'text/csv')
    .send(csv(legacy));
  expect(a.status).toBe(200);
  const b = await request(app)
    .post(`/api/v1/cutovers/${id}/windows/${window}/new`)
    .set(as('steward'))
    .set('Content-Type', 'application/x-ndjson')
    .send(ndjson(next));
  expect(b.status).toBe(200);
  return b.body;
}

async function reconciled(id: string, window: string) {
  const res = await request(app).post(`/api/v1/cutovers/${id}/reconcile`).set(as('steward')).send({ window });
  expect(res.status).toBe(202);
  for (;;) {
    const got = await request(app).get(`/api/v1/cutovers/${id}`).set(as('member'));
    if (got.body.pending.length === 0 && got.body.windows.some((w: { window: string }) => w.window === window))
      return got.body;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('cutover API', () => {
  it.each([
    ['a data steward starts it', 403, 'ROLE_REQUIRED', 'steward', 'approved', planInput],
    ['the change request is under review', 409, 'CHANGE_NOT_APPROVED', 'lead', 'under_review', planInput],
    ['the plan is invalid', 400, 'VALIDATION_FAILED', 'lead', 'approved', { ...planInput, cleanWindowsRequired: 0 }],
  ] as const)('POST /cutovers: when %s, it answers %i %s', async (_w, http, code, who, status, plan) => {
    const res = await request(app)
      .post('/api/v1/cutovers')
      .set(as(who))
      .send({ changeRequestId: await changeRequest(status), plan });
    expect(res.status).toBe(http);
    expect(res.body.error.code).toBe(code);
  });

  it('POST /cutovers: when the change request does not exist, it answers 404', async () => {
    const res = await request(app)
      .post('/api/v1/cutovers')
      .set(as('lead'))
      .send({ changeRequestId: randomUUID(), plan: planInput });
    expect(res.status).toBe(404);
  });

  it('GET /cutovers: when filtered by change request and status, it pages newest first with a cursor', async () => {
    const cr = await changeRequest('approved');
    const ids = [await openCutover(cr), await openCutover(cr), await openCutover(cr)];
    await openCutover();
    const aborted = await request(app).post(`/api/v1/cutovers/${ids[1]}/abort`).set(as('chair')).send({ reason: 'x' });
    expect(aborted.body.status).toBe('aborted');

    const first = await request(app).get(`/api/v1/cutovers?changeRequestId=${cr}&limit=2`).set(as('member'));
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await request(app)
      .get(`/api/v1/cutovers?changeRequestId=${cr}&limit=2&cursor=${first.body.nextCursor}`)
      .set(as('member'));
    expect(second.body).toMatchObject({ nextCursor: null });
    const items = [...first.body.items, ...second.body.items];
    expect(items.map((i: { id: string }) => i.id).sort()).toEqual([...ids].sort());
    const opened = items.map((i: { openedAt: string }) => i.openedAt);
    expect([...opened].sort().reverse()).toEqual(opened);
    expect(items.find((i: { id: string }) => i.id === ids[0])).toMatchObject({
      changeRequestId: cr,
      status: 'parallel_run',
      final: false,
      cleanStreak: 0,
      cleanWindowsRequired: 2,
      windowsReconciled: 0,
      pending: 0,
      closedAt: null,
    });

    const byStatus = await request(app).get(`/api/v1/cutovers?changeRequestId=${cr}&status=aborted`).set(as('member'));
    expect(byStatus.body.items).toEqual([expect.objectContaining({ id: ids[1], status: 'aborted', final: true })]);
    const badCursor = await request(app).get('/api/v1/cutovers?cursor=not-a-cursor').set(as('member'));
    expect([badCursor.status, badCursor.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const badStatus = await request(app).get('/api/v1/cutovers?status=paused').set(as('member'));
    expect([badStatus.status, badStatus.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect((await request(app).get('/api/v1/cutovers')).status).toBe(401);
  });

  it('uploads: when the body is neither NDJSON nor CSV, too large, or sent by a board member, it is refused and nothing is staged', async () => {
    const id = await openCutover();
    const url = `/api/v1/cutovers/${id}/windows/d1/legacy`;
    const json = await request(app).post(url).set(as('steward')).set('Content-Type', 'application/json').send('{}');
    expect([json.status, json.body.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const big = await request(app)
      .post(url)
      .set(as('steward'))
      .set('Content-Type', 'text/csv')
      .send('x'.repeat(300_000));
    expect([big.status, big.body.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const member = await request(app).post(url).set(as('member')).set('Content-Type', 'text/csv').send('a\n');
    expect([member.status, member.body.error.code]).toEqual([403, 'ROLE_REQUIRED']);
    const noAuth = await request(app).post(url).set('Content-Type', 'text/csv').send('a\n');
    expect(noAuth.status).toBe(401);
    expect(fs.readdirSync(path.join(dir, 'uploads', id, 'd1'))).toEqual([]);
    const view = (await request(app).get(`/api/v1/cutovers/${id}`).set(as('member'))).body;
    expect(view.uploads).toEqual({});
  });

  it('reconcile: when both sides are uploaded, the window is reconciled and its discrepancies page by kind and field', async () => {
    const id = await openCutover();
    const staged = await uploadWindow(id, 'd1', { mismatch: [3, 4, 5], missingInNew: [9] });
    expect(staged.uploads.d1.legacy).toMatchObject({ format: 'csv', by: expect.any(String) });
    expect(staged.uploads.d1.legacy.path).toBeUndefined();
    const view = await reconciled(id, 'd1');
    expect(view).toMatchObject({
      status: 'parallel_run',
      cleanStreak: 0,
      windows: [{ window: 'd1', clean: false, rate: 0.02 }],
    });
    expect(view.escalations).toHaveLength(1);

    const base = `/api/v1/cutovers/${id}/windows/d1/discrepancies`;
    const first = await request(app).get(`${base}?limit=2`).set(as('member'));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      window: 'd1',
      status: 'completed',
      counts: { keys: 200, mismatched: 3, missingInNew: 1 },
    });
    expect(first.body.items).toHaveLength(2);
    const second = await request(app).get(`${base}?limit=2&cursor=${first.body.nextCursor}`).set(as('member'));
    expect(second.body.items).toHaveLength(2);
    expect(second.body.nextCursor).toBeNull();
    const keys = [...first.body.items, ...second.body.items].map((i: { key: string }) => i.key).sort();
    expect(keys).toEqual(['D0000003', 'D0000004', 'D0000005', 'D0000009']);
    const missing = await request(app).get(`${base}?kind=missing_in_new`).set(as('member'));
    expect(missing.body.items).toEqual([
      expect.objectContaining({ kind: 'missing_in_new', key: 'D0000009', legacyLine: 10 }),
    ]);
    const byField = await request(app).get(`${base}?field=status`).set(as('member'));
    expect(byField.body.items.map((i: { fields: string[] }) => i.fields)).toEqual([['status'], ['status'], ['status']]);
    const unknown = await request(app).get(`/api/v1/cutovers/${id}/windows/d7/discrepancies`).set(as('member'));
    expect(unknown.status).toBe(404);
  });

  it('reconcile: when an upload is malformed, the window is refused and its page lists each problem by side and line', async () => {
    const id = await openCutover();
    const { legacy, next } = windowRecords(20);
    // Line 4 of the CSV has two columns instead of five; line 21 of the NDJSON is cut off.
    const lines = csv(legacy).split('\n');
    const badCsv = [...lines.slice(0, 3), 'D0000099,C99', ...lines.slice(3)].join('\n');
    await request(app)
      .post(`/api/v1/cutovers/${id}/windows/d1/legacy`)
      .set(as('steward'))
      .set('Content-Type', 'text/csv')
      .send(badCsv)
      .expect(200);
    await request(app)
      .post(`/api/v1/cutovers/${id}/windows/d1/new`)
      .set(as('steward'))
      .set('Content-Type', 'application/x-ndjson')
      .send(ndjson(next) + '{"ref": "D0000021",\n')
      .expect(200);
    await request(app).post(`/api/v1/cutovers/${id}/reconcile`).set(as('steward')).send({ window: 'd1' }).expect(202);
    let view = (await request(app).get(`/api/v1/cutovers/${id}`).set(as('member'))).body;
    while (!view.invalid.d1) {
      await new Promise((r) => setTimeout(r, 50));
      view = (await request(app).get(`/api/v1/cutovers/${id}`).set(as('member'))).body;
    }
    expect(view).toMatchObject({ windows: [], invalid: { d1: { problemCount: 2 } } });

    const page = await request(app).get(`/api/v1/cutovers/${id}/windows/d1/discrepancies`).set(as('member'));
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ status: 'invalid', problemCount: 2, items: [] });
    expect(page.body.problems.map((p: { side: string; line: number }) => [p.side, p.line])).toEqual([
      ['legacy', 4],
      ['new', 21],
    ]);
    expect(await db.prisma.discrepancy.count({ where: { runId: page.body.runId } })).toBe(0);
  });

  it('actions: the switch is refused until ready, frozen and rehearsed; roles are enforced; history tells the story', async () => {
    const id = await openCutover();
    const early = await request(app).post(`/api/v1/cutovers/${id}/switch`).set(as('lead')).send({});
    expect([early.status, early.body.error.code]).toEqual([409, 'CUTOVER_NOT_READY']);
    const noWindow = await request(app)
      .post(`/api/v1/cutovers/${id}/reconcile`)
      .set(as('steward'))
      .send({ window: 'd5' });
    expect([noWindow.status, noWindow.body.error.code]).toEqual([409, 'WINDOW_NOT_UPLOADED']);
    await uploadWindow(id, 'd1');
    await reconciled(id, 'd1');
    await uploadWindow(id, 'd2');
    expect(await reconciled(id, 'd2')).toMatchObject({ status: 'ready', cleanStreak: 2 });
    const again = await request(app).post(`/api/v1/cutovers/${id}/reconcile`).set(as('steward')).send({ window: 'd2' });
    expect([again.status, again.body.error.code]).toEqual([409, 'WINDOW_ALREADY_RECONCILED']);

    expect((await request(app).post(`/api/v1/cutovers/${id}/freeze`).set(as('chair')).send({})).status).toBe(403);
    expect((await request(app).post(`/api/v1/cutovers/${id}/freeze`).set(as('lead')).send({})).body.status).toBe(
      'frozen',
    );
    const unrehearsed = await request(app).post(`/api/v1/cutovers/${id}/switch`).set(as('lead')).send({});
    expect([unrehearsed.status, unrehearsed.body.error.code]).toEqual([409, 'FALLBACK_NOT_REHEARSED']);
    const rehearsal = await request(app)
      .post(`/api/v1/cutovers/${id}/rehearse-fallback`)
      .set(as('lead'))
      .send({ steps: [{ step: 'point back to legacy', passed: true, note: 'took 12 minutes' }] });
    expect(rehearsal.body.rehearsal).toMatchObject({ passed: true });
    expect(
      (await request(app).post(`/api/v1/cutovers/${id}/switch`).set(as('lead')).send({})).body.switchRequest.lead,
    ).toBeDefined();
    expect((await request(app).post(`/api/v1/cutovers/${id}/switch`).set(as('chair')).send({})).body.status).toBe(
      'switched',
    );
    const early2 = await request(app).post(`/api/v1/cutovers/${id}/decommission`).set(as('lead')).send({});
    expect([early2.status, early2.body.error.code]).toEqual([409, 'WATCH_INCOMPLETE']);
    const rolled = await request(app)
      .post(`/api/v1/cutovers/${id}/rollback`)
      .set(as('chair'))
      .send({ reason: 'customs rejects new declarations' });
    expect(rolled.body).toMatchObject({ status: 'rolled_back', final: true });
    await env.client.workflow.getHandle(`cutover-${id}`).result();
    const closed = await request(app)
      .post(`/api/v1/cutovers/${id}/windows/d3/legacy`)
      .set(as('steward'))
      .set('Content-Type', 'text/csv')
      .send('a\n');
    expect([closed.status, closed.body.error.code]).toEqual([409, 'INVALID_STATE']);
    const abort = await request(app).post(`/api/v1/cutovers/${id}/abort`).set(as('lead')).send({ reason: 'x' });
    expect([abort.status, abort.body.error.code]).toEqual([409, 'INVALID_STATE']);

    const history = await request(app).get(`/api/v1/cutovers/${id}/history`).set(as('member'));
    const actions = history.body.entries.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'OPENED',
        'UPLOAD_RECORDED',
        'READY',
        'FROZEN',
        'FALLBACK_REHEARSED',
        'SWITCH_REQUESTED',
        'SWITCH_APPROVED',
        'SWITCHED',
        'ROLLED_BACK',
      ]),
    );
    expect(history.body.entries.find((e: { action: string }) => e.action === 'ROLLED_BACK').actor).toBe(
      (await db.prisma.user.findFirstOrThrow({ where: { name: `chair-${process.pid}` } })).id,
    );
  });
});
