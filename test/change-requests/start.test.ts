// Change requests end to end against `clearway start` as users run it: a separate process with its
// embedded Temporal server and worker, on real Postgres and once on the embedded PGlite database.
import fs from 'node:fs';
import { freePort, runClearway, startClearway, waitForHttp, type Running } from '../helpers/cli';
import { createEmptyPostgres, freshEmbeddedDataDir, postgresAvailable } from '../helpers/db';

jest.setTimeout(240_000);

type Answer = { status: number; body: any };

interface Started {
  base: string;
  env: Record<string, string>;
  running: Running;
  close(): Promise<void>;
}

async function start(backend: 'postgres' | 'pglite'): Promise<Started> {
  const dataDir = await freshEmbeddedDataDir();
  const db = backend === 'postgres' ? await createEmptyPostgres() : null;
  const port = await freePort();
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    PORT: String(port),
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    ...(db ? { DATABASE_URL: db.url } : {}),
  };
  const running = startClearway(['start'], env);
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/readyz`, (s) => s === 200, 120_000, running);
  const started: Started = {
    base,
    env,
    running,
    async close() {
      // The process running now: a test may have replaced the first one.
      started.running.child.kill('SIGTERM');
      await started.running.exited;
      await db?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return started;
}

async function user(s: Started, name: string, roles: string): Promise<string> {
  const added = await runClearway(['users', 'add', '--name', name, '--roles', roles], s.env);
  if (added.code !== 0) throw new Error(added.stderr);
  return added.stdout.trim().split(/\s+/).pop()!;
}

async function call(s: Started, method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${s.base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const change = {
  title: 'Switch declarations to the single-window API v2',
  description: 'Move customs declaration submission from v1 to v2.',
  class: 'normal',
  risk: 'medium',
  affectedSystems: ['single-window'],
  evidence: ['documentation', 'test-evidence', 'rollback-plan'].map((kind) => ({ kind, title: `${kind} for the change` })),
};

const backends = postgresAvailable ? (['postgres', 'pglite'] as const) : (['pglite'] as const);

describe.each(backends)('change requests against clearway start on %s', (backend) => {
  let s: Started;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    s = await start(backend);
    for (const [name, roles] of [
      ['requester', 'integration-specialist'],
      ['chair', 'ccb-chair'],
      ['specialist', 'integration-specialist'],
      ['steward', 'data-steward'],
      ['steward2', 'data-steward'],
    ]) {
      tokens[name] = await user(s, name, roles);
    }
  });
  afterAll(async () => {
    await s?.close();
  });

  test('lifecycle: when raised, submitted and approved by every required role, it is approved and its history tells who did what', async () => {
    const created = await call(s, 'POST', '/change-requests', tokens.requester, change);
    expect([created.status, created.body.status]).toEqual([201, 'draft']);
    const id = created.body.id as string;
    expect((await call(s, 'POST', `/change-requests/${id}/submit`, tokens.requester)).body.status).toBe('under_review');
    const self = await call(s, 'POST', `/change-requests/${id}/decisions`, tokens.requester, { decision: 'approve', role: 'integration-specialist' });
    expect([self.status, self.body.error.code]).toEqual([409, 'SELF_APPROVAL_FORBIDDEN']);
    const inbox = await call(s, 'GET', '/inbox', tokens.steward);
    expect(inbox.body.items.map((i: { changeRequest?: { id: string } }) => i.changeRequest?.id)).toContain(id);
    for (const [who, role] of [
      ['chair', 'ccb-chair'],
      ['specialist', 'integration-specialist'],
      ['steward', 'data-steward'],
    ]) {
      expect((await call(s, 'POST', `/change-requests/${id}/decisions`, tokens[who], { decision: 'approve', role })).status).toBe(200);
    }
    expect((await call(s, 'GET', `/change-requests/${id}`, tokens.chair)).body.status).toBe('approved');
    const history = await call(s, 'GET', `/change-requests/${id}/history`, tokens.chair);
    expect(history.body.entries.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['OPENED', 'SUBMITTED', 'DECISION_RECORDED', 'APPROVED']),
    );
  });

  test('race: when two stewards decide the last vote at once, exactly one is recorded and nobody gets a 5xx', async () => {
    const id = (await call(s, 'POST', '/change-requests', tokens.requester, change)).body.id as string;
    await call(s, 'POST', `/change-requests/${id}/submit`, tokens.requester);
    for (const [who, role] of [
      ['chair', 'ccb-chair'],
      ['specialist', 'integration-specialist'],
    ]) {
      await call(s, 'POST', `/change-requests/${id}/decisions`, tokens[who], { decision: 'approve', role });
    }
    const answers = await Promise.all(
      ['steward', 'steward2'].map((who) => call(s, 'POST', `/change-requests/${id}/decisions`, tokens[who], { decision: 'approve', role: 'data-steward' })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(answers.find((a) => a.status === 409)!.body.error.code).toBe('INVALID_STATE');
    const cr = await call(s, 'GET', `/change-requests/${id}`, tokens.chair);
    expect(cr.body.status).toBe('approved');
    expect(cr.body.votes.filter((v: { role: string }) => v.role === 'data-steward')).toHaveLength(1);
  });

  test('restart: when clearway stops and starts again, a review in progress continues where it was', async () => {
    const id = (await call(s, 'POST', '/change-requests', tokens.requester, change)).body.id as string;
    await call(s, 'POST', `/change-requests/${id}/submit`, tokens.requester);
    await call(s, 'POST', `/change-requests/${id}/decisions`, tokens.chair, { decision: 'approve', role: 'ccb-chair' });
    s.running.child.kill('SIGKILL');
    await s.running.exited;
    s.running = startClearway(['start'], s.env);
    await waitForHttp(`${s.base}/readyz`, (st) => st === 200, 120_000, s.running);
    const after = await call(s, 'POST', `/change-requests/${id}/decisions`, tokens.specialist, { decision: 'approve', role: 'integration-specialist' });
    expect(after.status).toBe(200);
    expect(after.body.votes.map((v: { role: string }) => v.role).sort()).toEqual(['ccb-chair', 'integration-specialist']);
    expect(after.body.pendingRoles).toEqual(['data-steward']);
  });
});
