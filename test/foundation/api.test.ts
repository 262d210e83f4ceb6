import request from 'supertest';
import type { Express } from 'express';
import { buildApp } from '../../api/app';
import { defineRoute } from '../../api/define-route';
import { routes } from '../../api/routes';
import { z } from '../../api/schemas';
import { addUser } from '../../cli/users';
import type { Role } from '../../domain/roles';
import { ClearwayError } from '../../errors';
import { backends, createTestDatabase, silentLog, type TestDb } from '../helpers/db';

let seq = 0;
async function makeUser(db: TestDb, roles: Role[]): Promise<{ id: string; token: string }> {
  return addUser(db.prisma, { name: `user-${process.pid}-${seq++}`, roles, actor: 'test' });
}

// Routes that exist only in this suite, to drive the shared machinery (validation, errors, idempotency).
function testRoutes(state: { calls: number; release?: Promise<void> }) {
  const Echo = z.object({ name: z.string().min(1), amount: z.number().int().nonnegative() });
  return [
    defineRoute({
      method: 'post',
      path: '/api/v1/test/echo',
      summary: 'test only',
      body: Echo,
      response: Echo.extend({ call: z.number(), by: z.string() }),
      status: 201,
      location: (echo) => `/api/v1/test/echo/${echo.call}`,
      async handler({ body, actor }) {
        state.calls += 1;
        const call = state.calls;
        await state.release;
        return { ...body, call, by: actor.name };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/test/fail',
      summary: 'test only',
      roles: ['admin'],
      body: z.object({ kind: z.enum(['conflict', 'bug']) }),
      response: z.object({}),
      handler({ body }) {
        state.calls += 1;
        if (body.kind === 'conflict') throw new ClearwayError('CONFLICT', 'already decided');
        throw new Error('secret internals: connection string postgres://x');
      },
    }),
  ];
}

describe.each(backends())('api on %s', (backend) => {
  let db: TestDb;
  let app: Express;
  let temporalUp = true;
  const state: { calls: number; release?: Promise<void> } = { calls: 0 };

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    app = buildApp(
      {
        prisma: db.prisma,
        log: silentLog,
        temporal: () => {
          throw new ClearwayError('TEMPORAL_UNAVAILABLE', 'not in this test');
        },
        checks: {
          database: async () => {
            await db.prisma.$queryRaw`SELECT 1`;
          },
          temporal: async () => {
            if (!temporalUp) throw new Error('Temporal at 127.0.0.1:1 does not answer');
          },
        },
        version: '9.9.9-test',
      },
      { routes: [...routes, ...testRoutes(state)], bodyLimit: '2kb' },
    );
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(() => {
    state.calls = 0;
    state.release = undefined;
    temporalUp = true;
  });

  describe('health', () => {
    it('healthz: when the process is up, it answers 200 without a token', async () => {
      const res = await request(app).get('/healthz').expect(200);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('readyz: when the database and Temporal answer, it answers 200 listing both', async () => {
      const res = await request(app).get('/readyz').expect(200);
      expect(res.body).toEqual({ status: 'ready', checks: { database: 'ok', temporal: 'ok' } });
    });

    it('readyz: when Temporal does not answer, it answers 503 NOT_READY naming temporal', async () => {
      temporalUp = false;
      const res = await request(app).get('/readyz').expect(503);
      expect(res.body.error.code).toBe('NOT_READY');
      expect(res.body.error.message).toBe('not ready: temporal unavailable');
      expect(res.body.error.details).toEqual([
        { component: 'temporal', message: 'Temporal at 127.0.0.1:1 does not answer' },
      ]);
    });
  });

  describe('auth', () => {
    it('auth: when no token is sent, the answer is 401 UNAUTHENTICATED with a Bearer challenge', async () => {
      const res = await request(app).get('/api/v1/me').expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body).toEqual({
        error: { code: 'UNAUTHENTICATED', message: 'a bearer token is required (Authorization: Bearer <token>)', details: [] },
      });
    });

    it('auth: when the Authorization header is not "Bearer <token>", the answer says so', async () => {
      const res = await request(app).get('/api/v1/me').set('Authorization', 'Bearer cw_a cw_b').expect(401);
      expect(res.body.error).toMatchObject({ code: 'UNAUTHENTICATED', message: 'the Authorization header must be "Bearer <token>"' });
    });

    it('auth: when the token is unknown, the answer is 401 UNAUTHENTICATED', async () => {
      const res = await request(app).get('/api/v1/me').auth('cw_not-a-real-token', { type: 'bearer' }).expect(401);
      expect(res.body.error.code).toBe('UNAUTHENTICATED');
    });

    it('auth: when the token is valid, the caller and their roles come from it', async () => {
      const user = await makeUser(db, ['ccb-chair', 'ccb-member']);
      const res = await request(app).get('/api/v1/me').auth(user.token, { type: 'bearer' }).expect(200);
      expect(res.body).toEqual({
        id: user.id,
        name: expect.stringMatching(/^user-/),
        roles: ['ccb-chair', 'ccb-member'],
      });
    });

    it('auth: when the user has been revoked, their token stops working', async () => {
      const user = await makeUser(db, ['admin']);
      await db.prisma.user.update({ where: { id: user.id }, data: { revokedAt: new Date() } });
      await request(app).get('/api/v1/me').auth(user.token, { type: 'bearer' }).expect(401);
    });

    it('roles: when the caller lacks every allowed role, the answer is 403 ROLE_REQUIRED naming them', async () => {
      const user = await makeUser(db, ['finance']);
      const res = await request(app).get('/api/v1/audit-events').auth(user.token, { type: 'bearer' }).expect(403);
      expect(res.body.error.code).toBe('ROLE_REQUIRED');
      expect(res.body.error.message).toBe('this requires one of the roles: admin, operator, ccb-chair');
    });

    it('roles: when the caller holds an allowed role, the audit trail lists their own creation', async () => {
      const user = await makeUser(db, ['operator']);
      const res = await request(app)
        .get('/api/v1/audit-events')
        .query({ subjectType: 'user', subjectId: user.id })
        .auth(user.token, { type: 'bearer' })
        .expect(200);
      expect(res.body.items).toHaveLength(1);
      expect(res.body.items[0]).toMatchObject({ action: 'USER_CREATED', subjectId: user.id, actor: 'test' });
      expect(res.body.nextBefore).toBeNull();
    });
  });

  describe('error model', () => {
    let token: string;
    beforeAll(async () => {
      token = (await makeUser(db, ['admin'])).token;
    });

    it('validation: when a query value is out of range, the answer is 400 VALIDATION_FAILED pointing at it', async () => {
      const res = await request(app).get('/api/v1/audit-events?limit=0').auth(token, { type: 'bearer' }).expect(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.details).toEqual([{ path: 'query.limit', message: expect.any(String) }]);
    });

    it('validation: when a body field has the wrong type, the answer is 400 VALIDATION_FAILED and nothing runs', async () => {
      const res = await request(app)
        .post('/api/v1/test/echo')
        .auth(token, { type: 'bearer' })
        .send({ name: 'x', amount: -1 })
        .expect(400);
      expect(res.body.error.details).toEqual([{ path: 'body.amount', message: expect.any(String) }]);
      expect(state.calls).toBe(0);
    });

    it('body: when the JSON is malformed, the answer is 400 MALFORMED_JSON', async () => {
      const res = await request(app)
        .post('/api/v1/test/echo')
        .auth(token, { type: 'bearer' })
        .set('Content-Type', 'application/json')
        .send('{"name": ')
        .expect(400);
      expect(res.body.error).toEqual({
        code: 'MALFORMED_JSON',
        message: 'request body is not valid JSON',
        details: [],
      });
    });

    it('body: when it is not valid UTF-8, the answer is 400 MALFORMED_JSON and the route does not run', async () => {
      // "name":"caf\xe9" in Latin-1: a parser left to itself reads U+FFFD and the route would store it.
      const latin1 = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9]), Buffer.from('","amount":1}')]);
      const res = await request(app)
        .post('/api/v1/test/echo')
        .auth(token, { type: 'bearer' })
        .set('Content-Type', 'application/json')
        .serialize((bytes: Buffer) => bytes as unknown as string) // as is: no JSON encoding of the Buffer
        .send(latin1)
        .expect(400);
      expect(res.body.error).toEqual({ code: 'MALFORMED_JSON', message: 'request body is not valid UTF-8', details: [] });
      expect(state.calls).toBe(0);
    });

    it.each([
      ['malformed JSON', 'application/json', '{"name": '],
      ['a body that is not JSON', 'text/plain', 'name=x'],
      ['a body past the limit', 'application/json', JSON.stringify({ name: 'x'.repeat(4096) })],
      ['text no column can store', 'application/json', '{"name":"a\\u0000"}'],
    ])('body: when %s comes without a token, the answer is 401 all the same', async (_what, type, payload) => {
      const res = await request(app).post('/api/v1/test/echo').set('Content-Type', type).send(payload).expect(401);
      expect(res.body.error.code).toBe('UNAUTHENTICATED');
    });

    it('body: when malformed JSON comes from a caller without the role, the answer is 403', async () => {
      const user = await makeUser(db, ['finance']);
      const res = await request(app)
        .post('/api/v1/test/fail')
        .auth(user.token, { type: 'bearer' })
        .set('Content-Type', 'application/json')
        .send('{"kind": ')
        .expect(403);
      expect(res.body.error.code).toBe('ROLE_REQUIRED');
    });

    it('body: when malformed JSON goes to a path no route serves, the answer is 404', async () => {
      const res = await request(app).post('/api/v1/test/nowhere').set('Content-Type', 'application/json').send('{"x": ');
      expect([res.status, res.body.error.code]).toEqual([404, 'NOT_FOUND']);
    });

    it('body: when it exceeds the limit, the answer is 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await request(app)
        .post('/api/v1/test/echo')
        .auth(token, { type: 'bearer' })
        .send({ name: 'x'.repeat(4096), amount: 1 })
        .expect(413);
      expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('body: when it is not JSON, the answer is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      const res = await request(app)
        .post('/api/v1/test/echo')
        .auth(token, { type: 'bearer' })
        .set('Content-Type', 'text/plain')
        .send('name=x')
        .expect(415);
      expect(res.body.error).toMatchObject({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: expect.stringContaining('text/plain'),
      });
    });

    it('errors: when a handler throws a ClearwayError, its code maps to its HTTP status', async () => {
      const res = await request(app)
        .post('/api/v1/test/fail')
        .auth(token, { type: 'bearer' })
        .send({ kind: 'conflict' })
        .expect(409);
      expect(res.body.error).toEqual({ code: 'CONFLICT', message: 'already decided', details: [] });
    });

    it('errors: when a handler fails unexpectedly, the answer is 500 INTERNAL without internals', async () => {
      const res = await request(app)
        .post('/api/v1/test/fail')
        .auth(token, { type: 'bearer' })
        .send({ kind: 'bug' })
        .expect(500);
      expect(res.body.error.code).toBe('INTERNAL');
      expect(res.body.error.message).toBe(`internal error; quote request id ${res.headers['x-request-id']}`);
      expect(JSON.stringify(res.body)).not.toMatch(/secret|postgres|at .*\.ts/);
    });

    it('routing: when no route matches, the answer is 404 NOT_FOUND in the same shape', async () => {
      const res = await request(app).get('/api/v1/nothing-here').expect(404);
      expect(res.body.error).toEqual({
        code: 'NOT_FOUND',
        message: 'no route for GET /api/v1/nothing-here',
        details: [],
      });
    });

    it('routing: when a route exists under other methods, the answer is 405 METHOD_NOT_ALLOWED naming them in Allow', async () => {
      const res = await request(app).delete('/api/v1/me').expect(405);
      expect(res.headers.allow).toBe('GET');
      expect(res.body.error).toMatchObject({ code: 'METHOD_NOT_ALLOWED', message: 'DELETE is not allowed on /api/v1/me; use GET' });
      const withParam = await request(app).put('/api/v1/change-requests/7b0c3f5e-9d0f-4c53-9a43-1f7d1c0f0a11').expect(405);
      expect(withParam.headers.allow).toBe('GET, PATCH');
    });

    it('request ids: when the caller sends X-Request-Id, it is echoed; otherwise one is made', async () => {
      const given = await request(app).get('/healthz').set('X-Request-Id', 'trace-42').expect(200);
      expect(given.headers['x-request-id']).toBe('trace-42');
      const made = await request(app).get('/healthz').expect(200);
      expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('idempotency', () => {
    let alice: { id: string; token: string };
    let bob: { id: string; token: string };
    beforeAll(async () => {
      alice = await makeUser(db, ['admin']);
      bob = await makeUser(db, ['admin']);
    });
    const post = (user: { token: string }, key: string | undefined, body: object, path = '/api/v1/test/echo') => {
      const req = request(app).post(path).auth(user.token, { type: 'bearer' });
      if (key) req.set('Idempotency-Key', key);
      return req.send(body);
    };

    it('idempotency: when the same user repeats a POST with the same key and body, the stored response is replayed', async () => {
      const first = await post(alice, 'k-replay', { name: 'a', amount: 1 }).expect(201);
      const second = await post(alice, 'k-replay', { amount: 1, name: 'a' }).expect(201);
      expect(second.body).toEqual(first.body);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(state.calls).toBe(1);
    });

    it('idempotency: when the same key comes with a different body, the answer is 422 IDEMPOTENCY_KEY_REUSED', async () => {
      await post(alice, 'k-reuse', { name: 'a', amount: 1 }).expect(201);
      const res = await post(alice, 'k-reuse', { name: 'a', amount: 2 }).expect(422);
      expect(res.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(state.calls).toBe(1);
    });

    it('idempotency: when another user sends the same key, their request runs on its own', async () => {
      const a = await post(alice, 'k-shared', { name: 'a', amount: 1 }).expect(201);
      const b = await post(bob, 'k-shared', { name: 'a', amount: 1 }).expect(201);
      expect([a.body.by, b.body.by]).toEqual([expect.stringMatching(/^user-/), expect.stringMatching(/^user-/)]);
      expect(a.body.by).not.toBe(b.body.by);
      expect(state.calls).toBe(2);
    });

    it('idempotency: when a retry arrives while the first is still running, the answer is 409 IDEMPOTENCY_IN_PROGRESS', async () => {
      let release!: () => void;
      state.release = new Promise<void>((r) => (release = r));
      const first = post(alice, 'k-busy', { name: 'a', amount: 1 }).then((r) => r);
      while (state.calls === 0) await new Promise((r) => setTimeout(r, 10));
      const retry = await post(alice, 'k-busy', { name: 'a', amount: 1 }).expect(409);
      expect(retry.body.error.code).toBe('IDEMPOTENCY_IN_PROGRESS');
      release();
      expect((await first).status).toBe(201);
      expect(state.calls).toBe(1);
    });

    it('idempotency: when the first attempt failed with a server error, a retry runs again', async () => {
      await post(alice, 'k-500', { kind: 'bug' }, '/api/v1/test/fail').expect(500);
      await post(alice, 'k-500', { kind: 'bug' }, '/api/v1/test/fail').expect(500);
      expect(state.calls).toBe(2);
    });

    it('idempotency: when the key is malformed, the answer is 400 VALIDATION_FAILED', async () => {
      const res = await post(alice, 'bad key with spaces', { name: 'a', amount: 1 }).expect(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(state.calls).toBe(0);
    });

    it('idempotency: when no key is sent, every POST runs', async () => {
      await post(alice, undefined, { name: 'a', amount: 1 }).expect(201);
      await post(alice, undefined, { name: 'a', amount: 1 }).expect(201);
      expect(state.calls).toBe(2);
    });
  });

  describe('openapi', () => {
    it('openapi: when fetched, the document describes the routes from their zod schemas', async () => {
      const res = await request(app).get('/api/v1/openapi.json').expect(200);
      const doc = res.body;
      expect(doc.openapi).toBe('3.0.3');
      expect(doc.info.version).toBe('9.9.9-test');
      expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer' });
      expect(doc.paths['/api/v1/me'].get.security).toEqual([{ bearerAuth: [] }]);
      expect(doc.paths['/api/v1/audit-events'].get.responses['403']).toBeDefined();
      expect(doc.paths['/api/v1/audit-events'].get.parameters.map((p: { name: string }) => p.name)).toContain('limit');
      expect(doc.paths['/healthz'].get).toBeDefined();
      expect(doc.components.schemas.Me.properties.roles.items.$ref).toBe('#/components/schemas/Role');
      expect(doc.components.schemas.Role.enum).toContain('ccb-chair');
    });

    it('openapi: every operation declares 400, and every one but a GET the body refusals 413 and 415', async () => {
      const doc = (await request(app).get('/api/v1/openapi.json').expect(200)).body;
      const operations = Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>).flatMap(
        ([path, methods]) => Object.entries(methods).map(([method, op]) => ({ at: `${method} ${path}`, method, codes: Object.keys(op.responses) })),
      );
      const api = operations.filter((o) => o.at.includes(' /api/v1/') && !o.at.endsWith('/openapi.json'));
      expect(api.length).toBeGreaterThan(5);
      for (const o of api) {
        expect({ at: o.at, has400: o.codes.includes('400') }).toEqual({ at: o.at, has400: true });
        if (o.method !== 'get') expect({ at: o.at, codes: o.codes }).toEqual({ at: o.at, codes: expect.arrayContaining(['413', '415']) });
      }
    });

    it('docs: when /docs is opened, swagger UI and its assets are served from the install', async () => {
      const page = await request(app).get('/docs/').expect(200);
      expect(page.text).toContain('swagger-ui');
      const init = await request(app).get('/docs/swagger-ui-init.js').expect(200);
      expect(init.text).toContain('/api/v1/me');
      await request(app).get('/docs/swagger-ui-bundle.js').expect(200);
    });
  });
});
