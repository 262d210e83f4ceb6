import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { status as grpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ServerError } from '../engine/errors';
import type { Handler } from '../grpc/server';
import { temporal } from '../proto';
import { messageToJson, type PType } from '../http/json';
import { createApiHandler, httpCallContext, sendError, sendJson } from '../http/server';
import type { UiBuild } from './assets';

/** Options of the Temporal UI's server. */
export interface UiServerOptions {
  /** The handlers the gRPC binding serves: the UI's API calls reach the same engine. */
  handlers: Record<string, Handler>;
  log: Logger;
  /** The namespace the UI opens on. */
  defaultNamespace: string;
  /** The built UI; without one, pages say how to build it (the API is served all the same). */
  build: UiBuild | null;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

// The UI downloads a run's whole history from its own server (the Go ui-server streams it page by page).
const RAW_HISTORY = /^\/api\/v1\/namespaces\/([^/]+)\/workflows\/([^/]+)\/run\/([^/]+)\/history\.json$/;

/**
 * What `/api/v1/settings` answers: the Go ui-server's settings with authentication off and no codec
 * server. The start form (not part of this build) is switched off, so the UI does not offer it.
 */
export function uiSettings(opts: { defaultNamespace: string; uiVersion: string }): object {
  return {
    Auth: { Enabled: false, Options: [] },
    BannerText: '',
    DefaultNamespace: opts.defaultNamespace,
    ShowTemporalSystemNamespace: false,
    FeedbackURL: '',
    NotifyOnNewVersion: false,
    Codec: { Endpoint: '', PassAccessToken: false, IncludeCredentials: false, DefaultErrorMessage: '', DefaultErrorLink: '' },
    // The UI encodes path parameters once for servers of 2.23.0 and later, twice for older ones.
    Version: opts.uiVersion,
    DisableWriteActions: false,
    WorkflowTerminateDisabled: false,
    WorkflowCancelDisabled: false,
    WorkflowSignalDisabled: false,
    WorkflowUpdateDisabled: false,
    WorkflowResetDisabled: false,
    BatchActionsDisabled: false,
    StartWorkflowDisabled: true,
    HideWorkflowQueryErrors: false,
    RefreshWorkflowCountsDisabled: false,
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * `/render`: the frame in which the UI shows a workflow's user metadata (summary and details). The
 * Go ui-server renders it as Markdown; here it is shown as text, escaped, under the same sandboxing
 * content security policy.
 */
function renderPage(res: http.ServerResponse, url: URL): void {
  const nonce = crypto.randomBytes(16).toString('hex');
  const dark = url.searchParams.get('theme') === 'dark';
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Rendered Markdown</title><base target="_blank">
<style nonce="${nonce}">body{margin:0;padding:1rem;font-family:sans-serif;white-space:pre-wrap;overflow-wrap:anywhere;${
    dark ? 'background:#141414;color:#f8fafc' : 'background:#fff;color:#121416'
  }}</style></head><body><main>${escapeHtml(url.searchParams.get('content') ?? '')}</main></body></html>`;
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `base-uri 'self'; default-src 'none'; style-src 'nonce-${nonce}'; frame-ancestors 'self'; form-action 'none'; sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox;`,
  });
  res.end(html);
}

/** A run's whole history as one JSON array of events (proto3 JSON, payloads in full), written page by page. */
async function streamHistory(res: http.ServerResponse, handlers: Record<string, Handler>, m: RegExpExecArray): Promise<void> {
  const [namespace, workflowId, runId] = m.slice(1).map(decodeURIComponent);
  const eventType = temporal.api.history.v1.HistoryEvent as unknown as PType;
  const ctx = httpCallContext(res);
  let nextPageToken: Uint8Array | undefined;
  let first = true;
  do {
    const page = (await handlers.GetWorkflowExecutionHistory(
      { namespace, execution: { workflowId, runId }, nextPageToken },
      ctx,
    )) as temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryResponse;
    // Headers go once the first page is in: an unknown run is still answered with an error status.
    if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/json' }).write('[');
    for (const event of page.history?.events ?? []) {
      res.write(`${first ? '' : ','}${JSON.stringify(messageToJson(eventType, event, false))}`);
      first = false;
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken && !ctx.signal.aborted);
  res.end(']');
}

function notBuiltPage(res: http.ServerResponse): void {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Temporal UI not built</title></head>
<body style="font-family:sans-serif;max-width:40rem;margin:4rem auto;line-height:1.5">
<h1>The Temporal UI is not built</h1>
<p>This server answers the UI's API, but the UI itself has not been built in this checkout. It is built
by <code>npm install</code>, which needs the development dependencies; to build it again run
<code>npm run build:ui</code> and reload.</p></body></html>`;
  res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
  res.end(html);
}

/** Sends a file of the build, or resolves false when the path names none. */
async function sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: string, cache: string): Promise<boolean> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch {
    return false;
  }
  if (!stat.isFile()) return false;
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': stat.size,
    'cache-control': cache,
  });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  await new Promise<void>((resolve, reject) => fs.createReadStream(file).on('error', reject).on('end', resolve).pipe(res));
  return true;
}

/** Static files of the build; any other page path gets the app's fallback page, which routes in the browser. */
async function serveApp(req: http.IncomingMessage, res: http.ServerResponse, build: UiBuild, pathname: string): Promise<void> {
  let rel: string;
  try {
    rel = path.normalize(decodeURIComponent(pathname));
  } catch {
    return void res.writeHead(400).end();
  }
  const file = path.join(build.dir, rel);
  // Hashed file names under _app/immutable never change content; everything else is checked each time.
  const immutable = rel.startsWith(`${path.sep}_app${path.sep}immutable${path.sep}`);
  if (file.startsWith(build.dir + path.sep) && (await sendFile(req, res, file, immutable ? 'public, max-age=31536000, immutable' : 'no-cache'))) return;
  if (rel.startsWith(`${path.sep}_app${path.sep}`)) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
  await sendFile(req, res, path.join(build.dir, 'index.html'), 'no-cache');
}

/**
 * The Temporal UI's server, as the Go ui-server inside `temporal server start-dev` is: the built
 * single-page app at `/`, the UI's own endpoints (`/api/v1/settings`, the raw history download,
 * `/render`), and Temporal's HTTP API under `/api/v1/` transcoded onto the embedded server's handlers,
 * with payloads written in full as the ui-server writes them. Authentication is off: it is meant for
 * a developer's own machine and binds where the gRPC port does.
 */
export function createUiServer(opts: UiServerOptions): http.Server {
  const api = createApiHandler(opts.handlers, opts.log, { payloadShorthand: false });
  const settings = uiSettings({ defaultNamespace: opts.defaultNamespace, uiVersion: opts.build?.uiVersion ?? '' });
  const route = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { pathname } = url;
    const method = req.method ?? 'GET';
    if (pathname === '/api/v1/settings' && method === 'GET') return sendJson(res, 200, settings);
    const raw = method === 'GET' ? RAW_HISTORY.exec(pathname) : null;
    if (raw) return streamHistory(res, opts.handlers, raw);
    if (pathname.startsWith('/api/')) return api(req, res);
    if (method !== 'GET' && method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    if (pathname === '/render') return renderPage(res, url);
    if (!opts.build) return notBuiltPage(res);
    return serveApp(req, res, opts.build, pathname);
  };
  return http.createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (err instanceof ServerError) return sendError(res, err.code, err.message);
      opts.log.error({ err, path: req.url }, 'Temporal UI request failed unexpectedly');
      sendError(res, grpcStatus.INTERNAL, 'internal error');
    });
  });
}
