import http from 'node:http';
import { status as grpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ServerError } from '../engine/errors';
import type { CallContext, Handler } from '../grpc/server';
import type { PollSignal } from '../matching/task-queues';
import { hasPath, messageFromJson, messageToJson, setPath } from './json';
import { buildRoutes, matchRoute } from './routes';

const HTTP_STATUS: Record<number, number> = {
  [grpcStatus.INVALID_ARGUMENT]: 400,
  [grpcStatus.FAILED_PRECONDITION]: 400,
  [grpcStatus.OUT_OF_RANGE]: 400,
  [grpcStatus.UNAUTHENTICATED]: 401,
  [grpcStatus.PERMISSION_DENIED]: 403,
  [grpcStatus.NOT_FOUND]: 404,
  [grpcStatus.ALREADY_EXISTS]: 409,
  [grpcStatus.ABORTED]: 409,
  [grpcStatus.RESOURCE_EXHAUSTED]: 429,
  [grpcStatus.CANCELLED]: 499,
  [grpcStatus.UNIMPLEMENTED]: 501,
  [grpcStatus.UNAVAILABLE]: 503,
  [grpcStatus.DEADLINE_EXCEEDED]: 504,
};

const MAX_BODY = 128 * 1024 * 1024;

// Query parameters the real server's HTTP API reads itself rather than as request fields.
const PRETTY = 'pretty';
const NO_SHORTHAND = 'noPayloadShorthand';

/** Writes a JSON answer. */
export function sendJson(res: http.ServerResponse, status: number, body: unknown, pretty = false): void {
  const text = pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The error body grpc-gateway (and so the real server's HTTP API) answers with. */
export function sendError(res: http.ServerResponse, code: number, message: string): void {
  sendJson(res, HTTP_STATUS[code] ?? 500, { code, message, details: [] });
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new ServerError(grpcStatus.RESOURCE_EXHAUSTED, 'request body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A call context for a handler invoked over HTTP: cancelled when the client goes away. */
export function httpCallContext(res: http.ServerResponse): CallContext {
  const listeners: (() => void)[] = [];
  let aborted = false;
  res.on('close', () => {
    aborted = true;
    listeners.splice(0).forEach((f) => f());
  });
  const signal: PollSignal = {
    get aborted() {
      return aborted;
    },
    onAbort: (fn) => (aborted ? fn() : listeners.push(fn)),
  };
  return { signal, remainingMs: () => Infinity, metadata: undefined as never };
}

/** Options of the transcoder. */
export interface ApiHandlerOptions {
  /** Write payloads holding plain JSON as that JSON (the real server's default); `?noPayloadShorthand` turns it off per call. */
  payloadShorthand: boolean;
}

/** Answers one HTTP request of Temporal's API; resolves once the answer is written. */
export type ApiHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/**
 * Temporal's HTTP API, transcoded from the google.api.http annotations of the service protos onto
 * the same handlers the gRPC binding calls: path variables and query parameters set request fields,
 * `body: "*"` fills the rest from proto3 JSON, and responses are proto3 JSON. As in grpc-gateway, a
 * query parameter naming no field is ignored, while an unknown field in a JSON body is refused.
 */
export function createApiHandler(handlers: Record<string, Handler>, log: Logger, opts: ApiHandlerOptions): ApiHandler {
  const routes = buildRoutes();
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = matchRoute(routes, req.method ?? 'GET', url.pathname);
    if (!match) return sendError(res, grpcStatus.NOT_FOUND, 'Not Found');
    const handler = handlers[match.route.rpc];
    if (!handler) return sendError(res, grpcStatus.UNIMPLEMENTED, `${match.route.rpc} is not implemented by the embedded Temporal server`);
    const pretty = url.searchParams.has(PRETTY) || /\+pretty\b/.test(req.headers.accept ?? '');
    const shorthand = opts.payloadShorthand && !url.searchParams.has(NO_SHORTHAND) && !/\+no-payload-shorthand\b/.test(req.headers.accept ?? '');
    try {
      const { route, params } = match;
      let request: any = {};
      if (route.body) {
        const text = await readBody(req);
        let json: unknown = {};
        if (text.trim()) {
          try {
            json = JSON.parse(text);
          } catch {
            return sendError(res, grpcStatus.INVALID_ARGUMENT, 'request body is not valid JSON');
          }
        }
        // `body: "*"` is the whole request; `body: "field"` is that field.
        request = messageFromJson(route.requestType, route.body === '*' ? json : { [route.body]: json }, '$', shorthand);
      }
      for (const key of new Set(url.searchParams.keys())) {
        if (key === PRETTY || key === NO_SHORTHAND || !hasPath(route.requestType, key)) continue;
        const values = url.searchParams.getAll(key);
        setPath(route.requestType, request, key, values.length > 1 ? values : values[0]);
      }
      for (const [field, value] of Object.entries(params)) setPath(route.requestType, request, field, value);
      const result = await handler(request, httpCallContext(res));
      sendJson(res, 200, messageToJson(route.responseType, result, shorthand), pretty);
    } catch (err) {
      if (err instanceof ServerError) return sendError(res, err.code, err.message);
      log.error({ err, path: url.pathname }, 'HTTP API request failed unexpectedly');
      sendError(res, grpcStatus.INTERNAL, 'internal error');
    }
  };
}

/** An HTTP server answering Temporal's HTTP API alone, as the real server's `--http-port` does. */
export function createHttpApi(handlers: Record<string, Handler>, log: Logger): http.Server {
  const api = createApiHandler(handlers, log, { payloadShorthand: true });
  return http.createServer((req, res) => void api(req, res));
}
