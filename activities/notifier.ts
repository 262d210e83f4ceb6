import type { Logger } from '../log';

/** One message for a person or a role. `dedupeKey` is stable across retries so receivers can drop repeats. */
export type Notification = {
  dedupeKey: string;
  kind: string;
  subjectType: string;
  subjectId: string;
  /** `role:<role>` or `user:<id>`. */
  to: string;
  text: string;
  at: string;
  data?: Record<string, unknown>;
};

/** What became of a notification: logged only, also delivered to the webhook, or the webhook failed. */
export type NotifyOutcome = 'logged' | 'delivered' | 'failed';

/** Delivers notifications. It never throws: a broken channel must not hold up the process that notifies. */
export interface Notifier {
  notify(notification: Notification): Promise<NotifyOutcome>;
}

/** Writes each notification to the log; the default when no webhook is configured. */
export function createLogNotifier(log: Logger): Notifier {
  const nlog = log.child({ component: 'notifier' });
  return {
    async notify(n) {
      nlog.info({ dedupeKey: n.dedupeKey, kind: n.kind, subjectId: n.subjectId, to: n.to }, n.text);
      return 'logged';
    },
  };
}

/**
 * Logs each notification and POSTs it as JSON to `url` with `dedupeKey` as its Idempotency-Key, so a receiver can
 * drop a repeat. A failed delivery is logged and reported as 'failed', never thrown.
 */
export function createWebhookNotifier(
  url: string,
  log: Logger,
  opts: { timeoutMs?: number; fetch?: typeof fetch } = {},
): Notifier {
  const logged = createLogNotifier(log);
  const send = opts.fetch ?? fetch;
  return {
    async notify(n) {
      await logged.notify(n);
      try {
        const res = await send(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': n.dedupeKey },
          body: JSON.stringify(n),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        });
        if (res.ok) return 'delivered';
        log.warn({ dedupeKey: n.dedupeKey, status: res.status }, 'notification webhook refused a notification');
      } catch (err) {
        log.warn({ dedupeKey: n.dedupeKey, err }, 'notification webhook unreachable');
      }
      return 'failed';
    },
  };
}
