import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../log';
import { createLogNotifier, type Notifier } from './notifier';

export const SIGNATURE_HEADER = 'Clearway-Signature';

/** The signature header value for `body` sent at `timestamp` (unix seconds): `t=<ts>,v1=<hex HMAC-SHA256>`. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** Seconds a signed call stays acceptable after (or before) its timestamp, so a captured call cannot be replayed later. */
export const SIGNATURE_TOLERANCE_S = 300;

/**
 * Checks a `Clearway-Signature` header (`t=<unix>,v1=<hex>`, several v1 allowed while a secret is rotated) over the
 * raw body at `nowMs`. Returns null when it holds, or why not, in words fit for a 401.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  body: Buffer | string,
  nowMs: number,
  toleranceS = SIGNATURE_TOLERANCE_S,
): string | null {
  if (!header) return `the ${SIGNATURE_HEADER} header is missing`;
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = parts.find(([k]) => k === 't')?.[1];
  const macs = parts.filter(([k, v]) => k === 'v1' && v !== undefined && /^[0-9a-f]{64}$/.test(v)).map(([, v]) => v);
  if (t === undefined || !/^\d{1,12}$/.test(t) || macs.length === 0) {
    return `the ${SIGNATURE_HEADER} header must be t=<unix seconds>,v1=<hex HMAC-SHA256>`;
  }
  if (Math.abs(nowMs / 1000 - Number(t)) > toleranceS) {
    return `the ${SIGNATURE_HEADER} timestamp is more than ${toleranceS} s away from now`;
  }
  const expected = createHmac('sha256', secret).update(`${t}.`).update(body).digest();
  const matches = macs.some((mac) => timingSafeEqual(Buffer.from(mac, 'hex'), expected));
  return matches ? null : `the ${SIGNATURE_HEADER} does not match the body`;
}

/** Options for createSignedWebhookNotifier; `fetch`, `sleep` and `now` are injectable so retries test quickly. */
export interface SignedWebhookOptions {
  url: string;
  secret: string;
  log: Logger;
  fetch?: typeof globalThis.fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  attempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
}

/**
 * Logs each notification, then POSTs it as JSON signed with HMAC-SHA256 over `<timestamp>.<body>` (the timestamp
 * lets a receiver refuse replays), with the notification's dedupe key as Idempotency-Key. Overload and outages
 * are retried with exponential backoff; a refusal of the request itself is not. It never throws.
 */
export function createSignedWebhookNotifier(opts: SignedWebhookOptions): Notifier {
  const log = opts.log.child({ component: 'notifier.webhook' });
  const logged = createLogNotifier(opts.log);
  const send = opts.fetch ?? globalThis.fetch;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = opts.now ?? Date.now;
  const attempts = opts.attempts ?? 4;
  const backoffMs = opts.backoffMs ?? 500;
  return {
    async notify(n) {
      await logged.notify(n);
      const body = JSON.stringify(n);
      for (let attempt = 1; attempt <= attempts; attempt++) {
        let retryable = true;
        try {
          const res = await send(opts.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'idempotency-key': n.dedupeKey,
              [SIGNATURE_HEADER]: signWebhook(opts.secret, Math.floor(now() / 1000), body),
            },
            body,
            signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
          });
          if (res.ok) return 'delivered';
          retryable = res.status >= 500 || res.status === 408 || res.status === 429;
          log.warn({ dedupeKey: n.dedupeKey, status: res.status, attempt }, 'webhook refused a notification');
        } catch (err) {
          log.warn({ dedupeKey: n.dedupeKey, err, attempt }, 'webhook unreachable');
        }
        if (!retryable || attempt === attempts) break;
        await sleep(backoffMs * 2 ** (attempt - 1));
      }
      log.error({ dedupeKey: n.dedupeKey }, 'webhook notification given up');
      return 'failed';
    },
  };
}
