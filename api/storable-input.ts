import type { RequestHandler } from 'express';
import { ClearwayError } from '../errors';

const NUL = '\u0000';

/** Where in `value` (keys and strings, depth first) a NUL character is, as `where.key.0`; null when nowhere. */
export function findNul(value: unknown, where: string): string | null {
  if (typeof value === 'string') return value.includes(NUL) ? where : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNul(value[i], `${where}.${i}`);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes(NUL)) return `${where}.${key.replaceAll(NUL, '\\0')}`;
      const found = findNul(item, `${where}.${key}`);
      if (found) return found;
    }
  }
  return null;
}

function decodedPath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/**
 * Refuses API input carrying a NUL character (path, query or JSON body) before any route runs: no text column of
 * Postgres can hold one, so such a value would be accepted here and then fail every write that carries it.
 */
export const refuseNul: RequestHandler = (req, _res, next) => {
  if (!req.path.startsWith('/api/')) return next();
  const found = (decodedPath(req.path).includes(NUL) ? 'path' : null) ?? findNul(req.query, 'query') ?? findNul(req.body, 'body');
  if (!found) return next();
  next(
    new ClearwayError('VALIDATION_FAILED', 'request is invalid', [
      { path: found, message: 'must not contain the NUL character (\\u0000)' },
    ]),
  );
};
