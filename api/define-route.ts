import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { RequestHandler, Router } from 'express';
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
export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  actor: Actor;
  deps: ApiDeps;
  log: Logger;
  requestId: string;
}

/** A route: its contract as zod schemas, the roles allowed (any of them; none = any user) and a handler. */
export interface RouteDef<P extends ZodObject, Q extends ZodObject, B extends ZodType, R extends ZodType> {
  method: Method;
  /** OpenAPI-style path (`/api/v1/things/{id}`). */
  path: string;
  summary: string;
  tags?: string[];
  params?: P;
  query?: Q;
  body?: B;
  response: R;
  /** Success status; 200 unless given. */
  status?: number;
  roles?: readonly Role[];
  /** Largest JSON body this route accepts, when it needs more than the app's default (e.g. `8mb`). */
  bodyLimit?: string;
  handler(ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>>): Promise<z.input<R>> | z.input<R>;
}

/** A route with its types erased, as kept in route lists. */
export interface Route {
  readonly def: RouteDef<ZodObject, ZodObject, ZodType, ZodType>;
  /** Adds the Express route and its OpenAPI path. */
  register(router: Router, registry: OpenAPIRegistry, deps: ApiDeps): void;
}

/** Declares a route once; registering it adds both the Express handler and the OpenAPI operation. */
export function defineRoute<P extends ZodObject, Q extends ZodObject, B extends ZodType, R extends ZodType>(
  def: RouteDef<P, Q, B, R>,
): Route {
  const erased = def as unknown as RouteDef<ZodObject, ZodObject, ZodType, ZodType>;
  return {
    def: erased,
    register(router, registry, deps) {
      registry.registerPath(openApiOperation(erased));
      const chain: RequestHandler[] = [authenticate(deps.prisma), requireRole(def.roles ?? [])];
      if (def.method === 'post') chain.push(idempotency(deps.prisma));
      chain.push(async (req, res) => {
        const ctx = {
          params: parse(erased.params, req.params, 'params') as Record<string, unknown>,
          query: parse(erased.query, req.query, 'query') as Record<string, unknown>,
          body: parse(erased.body, req.body, 'body'),
          actor: actorOf(res),
          deps,
          log: req.log,
          requestId: String(req.id),
        };
        const result = await erased.handler(ctx);
        // Responses are checked against their schema too: a handler can never leak fields it should not.
        res.status(def.status ?? 200).json(def.response.parse(result));
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
  const responses: Record<string, ReturnType<typeof error>> = {
    [String(def.status ?? 200)]: { description: 'Success', content: { 'application/json': { schema: def.response } } },
    '401': error('Missing or invalid bearer token (UNAUTHENTICATED)'),
  };
  if (def.roles?.length) responses['403'] = error(`Requires one of: ${def.roles.join(', ')} (ROLE_REQUIRED)`);
  if (def.params || def.query || def.body) responses['400'] = error('Invalid input (VALIDATION_FAILED)');
  if (def.method === 'post') responses['422'] = error('Idempotency-Key reused for another request');
  return {
    method: def.method,
    path: def.path,
    summary: def.summary,
    tags: def.tags,
    security: [{ bearerAuth: [] }],
    request: {
      params: def.params,
      query: def.query,
      body: def.body ? { content: { 'application/json': { schema: def.body } }, required: true } : undefined,
    },
    responses,
  };
}
