import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { SIGNATURE_HEADER, signWebhook } from '../../activities/signed-webhook';
import { buildApp } from '../../api/app';
import { routes } from '../../api/routes';
import { listen } from '../../cli/http-server';
import { addUser } from '../../cli/users';
import type { Role } from '../../domain/roles';
import { startDevServer, type DevServer } from '../../devserver';
import { backends, createTestDatabase, silentLog, type TestDb } from '../helpers/db';
import { activitiesFor, quietRuntime, recordingNotifier, replay, workflowBundle } from './support';

const TASK_QUEUE = 'esc-api';
const WEBHOOK_SECRET = 'whsec-test-0123456789abcdef';
let db: TestDb;
let server: DevServer;
let connection: Connection;
let native: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let http: { port: number; stop(): Promise<void> };
let unconfigured: { port: number; stop(): Promise<void> };
const ids = new Set<string>();
let seq = 0;

beforeAll(async () => {
  quietRuntime();
  [db, server] = await Promise.all([
    createTestDatabase(backends()[0]),
    startDevServer({ port: 0, logLevel: 'silent' }),
  ]);
  [connection, native] = await Promise.all([
    Connection.connect({ address: server.address }),
    NativeConnection.connect({ address: server.address }),
  ]);
  const client = new Client({ connection });
  worker = await Worker.create({
    connection: native,
    taskQueue: TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: activitiesFor(db.prisma, recordingNotifier()),
  });
  running = worker.run();
  const deps = { prisma: db.prisma, log: silentLog, temporal: () => client, checks: {}, version: 'test' };
  const app = buildApp({ ...deps, escalations: { taskQueue: TASK_QUEUE, webhookSecret: WEBHOOK_SECRET } }, { routes });
  http = await listen(app, '127.0.0.1', 0);
  unconfigured = await listen(
    buildApp({ ...deps, escalations: { taskQueue: TASK_QUEUE } }, { routes }),
    '127.0.0.1',
    0,
  );
});
afterAll(async () => {
  await http?.stop();
  await unconfigured?.stop();
  worker?.shutdown();
  await running;
  await connection?.close();
  await native?.close();
  await server?.stop();
  await db?.close();
});

async function user(...roles: Role[]): Promise<{ id: string; token: string }> {
  return addUser(db.prisma, { name: `esc-api-${process.pid}-${seq++}`, roles, actor: 'test' });
}

async function call(token: string | null, method: string, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${http.port}/api/v1${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as any;
  if (typeof json?.id === 'string' && json.id.startsWith('esc-')) ids.add(json.id);
  return { status: res.status, body: json, location: res.headers.get('location') };
}

const key = () => `api-${process.pid}-${seq++}`;

/** POSTs to the escalation webhook as a monitoring system would; `sign` false sends no signature. */
async function hook(
  body: unknown,
  opts: { secret?: string; at?: number; deliveryId?: string; sign?: boolean; port?: number } = {},
) {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.sign !== false) {
    headers[SIGNATURE_HEADER] = signWebhook(
      opts.secret ?? WEBHOOK_SECRET,
      opts.at ?? Math.floor(Date.now() / 1000),
      text,
    );
  }
  if (opts.deliveryId) headers['idempotency-key'] = opts.deliveryId;
  const res = await fetch(`http://127.0.0.1:${opts.port ?? http.port}/api/v1/webhooks/escalations`, {
    method: 'POST',
    headers,
    body: text,
  });
  const json = (await res.json()) as any;
  if (typeof json?.id === 'string' && json.id.startsWith('esc-')) ids.add(json.id);
  return { status: res.status, body: json };
}

