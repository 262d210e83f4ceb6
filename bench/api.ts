// `npm run bench:api`: board members deciding change requests over HTTP, the whole way down: HTTP -> API ->
// Temporal update -> workflow -> activity -> Postgres -> reply. Prints latency percentiles and throughput.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { createActivities } from '../activities';
import { buildApp } from '../api/app';
import { createPrisma, migrateDatabase } from '../cli/database';
import { workerConnectionOptions } from '../cli/temporal';
import { addUser } from '../cli/users';
import { startDevServerThread } from '../devserver';
import type { Role } from '../domain/roles';
import { createLogger } from '../log';
import { loadChangeControlPolicy } from '../policies/load';
import { percentile } from './stats';

const CLIENTS = Number(process.argv.find((a) => a.startsWith('--clients='))?.split('=')[1] ?? 20);
const REQUESTS = Number(process.argv.find((a) => a.startsWith('--requests='))?.split('=')[1] ?? 200);
const WARMUP = 10;
const ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
const REVIEW_ROLES: Role[] = ['ccb-chair', 'integration-specialist', 'data-steward'];
const silent = createLogger({ level: 'silent', pretty: false });

async function admin(sql: string): Promise<void> {
  const c = new PgClient({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function pool<T>(items: T[], concurrency: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await run(items[next++]);
    }),
  );
}

async function main(): Promise<void> {
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
  const dbName = `clearway_bench_${process.pid}`;
  await admin(`CREATE DATABASE "${dbName}"`);
  const url = `postgresql://postgres@127.0.0.1:5432/${dbName}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-bench-api-'));
  const cleanups: (() => Promise<unknown> | void)[] = [
    () => admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`),
    () => fs.rmSync(dataDir, { recursive: true, force: true }),
  ];
  try {
    await migrateDatabase(url, silent);
    const prisma = createPrisma(url, { embedded: false });
    cleanups.unshift(() => prisma.$disconnect());
    // The durable store, as `clearway start` runs the embedded server.
    // As in `clearway start`: the embedded server on a thread of its own.
    const server = await startDevServerThread({ port: 0, logLevel: 'silent', dbFilename: path.join(dataDir, 'temporal.db'), log: silent });
    cleanups.unshift(() => server.stop());
    const connection = await Connection.connect({ address: server.address });
    const nativeConnection = await NativeConnection.connect(workerConnectionOptions(server.address));
    cleanups.unshift(() => nativeConnection.close(), () => connection.close());
    const taskQueue = 'bench-change-requests';
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../workflows/index.ts'),
      activities: createActivities({ prisma, log: silent }),
    });
    const running = worker.run();
    cleanups.unshift(async () => {
      worker.shutdown();
      await running;
    });
    const loaded = loadChangeControlPolicy();
    if (!loaded.ok) throw new Error(loaded.error);
    const client = new Client({ connection });
    const app = buildApp({
      prisma,
      log: silent,
      temporal: () => client,
      checks: {},
      version: 'bench',
      changeRequests: { policy: loaded.policy, policyVersion: loaded.version, taskQueue },
    });
    const httpServer = http.createServer(app);
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    cleanups.unshift(
      () =>
        new Promise<void>((resolve) => {
          httpServer.closeAllConnections();
          httpServer.close(() => resolve());
        }),
    );
    const base = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/api/v1/change-requests`;
    const call = async (method: string, url: string, token: string, body?: unknown) => {
      const res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.json()) as { id?: string };
      return { status: res.status, json };
    };

    const requester = await addUser(prisma, { name: 'bench-requester', roles: ['finance'], actor: 'bench' });
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        addUser(prisma, { name: `bench-${i}`, roles: [REVIEW_ROLES[i % 3]], actor: 'bench' }).then((u) => ({
          ...u,
          role: REVIEW_ROLES[i % 3],
        })),
      ),
    );

    const ids: string[] = [];
    const t0 = performance.now();
    await pool(
      Array.from({ length: REQUESTS + WARMUP }, (_, i) => i),
      10,
      async (i) => {
        const created = await call('POST', base, requester.token, {
          title: `Bench change ${i}`,
          description: 'Benchmark change request.',
          class: 'normal',
          risk: 'low',
          affectedSystems: ['erp'],
          evidence: ['documentation', 'test-evidence', 'rollback-plan'].map((kind) => ({ kind, title: kind })),
        });
        if (created.status !== 201) throw new Error(`create answered ${created.status}`);
        const submitted = await call('POST', `${base}/${created.json.id}/submit`, requester.token);
        if (submitted.status !== 200) throw new Error(`submit answered ${submitted.status}: ${JSON.stringify(submitted.json)}`);
        ids.push(created.json.id!);
      },
    );
    const prepSeconds = (performance.now() - t0) / 1000;

    // Each review role works through its own queue, so every request gets exactly one vote per role.
    const decideAll = async (requestIds: string[], latencies: number[], failures: Map<number, number>) => {
      const queues = new Map(REVIEW_ROLES.map((role) => [role, [...requestIds]]));
      await Promise.all(
        clients.map(async (client) => {
          const queue = queues.get(client.role)!;
          for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
            const started = performance.now();
            const res = await call('POST', `${base}/${id}/decisions`, client.token, {
              decision: 'approve',
              role: client.role,
            });
            latencies.push(performance.now() - started);
            if (res.status !== 200) failures.set(res.status, (failures.get(res.status) ?? 0) + 1);
          }
        }),
      );
    };
    await decideAll(ids.slice(0, WARMUP), [], new Map());
    const latencies: number[] = [];
    const failures = new Map<number, number>();
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    await decideAll(ids.slice(WARMUP), latencies, failures);
    const cpu = process.cpuUsage(cpu0);
    const seconds = (performance.now() - started) / 1000;
    const approved = await prisma.changeRequest.count({ where: { status: 'approved' } });

    const ms = (p: number) => `${percentile(latencies, p).toFixed(1)} ms`;
    console.log(
      `api decisions: ${latencies.length} by ${CLIENTS} concurrent client${CLIENTS === 1 ? '' : 's'} in ${seconds.toFixed(1)} s = ` +
        `${(latencies.length / seconds).toFixed(0)}/s; p50 ${ms(50)}, p95 ${ms(95)}, p99 ${ms(99)}, max ${ms(100)}`,
    );
    console.log(
      `  ${REQUESTS} requests (+${WARMUP} warm-up) raised and submitted in ${prepSeconds.toFixed(1)} s; ` +
        `${approved} approved; non-200 answers: ${failures.size ? JSON.stringify(Object.fromEntries(failures)) : 'none'}`,
    );
    // All of this process's threads (HTTP, API, worker, embedded server): with two cores, 2000 / this is the ceiling.
    console.log(`  CPU per decision in this process: ${((cpu.user + cpu.system) / 1000 / latencies.length).toFixed(1)} ms (Postgres not counted)`);
    console.log(`  node ${process.version}, ${os.cpus().length} cores, Postgres at 127.0.0.1:5432, durable embedded Temporal`);
  } finally {
    for (const cleanup of cleanups) await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
