import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Request, RequestHandler, Router } from 'express';
import type { ZodObject, ZodType } from 'zod';
import type { Role } from '../domain/roles';
import { ClearwayError, CODES, type ErrorCode } from '../errors';
import type { Logger } from '../log';
import { actorOf, authenticate, requireRole, type Actor } from './auth';
import type { ApiDeps } from './deps';
import { idempotency } from './idempotency';
import { jsonBody } from './json-body';
import { refuseUnstorable } from './storable-input';
import { zodDetails } from './http-errors';
import { ErrorBody, z } from './schemas';
import { maxChars } from '../domain/text';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** What a handler receives: validated input, the authenticated actor and the injected dependencies. */
export interface RouteContext<P, Q, B, H = Record<string, never>> {
  params: P;
  query: Q;
  body: B;
  /** The request headers the route's `headers` schema names, validated (lower-case names). */
  headers: H;
  actor: Actor;
  deps: ApiDeps;
  log: Logger;
  requestId: string;
}

/** A handler's answer with a status other than the route's `status`, e.g. 200 from a route that usually creates. */
export class Reply<T> {
  constructor(
    readonly status: number,
    readonly body: T,
  ) {}
}

/** Answers `body` with `status`, which the route must list in `statuses`. */
export function reply<T>(status: number, body: T): Reply<T> {
  return new Reply(status, body);
}

/** A route: its contract as zod schemas, the roles allowed (any of them; none = any user) and a handler. */
export interface RouteDef<
  P extends ZodObject,
  Q extends ZodObject,
  B extends ZodType,
  R extends ZodType,
  H extends ZodObject = ZodObject,
> {
  method: Method;
  /** OpenAPI-style path (`/api/v1/things/{id}`). */
  path: string;
  summary: string;
  tags?: string[];
  params?: P;
  query?: Q;
  body?: B;
  /** Request headers the handler reads, by lower-case name; others are not passed on. */
  headers?: H;
  response: R;
  /** Success status; 200 unless given. */
  status?: number;
  /** Where what a 201 created can be read, from the response and the path parameters: sent as `Location`. */
  location?(body: z.output<R>, params: z.output<P>): string;
  /** Success statuses with what each means (OpenAPI); a handler answers one other than `status` with reply(). */
  statuses?: Record<number, string>;
  roles?: readonly Role[];
  /**
   * Error codes the handler (or the workflow behind it) answers, beyond those every route of its kind can: listed
   * in the OpenAPI document under their HTTP status.
   */
  errors?: readonly ErrorCode[];
  /** Largest JSON body this route accepts, when it needs more than the app's default (e.g. `8mb`). */
  bodyLimit?: string;
  /**
   * The route's own authentication in place of a bearer token, e.g. a signature over the raw body for calls from
   * another system. `check` names the actor or throws UNAUTHENTICATED; such routes keep their raw body and take no
   * Idempotency-Key (their caller dedupes by its own means). `scheme` is documented as an OpenAPI security scheme.
   */
  authenticate?: {
    scheme: { name: string; header: string; description: string };
    check(req: RawBodyRequest, deps: ApiDeps): Promise<Actor> | Actor;
  };
  handler(
    ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>, z.output<H>>,
  ): Promise<z.input<R> | Reply<z.input<R>>> | z.input<R> | Reply<z.input<R>>;
}

/** A request whose route asked for its body as received, before JSON parsing. */
export type RawBodyRequest = Request & { rawBody?: Buffer };

/** A route with its types erased, as kept in route lists. */
export interface Route {
  readonly def: RouteDef<ZodObject, ZodObject, ZodType, ZodType>;
  /** Adds the Express route and its OpenAPI path; `bodyLimit` is the app's default for JSON bodies. */
  register(router: Router, registry: OpenAPIRegistry, deps: ApiDeps, opts?: { bodyLimit?: string }): void;
}

/** Declares a route once; registering it adds both the Express handler and the OpenAPI operation. */
export function defineRoute<
  P extends ZodObject,
  Q extends ZodObject,
  B extends ZodType,
  R extends ZodType,
  H extends ZodObject = ZodObject,
