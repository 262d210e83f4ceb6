import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../../api/app';
import type { ApiDeps } from '../../api/deps';
import { addUser } from '../../cli/users';
import type { Role } from '../../domain/roles';
import { recordingNotifier, shippedPolicy, startTemporal, type TemporalFixture } from './change-requests';
import { createTestDatabase, silentLog, type Backend, type TestDb } from './db';

/** A JSON answer from the API. */
/** An HTTP answer: status, parsed body, headers and the body exactly as received. */
export type Answer<T = any> = { status: number; body: T; headers: Headers; text: string };

/** A user of the API under test with their real bearer token. */
export type ApiUser = { id: string; name: string; roles: Role[]; token: string };

/** The real app over real HTTP, with the embedded Temporal server, a worker and a fresh database behind it. */
export interface ApiFixture {
  db: TestDb;
  temporal: TemporalFixture;
  baseUrl: string;
  notifier: ReturnType<typeof recordingNotifier>;
  user(roles: Role[]): Promise<ApiUser>;
  call<T = any>(
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Answer<T>>;
  close(): Promise<void>;
}

let seq = 0;

/** Starts everything `clearway start` runs, in this process, on free ports. */
export async function startApi(backend: Backend, extra: Partial<ApiDeps> = {}): Promise<ApiFixture> {
  const [db, temporal] = await Promise.all([createTestDatabase(backend), startTemporal()]);
  const notifier = recordingNotifier();
  const { worker, taskQueue } = await temporal.worker(db.prisma, notifier);
  const running = worker.run();
  const { policy, version } = shippedPolicy();
  const app = buildApp({
    prisma: db.prisma,
    log: silentLog,
    temporal: () => temporal.client,
    checks: {},
    version: '0.0.0-test',
    changeRequests: { policy, policyVersion: version, taskQueue },
    ...extra,
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    db,
    temporal,
    baseUrl,
    notifier,
    async user(roles) {
      const name = `u${process.pid}-${seq++}`;
      const created = await addUser(db.prisma, { name, roles, actor: 'test' });
      return { id: created.id, name, roles, token: created.token };
    },
    async call(method, path, token, body, headers = {}) {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers, text };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      worker.shutdown();
      await running;
      await temporal.close();
      await db.close();
    },
  };
}
