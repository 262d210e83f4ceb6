import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { PrismaClient } from '../generated/prisma/client';
import type { Logger } from '../log';
import { registerDomainMetrics } from './domain-metrics';
import { sendError } from './http-errors';

/** How GET /metrics is served. */
export interface MetricsOptions {
  /** A bearer token the scraper must send; unset leaves /metrics open (it carries no identifiers or payloads). */
  token?: string;
  /** The Prometheus text of a worker running in this process, appended to every scrape. */
  workerMetrics?: (() => Promise<string>) | null;
  /** How long counts read from the database are reused; 5 s unless given. */
  cacheMs?: number;
}

/** The app's metrics: a middleware timing every request, and the /metrics handler. */
export interface AppMetrics {
  registry: Registry;
  observe: RequestHandler;
  serve: RequestHandler;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const started = new WeakMap<Request, number>();

/** When the app first saw the request, in epoch milliseconds (for spans that start after body parsing). */
export function requestStart(req: Request): number | undefined {
  return started.get(req);
}

/**
 * The route a request matched as its template (`/api/v1/change-requests/{id}`), never the raw path, so the label's
 * values are as few as the routes. Requests no route matched share one value.
 */
export function routeOf(req: Request): string {
  const path: unknown = req.route?.path;
  if (typeof path === 'string') return `${req.baseUrl}${path}`.replace(/:(\w+)/g, '{$1}');
  if (req.originalUrl.startsWith('/docs')) return '/docs';
  return 'unmatched';
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (\S+)$/i.exec(header ?? '')?.[1];
  if (!given) return false;
  // Equal-length digests, compared in constant time.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/**
 * Builds the metrics of one app on a registry of its own: HTTP latency by route template and status, the process's
 * Node.js figures, domain counts read from Postgres, and the in-process worker's text when there is one.
 */
export function createMetrics(prisma: PrismaClient, log: Logger, opts: MetricsOptions = {}): AppMetrics {
  const mlog = log.child({ component: 'metrics' });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'clearway_http_request_duration_seconds',
    help: 'HTTP requests by method, route template and status (aborted when the client left before the answer)',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const up = new Gauge({
    name: 'clearway_metrics_source_up',
    help: 'Whether a source answered this scrape: database (domain counts), worker (the in-process worker)',
    labelNames: ['source'],
    registers: [registry],
  });
  const loadDomain = registerDomainMetrics(registry, prisma, mlog, up, opts.cacheMs ?? 5000);

  const observe: RequestHandler = (req, res, next) => {
    const at = process.hrtime.bigint();
    started.set(req, Date.now());
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - at) / 1e9;
      duration.observe(
        {
          method: METHODS.has(req.method) ? req.method : 'other',
          route: routeOf(req),
          status: res.writableFinished ? String(res.statusCode) : 'aborted',
        },
        seconds,
      );
    });
    next();
  };

  const serve: RequestHandler = async (req, res) => {
    if (opts.token && !tokenMatches(req.headers.authorization, opts.token)) {
      sendError(res, 'UNAUTHENTICATED', 'GET /metrics needs the metrics bearer token');
      return;
    }
    let worker = '';
    if (opts.workerMetrics) {
      try {
        worker = await opts.workerMetrics();
        up.set({ source: 'worker' }, 1);
      } catch (e) {
        mlog.debug({ err: e }, "metrics: the worker's exporter did not answer");
        up.set({ source: 'worker' }, 0);
      }
    }
    // Read first, so `up` is set before it is written out; the metrics then reuse what was read.
    await loadDomain();
    const own = await registry.metrics();
    res.setHeader('Content-Type', registry.contentType);
    res.setHeader('Cache-Control', 'no-store');
    // end(), not send(): send() would rewrite the Content-Type's parameters.
    res.end(worker ? `${own}\n${worker.endsWith('\n') ? worker : `${worker}\n`}` : own);
  };

  return { registry, observe, serve };
}
