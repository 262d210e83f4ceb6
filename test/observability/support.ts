import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createPrisma, type PrismaClient } from '../../cli/database';
import { addUser } from '../../cli/users';
import type { Role } from '../../domain/roles';
import { freePort, startClearway, waitForHttp, type Running } from '../helpers/cli';
import { createEmptyPostgres } from '../helpers/db';

/** A JSON answer from the API. */
export type Answer = { status: number; body: any; headers: Headers };

/** A `clearway start` process on a fresh Postgres database, and ways to talk to it. */
export interface Started {
  base: string;
  temporalAddress: string;
  running: Running;
  prisma: PrismaClient;
  user(roles: Role[]): Promise<{ id: string; token: string }>;
  call(token: string, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
  /** SIGTERM, then the database is dropped. */
  stop(): Promise<void>;
}

let seq = 0;

/** Runs the real `clearway start` (embedded Temporal server, worker, API) against a new Postgres database. */
export async function startOnPostgres(env: Record<string, string> = {}): Promise<Started> {
  const db = await createEmptyPostgres();
  // The embedded Temporal server keeps its store here.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-obs-'));
  const port = await freePort();
  const temporalPort = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const running = startClearway(['start'], {
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    PORT: String(port),
    TEMPORAL_PORT: String(temporalPort),
    ...env,
  });
  const opened: { prisma?: PrismaClient } = {};
  const stop = async () => {
    if (running.child.exitCode === null && running.child.signalCode === null) {
      running.child.kill('SIGTERM');
      await running.exited;
    }
    await opened.prisma?.$disconnect();
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForHttp(`${base}/readyz`, (s) => s === 200, 120_000, running);
  } catch (e) {
    await stop();
    throw e;
  }
  // Start-up migrated the database; users are made the way `clearway users add` makes them.
  const client = createPrisma(db.url, { embedded: false });
  opened.prisma = client;
  return {
    base,
    temporalAddress: `127.0.0.1:${temporalPort}`,
    running,
    prisma: client,
    async user(roles) {
      const created = await addUser(client, { name: `obs-${process.pid}-${seq++}`, roles, actor: 'test' });
      return { id: created.id, token: created.token };
    },
    async call(token, method, path, body, headers = {}) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
    },
    stop,
  };
}

/** Polls `read` until `holds` is true; the bound only stops a run that hangs. */
export async function eventually<T>(
  read: () => Promise<T>,
  holds: (value: T) => boolean,
  show: (value: T) => unknown = (value) => value,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (holds(value)) return value;
    if (Date.now() > deadline) throw new Error(`never held within ${ms} ms; last: ${JSON.stringify(show(value))}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One sample of a Prometheus text exposition. */
export type Sample = { name: string; labels: Record<string, string>; value: number };

/** A parsed exposition: samples, and each family's TYPE (every family declared once). */
export interface Exposition {
  samples: Sample[];
  types: Map<string, string>;
  /** Families declared more than once (must be none). */
  duplicates: string[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses Prometheus text format 0.0.4, throwing on any line that is neither a comment nor a sample. */
export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const duplicates: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      if (types.has(type[1])) duplicates.push(type[1]);
      types.set(type[1], type[2]);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(LABEL))
      labels[k] = v.replace(/\\(.)/g, (_s, c) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { samples, types, duplicates };
}

/** The sum of the samples named `name` whose labels include `match`. */
export function total(e: Exposition, name: string, match: Record<string, string> = {}): number {
  return e.samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** A span as an OTLP/HTTP JSON export carries it. */
export type ReceivedSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  service: string;
  attributes: Record<string, unknown>;
};

/**
 * A stand-in for an OpenTelemetry collector, which this machine cannot reach: it accepts OTLP/HTTP JSON trace exports
 * on 127.0.0.1 and keeps the spans. Only the receiving end is stood in; the exporter is the real one.
 */
export async function startStandInCollector(): Promise<{
  endpoint: string;
  spans: ReceivedSpan[];
  paths: string[];
  close(): Promise<void>;
}> {
  const spans: ReceivedSpan[] = [];
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      paths.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      try {
        const doc = JSON.parse(body) as { resourceSpans?: any[] };
        for (const rs of doc.resourceSpans ?? []) {
          const attr = (list: any[] | undefined) =>
            Object.fromEntries((list ?? []).map((a: any) => [a.key, Object.values(a.value ?? {})[0]]));
          const service = String(attr(rs.resource?.attributes)['service.name'] ?? '');
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId || undefined,
                name: s.name,
                kind: s.kind,
                service,
                attributes: attr(s.attributes),
              });
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
