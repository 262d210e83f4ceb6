import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Request, RequestHandler, Router } from 'express';
import type { z, ZodObject, ZodType } from 'zod';
import type { Role } from '../domain/roles';
import { ClearwayError } from '../errors';
import type { Logger } from '../log';
import { actorOf, authenticate, requireRole, type Actor } from './auth';
import type { ApiDeps } from './deps';
import { idempotency } from './idempotency';
import { zodDetails } from './http-errors';
import { ErrorBody } from './schemas';

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
  /** Success statuses with what each means (OpenAPI); a handler answers one other than `status` with reply(). */
  statuses?: Record<number, string>;
  roles?: readonly Role[];
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
  /** Adds the Express route and its OpenAPI path. */
  register(router: Router, registry: OpenAPIRegistry, deps: ApiDeps): void;
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
  return {
    def: erased,
    register(router, registry, deps) {
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
      const chain: RequestHandler[] = own
        ? [
            async (req, res, next) => {
              res.locals.actor = await own.check(req as RawBodyRequest, deps);
              next();
            },
            requireRole(def.roles ?? []),
          ]
        : [authenticate(deps.prisma), requireRole(def.roles ?? [])];
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
        res.status(status).json(def.response.parse(body));
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

function openApiOperation(def: RouteDef<ZodObject, ZodObject, ZodType, ZodType>) {
  const error = (description: string) => ({
    description,
    content: { 'application/json': { schema: ErrorBody as ZodType } },
  });
  const success = (description: string) => ({ description, content: { 'application/json': { schema: def.response } } });
  const responses: Record<string, ReturnType<typeof error>> = {
    [String(def.status ?? 200)]: success('Success'),
    ...Object.fromEntries(Object.entries(def.statuses ?? {}).map(([status, text]) => [status, success(text)])),
    '401': error(
      def.authenticate
        ? `Missing, invalid or stale ${def.authenticate.scheme.header} (UNAUTHENTICATED)`
        : 'Missing or invalid bearer token (UNAUTHENTICATED)',
    ),
  };
  if (def.roles?.length) responses['403'] = error(`Requires one of: ${def.roles.join(', ')} (ROLE_REQUIRED)`);
  if (def.params || def.query || def.body || def.headers) responses['400'] = error('Invalid input (VALIDATION_FAILED)');
  if (def.method === 'post' && !def.authenticate) {
    responses['422'] = error('Idempotency-Key reused for another request');
  }
  return {
    method: def.method,
    path: def.path,
    summary: def.summary,
    tags: def.tags,
    security: [{ [def.authenticate?.scheme.name ?? 'bearerAuth']: [] }],
    request: {
      params: def.params,
      query: def.query,
      headers: def.headers,
      body: def.body ? { content: { 'application/json': { schema: def.body } }, required: true } : undefined,
    },
    responses,
  };
}
