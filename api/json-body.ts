import { isUtf8 } from 'node:buffer';
import express, { type RequestHandler } from 'express';
import type { RawBodyRequest } from './define-route';

// JSON and its suffixed types (application/merge-patch+json...), parsed alike.
const JSON_TYPES = ['application/json', 'application/*+json'];

/** The largest JSON body a route takes unless it says otherwise. */
const DEFAULT_BODY_LIMIT = '1mb';

class UnsupportedMediaType extends Error {
  readonly type = 'encoding.unsupported';
  constructor(contentType: string) {
    super(`request body must be application/json, not ${contentType}`);
  }
}

class InvalidUtf8 extends Error {
  readonly type = 'entity.invalid.utf8';
  constructor() {
    super('request body is not valid UTF-8');
  }
}

class BodyNotReadable extends Error {
  readonly type = 'request.aborted';
  readonly status = 400;
  readonly expose = true;
  constructor() {
    super('the connection closed before the request body was read');
  }
}

/** Whether the request says it carries a body. */
function declaresBody(req: Parameters<RequestHandler>[0]): boolean {
  return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
}

// The body is read after the caller is authenticated; if the connection closed meanwhile (a body cut short, or bytes
// past its length), the parser takes the request for one already read and hands the route no body at all. Such a
// request is refused rather than acted on without what it carried.
const requireReadable: RequestHandler = (req, _res, next) =>
  declaresBody(req) && (!req.socket?.readable || req.readableAborted) ? next(new BodyNotReadable()) : next();

// JSON only: a request that carries a body must say it is JSON, or nothing would parse it and the route would see an
// empty body.
const requireJson: RequestHandler = (req, _res, next) => {
  if (declaresBody(req) && !req.is(JSON_TYPES)) return next(new UnsupportedMediaType(req.headers['content-type'] ?? 'none'));
  next();
};

/**
 * Reads a route's JSON body: 415 unless it is JSON, 413 past `limit`, 400 when it does not parse or is not valid
 * UTF-8 (the parser would quietly turn bad bytes into U+FFFD, storing text the caller never sent). With `keepRaw` the
 * bytes stay on `req.rawBody`, for routes that authenticate a signature over them.
 */
export function jsonBody(opts: { limit?: string; keepRaw?: boolean }): RequestHandler[] {
  return [
    requireJson,
    requireReadable,
    express.json({
      limit: opts.limit ?? DEFAULT_BODY_LIMIT,
      strict: false,
      type: JSON_TYPES,
      verify: (req: RawBodyRequest, _res, buf, encoding) => {
        if (/^utf-?8$/i.test(encoding) && !isUtf8(buf)) throw new InvalidUtf8();
        if (opts.keepRaw) req.rawBody = buf;
      },
    }),
  ];
}
