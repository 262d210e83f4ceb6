import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

/** The session cookie: the user's bearer token, unreadable by scripts and never sent cross-site. */
export const COOKIE = 'clearway_session';

/** The token the session cookie carries, if any. */
export function sessionToken(req: Request): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === COOKIE) return decodeURIComponent(part.slice(eq + 1).trim()) || null;
  }
  return null;
}

/** Set-Cookie for a new session; Secure when the request came over TLS (directly or per a trusted proxy). */
export function sessionCookie(token: string, secure: boolean): string {
  return `${COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${12 * 3600}${secure ? '; Secure' : ''}`;
}

/** Set-Cookie that ends the session. */
export function endedSessionCookie(secure: boolean): string {
  return `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}

/**
 * The anti-forgery token for a session's forms. It is derived from the session token, which a page
 * on another site can neither read (HttpOnly) nor guess, so it needs no server-side state and holds
 * across restarts and replicas.
 */
export function csrfToken(token: string): string {
  return createHash('sha256').update(`clearway-console-csrf:${token}`).digest('base64url');
}

/** True when a form post carries this session's anti-forgery token and does not come from another origin. */
export function formIsGenuine(req: Request, token: string): boolean {
  const origin = req.get('origin');
  if (origin && origin !== 'null') {
    try {
      if (new URL(origin).host !== req.get('host')) return false;
    } catch {
      return false;
    }
  }
  if (req.get('sec-fetch-site') === 'cross-site') return false;
  const given = Buffer.from(String((req.body as Record<string, unknown> | undefined)?.csrf ?? ''));
  const expected = Buffer.from(csrfToken(token));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** An answer of the API. */
export interface Answer<T> {
  status: number;
  body: T;
}

/** The API's error body. */
export interface ApiError {
  error: { code: string; message: string; details: unknown[] };
}

/**
 * The API as the signed-in user: the console reads and acts only through it, so every page and
 * button gets exactly the API's validation and role checks.
 */
export class ApiClient {
  constructor(
    private readonly base: string,
    private readonly token: string,
  ) {}

  /** The API on the server that answered `req` (same process), as the holder of `token`. */
  static forRequest(req: Request, token: string): ApiClient {
    const address = (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const host = address.includes(':') ? `[${address}]` : address;
    return new ApiClient(`http://${host}:${req.socket.localPort}`, token);
  }

  /** GET `path` (under /api/v1), answering the status and parsed body. */
  get<T = unknown>(path: string): Promise<Answer<T>> {
    return this.send<T>('GET', path);
  }

  /** POST a JSON body to `path` (under /api/v1). */
  post<T = unknown>(path: string, body: unknown): Promise<Answer<T>> {
    return this.send<T>('POST', path, body);
  }

  private async send<T>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
    const res = await fetch(`${this.base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }
}
