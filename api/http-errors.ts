import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { ZodError } from 'zod';
import { ClearwayError, CODES, type ErrorCode } from '../errors';
import type { Logger } from '../log';
import type { ErrorBody } from './schemas';

/** Writes the one error shape every API error uses. */
export function sendError(res: Response, code: ErrorCode, message: string, details: unknown[] = []): void {
  const body: ErrorBody = { error: { code, message, details } };
  res.status(CODES[code].http).json(body);
}

/** Zod issues as error details: where (`body.name`) and what is wrong. */
export function zodDetails(error: ZodError, where: string): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message }));
}

/**
 * A workflow update refused by its validator or handler carries our error code as the ApplicationFailure type; the
 * code comes back here so the workflow's refusal answers exactly as the API's own would.
 */
export function workflowRefusal(err: unknown): { code: ErrorCode; message: string; details: unknown[] } | null {
  if (!(err instanceof WorkflowUpdateFailedError)) return null;
  const cause = err.cause;
  if (!(cause instanceof ApplicationFailure) || !cause.type || !(cause.type in CODES)) return null;
  return { code: cause.type as ErrorCode, message: cause.message, details: cause.details ? [...cause.details] : [] };
}

// `{param}` segments match any one segment; the rest literally.
function pathPattern(path: string): RegExp {
  const segments = path.split('/').map((seg) => (/^\{\w+\}$/.test(seg) ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${segments.join('/')}/?$`);
}

/** A route's method and OpenAPI-style path (`/api/v1/things/{id}`), as the 405 answer needs them. */
export type RouteShape = { method: string; path: string };

/**
 * Answers requests no route matched: 405 METHOD_NOT_ALLOWED with `Allow` when the path is a route's under other
 * methods, else 404 NOT_FOUND.
 */
export function notFound(routes: readonly RouteShape[]): RequestHandler {
  const patterns = routes.map((r) => ({ method: r.method.toUpperCase(), pattern: pathPattern(r.path) }));
  return (req, res) => {
    const allowed = [...new Set(patterns.filter((p) => p.pattern.test(req.path)).map((p) => p.method))];
    if (allowed.length > 0) {
      res.set('Allow', allowed.join(', '));
      return sendError(res, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path}; use ${allowed.join(' or ')}`);
    }
    sendError(res, 'NOT_FOUND', `no route for ${req.method} ${req.path}`);
  };
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
  expose?: boolean;
}

/**
 * The single place errors become HTTP responses. ClearwayError maps through the table in errors.ts,
 * zod errors become VALIDATION_FAILED, body-parser failures keep their meaning; anything else is a
 * programmer error: logged in full, answered as INTERNAL with nothing of its internals. `readable` puts users' names
 * for their ids in a refusal's message.
 */
export function errorHandler(log: Logger, readable: (message: string) => Promise<string> = async (m) => m): ErrorRequestHandler {
  return async (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    // Workflows and records know users by id; the caller reads their names, whichever of the two answered.
    const named = (message: string) => readable(message).catch(() => message);
    if (err instanceof ClearwayError) return sendError(res, err.code, await named(err.message), err.details);
    const refusal = workflowRefusal(err);
    if (refusal) return sendError(res, refusal.code, await named(refusal.message), refusal.details);
    if (err instanceof ZodError)
      return sendError(res, 'VALIDATION_FAILED', 'request is invalid', zodDetails(err, 'body'));
    const type = (err as BodyParserError | null)?.type;
    if (type === 'entity.parse.failed') return sendError(res, 'MALFORMED_JSON', 'request body is not valid JSON');
    if (type === 'entity.invalid.utf8') return sendError(res, 'MALFORMED_JSON', (err as Error).message);
    if (type === 'entity.too.large') {
      const limit = (err as BodyParserError).limit;
      return sendError(res, 'PAYLOAD_TOO_LARGE', `request body is larger than ${limit ?? 'the limit'} bytes`);
    }
    if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
      return sendError(res, 'UNSUPPORTED_MEDIA_TYPE', (err as Error).message);
    }
    // A body the parser could not read at all, e.g. gzip that does not inflate: the parser marks it a client error.
    const parserError = err as BodyParserError | null;
    if (parserError?.expose && parserError.status === 400) {
      return sendError(res, 'MALFORMED_JSON', `request body could not be read: ${parserError.message}`);
    }
    const requestId = String(req.id ?? '');
    log.error({ err, requestId }, 'unhandled error');
    sendError(res, 'INTERNAL', `internal error; quote request id ${requestId}`);
  };
}
