import { randomUUID } from 'node:crypto';
import { OpenAPIRegistry, OpenApiGeneratorV3 } from '@asteasolutions/zod-to-openapi';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import swaggerUi from 'swagger-ui-express';
import type { Route } from './define-route';
import type { ApiDeps } from './deps';
import { consoleRouter } from './console/router';
import { nameUsersIn } from './actor-names';
import { errorHandler, notFound, sendError } from './http-errors';
import { createMetrics } from './metrics';
import { routes as defaultRoutes } from './routes';
import { ErrorBody, z } from './schemas';
import { traceRequests } from './tracing';

/** Options for buildApp. */
export interface AppOptions {
  /** Routes to serve; the production list unless given. */
  routes?: Route[];
  /** Largest JSON body accepted. */
  bodyLimit?: string;
}

const READY_TIMEOUT_MS = 2000;
const REQUEST_ID = /^[\w.:-]{1,128}$/;

const Health = z.object({ status: z.literal('ok') }).openapi('Health');
const Ready = z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.literal('ok')) }).openapi('Ready');

/** The Express app with every route, the OpenAPI document and the error model; it does not listen. */
export function buildApp(deps: ApiDeps, opts: AppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const metrics = createMetrics(deps.prisma, deps.log, deps.metrics);
  app.use(metrics.observe);
  app.use(
    pinoHttp({
      logger: deps.log,
      // A caller's id is kept so logs can be joined across services; anything odd is replaced.
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics' },
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  const served = opts.routes ?? defaultRoutes;
  if (deps.tracer) app.use(traceRequests(deps.tracer));

  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer' });
  registry.register('Error', ErrorBody);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  registry.registerPath({
    method: 'get',
    path: '/healthz',
    summary: 'The process is up',
    tags: ['health'],
    responses: { 200: { description: 'Up', content: { 'application/json': { schema: Health } } } },
  });

  app.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      Object.entries(deps.checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), READY_TIMEOUT_MS);
          return { name, ok: true as const };
        } catch (e) {
          return { name, ok: false as const, message: e instanceof Error ? e.message : String(e) };
        }
      }),
    );
    const failed = results.filter((r) => !r.ok);
    if (failed.length === 0) {
      res.json({ status: 'ready', checks: Object.fromEntries(results.map((r) => [r.name, 'ok'])) });
      return;
    }
    const names = failed.map((f) => f.name).join(', ');
    sendError(
      res,
      'NOT_READY',
      `not ready: ${names} unavailable`,
      failed.map((f) => ({ component: f.name, message: f.message })),
    );
  });
  registry.registerPath({
    method: 'get',
    path: '/readyz',
    summary: 'The database and Temporal answer',
    tags: ['health'],
    responses: {
      200: { description: 'Ready', content: { 'application/json': { schema: Ready } } },
      503: { description: 'A component is unavailable', content: { 'application/json': { schema: ErrorBody } } },
    },
  });

  app.get('/metrics', metrics.serve);
  registry.registerPath({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics: HTTP, workflows, gates, escalations, reconciliation, the Temporal worker',
    description: 'Needs `Authorization: Bearer <METRICS_TOKEN>` when METRICS_TOKEN is set; open otherwise.',
    tags: ['health'],
    responses: {
      200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: z.string() } } },
      401: {
        description: 'METRICS_TOKEN is set and was not sent',
        content: { 'application/json': { schema: ErrorBody } },
      },
    },
  });

  const api = express.Router();
  for (const route of served) route.register(api, registry, deps, { bodyLimit: opts.bodyLimit });

  const document = new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: 'Clearway API',
      version: deps.version,
      description: 'Change control for customs-clearance technology integrations, as durable workflows.',
    },
  });
  app.get('/api/v1/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use(api);
  // swagger-ui-express serves its assets from the installed swagger-ui-dist: the docs work offline.
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(document, { customSiteTitle: 'Clearway API' }));
  // The web console: pages over this same API, signed in with a bearer token in a cookie.
  app.use(consoleRouter());

  app.use(notFound([...served.map((r) => r.def), { method: 'get', path: '/api/v1/openapi.json' }]));
  app.use(errorHandler(deps.log, (message) => nameUsersIn(deps.prisma, message)));
  return app;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
