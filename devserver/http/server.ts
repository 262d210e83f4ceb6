import http from 'node:http';
import { status as grpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ServerError } from '../engine/errors';
import type { CallContext, Handler } from '../grpc/server';
import type { PollSignal } from '../matching/task-queues';
import { messageFromJson, messageToJson, setPath } from './json';
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

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The error body grpc-gateway (and so the real server's HTTP API) answers with. */
function sendError(res: http.ServerResponse, code: number, message: string): void {
  send(res, HTTP_STATUS[code] ?? 500, { code, message, details: [] });
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

/**
 * Temporal's HTTP API, transcoded from the google.api.http annotations of the service protos onto
 * the same handlers the gRPC binding calls: path variables and query parameters set request fields,
 * `body: "*"` fills the rest from proto3 JSON, and responses are proto3 JSON with payload shorthand.
 */
export function createHttpApi(handlers: Record<string, Handler>, log: Logger): http.Server {
  const routes = buildRoutes();
  return http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = matchRoute(routes, req.method ?? 'GET', url.pathname);
    if (!match) return sendError(res, grpcStatus.NOT_FOUND, 'Not Found');
    const handler = handlers[match.route.rpc];
    if (!handler) return sendError(res, grpcStatus.UNIMPLEMENTED, `${match.route.rpc} is not implemented by the embedded Temporal server`);
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
        request = route.body === '*' ? messageFromJson(route.requestType, json) : { [route.body]: json };
      }
      for (const [key, value] of url.searchParams) setPath(route.requestType, request, key, url.searchParams.getAll(key).length > 1 ? url.searchParams.getAll(key) : value);
      for (const [field, value] of Object.entries(params)) setPath(route.requestType, request, field, value);
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
      const ctx: CallContext = { signal, remainingMs: () => Infinity, metadata: undefined as never };
      const result = await handler(request, ctx);
      send(res, 200, messageToJson(route.responseType, result));
    } catch (err) {
      if (err instanceof ServerError) return sendError(res, err.code, err.message);
      log.error({ err, path: url.pathname }, 'HTTP API request failed unexpectedly');
      sendError(res, grpcStatus.INTERNAL, 'internal error');
    }
  });
}