>(def: RouteDef<P, Q, B, R, H>): Route {
  const erased = def as unknown as RouteDef<ZodObject, ZodObject, ZodType, ZodType>;
  // Every 201 says where what it created can be read.
  if (def.status === 201 && !def.location) throw new Error(`${def.method} ${def.path} answers 201 but names no location`);
  return {
    def: erased,
    register(router, registry, deps, opts = {}) {
      registry.registerPath(openApiOperation(erased));
      const own = def.authenticate;
      if (own) {
        registry.registerComponent('securitySchemes', own.scheme.name, {
          type: 'apiKey',
          in: 'header',
          name: own.scheme.header,
          description: own.scheme.description,
        });
      }
      const body = [...jsonBody({ limit: def.bodyLimit ?? opts.bodyLimit, keepRaw: Boolean(own) }), refuseUnstorable];
      // Who is calling is settled before the body is looked at: a caller without a token hears 401, and one without
      // the role 403, whatever they sent. A route signing its raw body has to read it first.
      const chain: RequestHandler[] = own
        ? [
            ...body,
            async (req, res, next) => {
              res.locals.actor = await own.check(req as RawBodyRequest, deps);
              next();
            },
            requireRole(def.roles ?? []),
          ]
        : [authenticate(deps.prisma), requireRole(def.roles ?? []), ...body];
      if (def.method === 'post' && !own) chain.push(idempotency(deps.prisma));
      chain.push(async (req, res) => {
        const ctx = {
          params: parse(erased.params, req.params, 'params') as Record<string, unknown>,
          query: parse(erased.query, req.query, 'query') as Record<string, unknown>,
          body: parse(erased.body, req.body, 'body'),
          headers: (parse(erased.headers, req.headers, 'headers') ?? {}) as Record<string, unknown>,
          actor: actorOf(res),
          deps,
          log: req.log,
          requestId: String(req.id),
        };
        const result = await erased.handler(ctx);
        const [status, body] = result instanceof Reply ? [result.status, result.body] : [def.status ?? 200, result];
        if (status !== (def.status ?? 200) && !(def.statuses && status in def.statuses)) {
          throw new Error(`${def.method} ${def.path} answered ${status}, which its statuses do not list`);
        }
        // Responses are checked against their schema too: a handler can never leak fields it should not.
        const sent = def.response.parse(body);
        if (status === 201 && erased.location) res.set('Location', erased.location(sent, ctx.params));
        res.status(status).json(sent);
      });
      router[def.method](expressPath(def.path), ...chain);
    },
  };
}

function parse(schema: ZodType | undefined, value: unknown, where: string): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw new ClearwayError('VALIDATION_FAILED', `${where} is invalid`, zodDetails(result.error, where));
}

/** The Express form of an OpenAPI-style path (`{id}` becomes `:id`). */
export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

const IdempotencyHeaders = z.object({
  'idempotency-key': maxChars(z.string(), 255).optional().openapi({
    description:
      'Makes a retry safe: the same key with the same request replays the first answer (Idempotent-Replayed: true); ' +
      'with another request it is 422 IDEMPOTENCY_KEY_REUSED; while the first still runs, 409 IDEMPOTENCY_IN_PROGRESS',
  }),
});

function openApiOperation(def: RouteDef<ZodObject, ZodObject, ZodType, ZodType>) {
  const error = (description: string) => ({
    description,
    content: { 'application/json': { schema: ErrorBody as ZodType } },
  });
  const success = (description: string, status: number) => ({
    description,
    ...(status === 201 && def.location
      ? { headers: { Location: { description: 'Where the created resource can be read', schema: { type: 'string' as const } } } }
      : {}),
    content: { 'application/json': { schema: def.response } },
  });
  const idempotent = def.method === 'post' && !def.authenticate;
  // Codes by HTTP status: those of the route's kind first, then the ones it names.
  const codes = new Map<number, string[]>();
  const add = (...names: ErrorCode[]) => {
    for (const name of names) {
      const list = codes.get(CODES[name].http) ?? [];
      if (!list.includes(name)) list.push(name);
      codes.set(CODES[name].http, list);
    }
  };
  add('UNAUTHENTICATED');
  if (def.roles?.length) add('ROLE_REQUIRED');
  // Every request's path, query and body are checked for text that cannot be stored, and the body of every method
  // that may carry one is parsed, whether or not the route reads it.
  add('VALIDATION_FAILED');
  if (def.body || def.method !== 'get') add('MALFORMED_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE');
  if (idempotent) add('IDEMPOTENCY_IN_PROGRESS', 'IDEMPOTENCY_KEY_REUSED');
  add(...(def.errors ?? []));
  const described: Record<number, string> = {
    401: def.authenticate ? `Missing, invalid or stale ${def.authenticate.scheme.header}` : 'Missing or invalid bearer token',
    403: def.roles?.length ? `Requires one of: ${def.roles.join(', ')}` : 'Not allowed',
    400: 'Invalid input',
    404: 'Not found',
    409: 'Refused in the current state',
    413: 'Body too large',
    415: 'Body is not JSON',
    422: 'Not processable',
  };
  const responses: Record<string, ReturnType<typeof error> | ReturnType<typeof success>> = {
    [String(def.status ?? 200)]: success('Success', def.status ?? 200),
    ...Object.fromEntries(Object.entries(def.statuses ?? {}).map(([status, text]) => [status, success(text, Number(status))])),
  };
  for (const [status, names] of [...codes].sort(([a], [b]) => a - b)) {
    responses[String(status)] = error(`${described[status] ?? 'Refused'} (${names.join(', ')})`);
  }
  // A body every field of which may be left out may be left out entirely.
  const bodyRequired = def.body ? !def.body.safeParse({}).success : false;
  return {
    method: def.method,
    path: def.path,
    summary: def.summary,
    tags: def.tags,
    security: [{ [def.authenticate?.scheme.name ?? 'bearerAuth']: [] }],
    request: {
      params: def.params,
      query: def.query,
      headers: idempotent ? (def.headers ? def.headers.extend(IdempotencyHeaders.shape) : IdempotencyHeaders) : def.headers,
      body: def.body ? { content: { 'application/json': { schema: def.body } }, required: bodyRequired } : undefined,
    },
    responses,
  };
}
