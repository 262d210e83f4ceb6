import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { PrismaClient } from '../generated/prisma/client';
import { ClearwayError } from '../errors';
import { actorOf } from './auth';

const KEY = /^[\x21-\x7e]{1,255}$/;
// A reservation whose request never finished (the process died) may be taken over after this long.
const ABANDONED_MS = 60_000;

/**
 * `Idempotency-Key` for POST: the first request with a key reserves it for its user, runs, and stores
 * its response; a retry with the same key and the same request gets that response replayed (status, body byte for
 * byte, Location, and `Idempotent-Replayed: true`); the same
 * key with a different request is IDEMPOTENCY_KEY_REUSED; a retry while the first still runs is
 * IDEMPOTENCY_IN_PROGRESS. Server errors are not stored, so they can be retried; nor is a 400, which ran nothing, so
 * the corrected request may use the same key.
 */
export function idempotency(prisma: PrismaClient): RequestHandler {
  return async (req, res, next) => {
    const key = req.get('idempotency-key');
    if (key === undefined) return next();
    if (!KEY.test(key)) {
      throw new ClearwayError('VALIDATION_FAILED', 'Idempotency-Key must be 1-255 visible ASCII characters', [
        { path: 'headers.idempotency-key', message: 'invalid format' },
      ]);
    }
    const userId = actorOf(res).id;
    const requestHash = hashRequest(req.method, req.path, req.body);
    const where = { userId_key: { userId, key } };

    const existing = await prisma.idempotencyKey.findUnique({ where });
    if (existing) {
      if (existing.requestHash !== requestHash) {
        throw new ClearwayError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different request');
      }
      if (existing.status !== null) {
        res.set('Idempotent-Replayed', 'true');
        if (existing.location !== null) res.set('Location', existing.location);
        res.status(existing.status).type('application/json').send(existing.responseBody ?? 'null');
        return;
      }
      if (Date.now() - existing.createdAt.getTime() < ABANDONED_MS) {
        throw new ClearwayError('IDEMPOTENCY_IN_PROGRESS', 'a request with this Idempotency-Key is still running');
      }
      await prisma.idempotencyKey.deleteMany({ where: { userId, key, status: null, createdAt: existing.createdAt } });
    }
    const reserved = await prisma.idempotencyKey.createMany({
      data: [{ userId, key, method: req.method, path: req.path, requestHash }],
      skipDuplicates: true,
    });
    if (reserved.count === 0) {
      throw new ClearwayError('IDEMPOTENCY_IN_PROGRESS', 'a request with this Idempotency-Key is still running');
    }

    // The outcome is stored before the response leaves, so a retry that follows it always finds it.
    const json = res.json.bind(res);
    res.json = (value: unknown) => {
      const stored =
        res.statusCode < 500 && res.statusCode !== 400
          ? prisma.idempotencyKey.update({
              where,
              data: {
                status: res.statusCode,
                // As res.json will write it (the app sets no JSON replacer or spacing).
                responseBody: JSON.stringify(value ?? null),
                location: res.get('Location') ?? null,
                completedAt: new Date(),
              },
            })
          : prisma.idempotencyKey.delete({ where });
      stored
        .catch((err: unknown) => req.log.error({ err }, 'could not record the idempotent response'))
        .finally(() => json(value));
      return res;
    };
    next();
  };
}

/** Method, path and body, with object keys sorted so equivalent JSON hashes the same. */
export function hashRequest(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonicalJson(body)}`)
    .digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