describe('escalations API over HTTP', () => {
  test('POST /escalations: when the same key is reported twice, one escalation answers with two occurrences', async () => {
    const reporter = await user('operator');
    const owner = await user('integration-specialist');
    const body = { key: key(), severity: 'normal', title: 'ERP link drops duties', owner: { user: owner.id } };
    const first = await call(reporter.token, 'POST', '/escalations', body);
    expect(first.status).toBe(201);
    expect(first.location).toBe(`/api/v1/escalations/esc-${body.key}`);
    expect((await call(owner.token, 'GET', first.location!.slice('/api/v1'.length))).body.id).toBe(first.body.id);
    expect(first.body).toMatchObject({
      id: `esc-${body.key}`,
      level: 1,
      occurrences: 1,
      responsible: { user: owner.id },
    });
    const second = await call(reporter.token, 'POST', '/escalations', body);
    expect(second).toMatchObject({ status: 200, body: { id: first.body.id, occurrences: 2 } });
    // The answer comes once the occurrence is written, so a read right after it sees the count.
    const read = await call(reporter.token, 'GET', `/escalations/${first.body.id}`);
    expect(read.body).toMatchObject({ occurrences: 2 });
    const third = await call(owner.token, 'POST', '/escalations', { ...body, title: 'ERP link drops duties again' });
    expect(third).toMatchObject({ status: 200, body: { occurrences: 3, title: 'ERP link drops duties' } });
  });

  test('POST /escalations: when the escalation with that key has closed, it is 409 INVALID_STATE and nothing starts', async () => {
    const reporter = await user('operator');
    const k = key();
    const id = `esc-${k}`;
    const past = '2020-01-01T00:00:00.000Z';
    // A projection as a finished escalation leaves it: resolved, its reopen window long over.
    await db.prisma.escalation.create({
      data: {
        id,
        key: k,
        severity: 'normal',
        title: 'Tariff feed stale',
        status: 'resolved',
        level: 1,
        topLevel: 4,
        owner: 'role:finance',
        occurrences: 1,
        policyVersion: 'sha256:old',
        sourceKind: 'api',
        openedAt: new Date(past),
        updatedAt: new Date(past),
        resolvedAt: new Date(past),
        seq: 3,
        view: { id, reopenableUntil: '2020-01-08T00:00:00.000Z' },
      },
    });
    const body = { key: k, severity: 'normal', title: 'Tariff feed stale again', owner: { role: 'finance' } };
    const res = await call(reporter.token, 'POST', '/escalations', body);
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'INVALID_STATE' } } });
    await expect(new Client({ connection }).workflow.getHandle(id).describe()).rejects.toThrow();
  });

  test('POST /webhooks/escalations: when a signed report arrives, it starts the escalation; the same delivery again counts nothing', async () => {
    const owner = await user('integration-specialist');
    const body = {
      key: key(),
      severity: 'critical',
      title: 'Single-window gateway returns 503',
      owner: { user: owner.id },
      sender: 'grafana',
    };
    const first = await hook(body, { deliveryId: 'alert-1' });
    expect(first).toMatchObject({
      status: 201,
      body: { id: `esc-${body.key}`, occurrences: 1, source: { kind: 'webhook', ref: 'grafana' }, subject: null },
    });
    // A repeated delivery is answered as the first one was, and counts nothing.
    const repeated = await hook(body, { deliveryId: 'alert-1' });
    expect(repeated).toMatchObject({ status: 201, body: { occurrences: 1 } });
    const next = await hook(body, { deliveryId: 'alert-2' });
    expect(next).toMatchObject({ status: 200, body: { occurrences: 2 } });
    // Without a delivery id, the signed request itself is the delivery: replaying it changes nothing.
    const at = Math.floor(Date.now() / 1000);
    expect((await hook(body, { at })).body.occurrences).toBe(3);
    expect((await hook(body, { at })).body.occurrences).toBe(3);
    const history = await call(owner.token, 'GET', `/escalations/${first.body.id}/history`);
    expect(history.body.entries[0]).toMatchObject({ actor: 'webhook:grafana', action: 'ESCALATION_OPENED' });
  });

  test('POST /webhooks/escalations: when the signature is missing, wrong, stale or for another body, it is 401 and nothing starts', async () => {
    const body = {
      key: key(),
      severity: 'normal',
      title: 'EDI feed silent',
      owner: { role: 'integration-specialist' },
    };
    const refusals = [
      await hook(body, { sign: false }),
      await hook(body, { secret: 'another-secret-0123456789' }),
      await hook(body, { at: Math.floor(Date.now() / 1000) - 3_600 }),
    ];
    for (const r of refusals) expect(r).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
    const tampered = await fetch(`http://127.0.0.1:${http.port}/api/v1/webhooks/escalations`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signWebhook(WEBHOOK_SECRET, Math.floor(Date.now() / 1000), JSON.stringify(body)),
      },
      body: JSON.stringify({ ...body, severity: 'critical' }),
    });
    expect(tampered.status).toBe(401);
    expect(await db.prisma.escalation.count({ where: { key: body.key } })).toBe(0);
  });

  test('POST /webhooks/escalations: when the body is invalid it is 400; without a configured secret the endpoint is 404', async () => {
    const body = {
      key: key(),
      severity: 'normal',
      title: 'EDI feed silent',
      owner: { role: 'integration-specialist' },
    };
    const bad = await hook({ ...body, owner: { team: 'edi' } });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    const unknownSeverity = await hook({ ...body, severity: 'apocalyptic' });
    expect(unknownSeverity).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    expect((await hook(body, { port: unconfigured.port })).status).toBe(404);
    expect(await db.prisma.escalation.count({ where: { key: body.key } })).toBe(0);
  });

  test('openapi: when read, creating an escalation documents 201 and 200, and the webhook its signature instead of a token', async () => {
    const res = await fetch(`http://127.0.0.1:${http.port}/api/v1/openapi.json`);
    const doc = (await res.json()) as any;
    expect(Object.keys(doc.paths['/api/v1/escalations'].post.responses)).toEqual(
      expect.arrayContaining(['200', '201', '400', '401']),
    );
    const webhook = doc.paths['/api/v1/webhooks/escalations'].post;
    expect(webhook.security).toEqual([{ webhookSignature: [] }]);
    expect(Object.keys(webhook.responses)).toEqual(expect.arrayContaining(['200', '201', '401']));
    expect(doc.components.securitySchemes.webhookSignature).toMatchObject({ in: 'header', name: SIGNATURE_HEADER });
  });

  test('POST /escalations: when unauthenticated, the severity is unknown or the owner does not exist, nothing starts', async () => {
    const reporter = await user('operator');
    const body = { key: key(), severity: 'normal', title: 't', owner: { role: 'finance' } };
    expect((await call(null, 'POST', '/escalations', body)).status).toBe(401);
    const bad = await call(reporter.token, 'POST', '/escalations', { ...body, severity: 'apocalyptic' });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    const nobody = await call(reporter.token, 'POST', '/escalations', {
      ...body,
      owner: { user: '00000000-0000-4000-8000-000000000000' },
    });
    expect(nobody.status).toBe(400);
    expect(await db.prisma.escalation.count({ where: { key: body.key } })).toBe(0);
  });

  test('acknowledge: when a stranger acknowledges it is 403 ROLE_REQUIRED; the owner gets it and sees it in their list', async () => {
    const reporter = await user('operator');
    const owner = await user('data-steward');
    const stranger = await user('ccb-member');
    const created = await call(reporter.token, 'POST', '/escalations', {
      key: key(),
      severity: 'normal',
      title: 'Tariff table stale',
      owner: { user: owner.id },
    });
    const id = created.body.id as string;
    const mine = await call(owner.token, 'GET', '/escalations?mine=true');
    expect(mine.body.items.map((i: { id: string }) => i.id)).toContain(id);
    const denied = await call(stranger.token, 'POST', `/escalations/${id}/acknowledge`, {});
    expect(denied).toMatchObject({ status: 403, body: { error: { code: 'ROLE_REQUIRED' } } });
    const ok = await call(owner.token, 'POST', `/escalations/${id}/acknowledge`, {});
    expect(ok).toMatchObject({ status: 200, body: { status: 'acknowledged' } });
    const again = await call(owner.token, 'POST', `/escalations/${id}/acknowledge`, {});
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'INVALID_STATE' } } });
    const listed = await call(stranger.token, 'GET', `/escalations?status=acknowledged&owner=user:${owner.id}`);
    expect(listed.body.items.map((i: { id: string }) => i.id)).toEqual([id]);
    expect((await call(stranger.token, 'GET', `/escalations/${id}`)).body).toMatchObject({ status: 'acknowledged' });
  });

  test('reassign: when the target lacks the level role it is 403; an unknown user is 400; a holder takes it over', async () => {
    const reporter = await user('operator');
    const owner = await user('operations');
    const spec = await user('integration-specialist');
    const spec2 = await user('integration-specialist');
    const steward = await user('data-steward');
    const created = await call(reporter.token, 'POST', '/escalations', {
      key: key(),
      severity: 'normal',
      title: 'Mapping gap',
      owner: { user: owner.id },
    });
    const id = created.body.id as string;
    expect((await call(owner.token, 'POST', `/escalations/${id}/escalate`, {})).status).toBe(400);
    const up = await call(owner.token, 'POST', `/escalations/${id}/escalate`, { reason: 'needs a specialist' });
    expect(up.body).toMatchObject({ level: 2, responsible: { role: 'integration-specialist' } });
    const wrong = await call(spec.token, 'POST', `/escalations/${id}/reassign`, { to: steward.id });
    expect(wrong).toMatchObject({ status: 403, body: { error: { code: 'ROLE_REQUIRED' } } });
    const unknown = await call(spec.token, 'POST', `/escalations/${id}/reassign`, {
      to: '00000000-0000-4000-8000-000000000000',
    });
    expect(unknown.status).toBe(400);
    const ok = await call(spec.token, 'POST', `/escalations/${id}/reassign`, { to: spec2.id, reason: 'on call' });
    expect(ok.body).toMatchObject({ responsible: { user: spec2.id } });
  });

  test('costs, resolve, reopen, history: when a $9,999.99 cost is booked it routes to finance and every step is in the history', async () => {
    const reporter = await user('operator');
    const owner = await user('integration-specialist');
    const finance = await user('finance');
    const created = await call(reporter.token, 'POST', '/escalations', {
      key: key(),
      severity: 'critical',
      title: 'Single window down',
      owner: { user: owner.id },
    });
    const id = created.body.id as string;
    const eur = await call(finance.token, 'POST', `/escalations/${id}/costs`, {
      amount: 10,
      currency: 'EUR',
      note: 'x',
    });
    expect(eur).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    const cost = await call(finance.token, 'POST', `/escalations/${id}/costs`, {
      amount: 9_999.99,
      currency: 'USD',
      note: 'demurrage',
    });
    expect(cost.body).toMatchObject({ costRoute: 'finance', costs: [{ amountCents: 999_999 }] });
    expect((await call(owner.token, 'POST', `/escalations/${id}/resolve`, { note: ' ' })).status).toBe(400);
    const resolved = await call(owner.token, 'POST', `/escalations/${id}/resolve`, {
      note: 'failover to backup gateway',
    });
    expect(resolved.body).toMatchObject({ status: 'resolved', resolution: { note: 'failover to backup gateway' } });
    const reopened = await call(owner.token, 'POST', `/escalations/${id}/reopen`, { reason: 'gateway failing again' });
    expect(reopened.body).toMatchObject({ status: 'open', reopenCount: 1 });
    const history = await call(reporter.token, 'GET', `/escalations/${id}/history`);
    expect(history.body.entries.map((e: { action: string }) => e.action)).toEqual([
      'ESCALATION_OPENED',
      'ESCALATION_COST_ADDED',
      'ESCALATION_COST_ROUTED',
      'ESCALATION_RESOLVED',
      'ESCALATION_REOPENED',
    ]);
    expect((await call(reporter.token, 'GET', '/escalations/esc-no-such-thing')).status).toBe(404);
  });

  test('GET /reports/escalations: when an operator asks, response times come per level; a CCB member is refused', async () => {
    const operator = await user('operator');
    const member = await user('ccb-member');
    const report = await call(operator.token, 'GET', '/reports/escalations');
    expect(report.status).toBe(200);
    const level1 = report.body.levels.find((l: { level: number }) => l.level === 1);
    expect(level1.acknowledge.count).toBeGreaterThanOrEqual(2);
    expect(level1.acknowledge.medianMs).not.toBeNull();
    expect((await call(member.token, 'GET', '/reports/escalations')).status).toBe(403);
  });

  test('replay: when the histories this suite produced are replayed with the current code, none diverges', async () => {
    const client = new Client({ connection });
    const histories = await Promise.all(
      [...ids].map(async (workflowId) => ({
        workflowId,
        history: await client.workflow.getHandle(workflowId).fetchHistory(),
      })),
    );
    expect(histories.length).toBeGreaterThanOrEqual(4);
    expect(await replay(histories)).toBe(histories.length);
  });
});
