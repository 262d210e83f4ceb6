import type { RequestHandler } from 'express';
import { ClearwayError } from '../errors';

// Text no Postgres column can hold: the NUL character, and a UTF-16 surrogate without its pair (it has no UTF-8
// form). Accepted here, either would fail every write that carries it, and an activity would retry it for ever.
const NUL = '\u0000';
const UNPAIRED = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// No request body of the API nests deeper than a few levels; far deeper ones are refused before anything walks them.
const MAX_DEPTH = 32;

/** What is wrong with one place of a request, as a VALIDATION_FAILED detail. */
export type InputProblem = { path: string; message: string };

function textProblem(text: string, path: string): InputProblem | null {
  if (text.includes(NUL)) return { path, message: 'must not contain the NUL character (\\u0000)' };
  if (UNPAIRED.test(text)) return { path, message: 'must be well-formed Unicode text (it has an unpaired surrogate)' };
  return null;
}

/**
 * The first place in `value` (keys and strings, depth first, named like `where.key.0`) holding text that cannot be
 * stored, or nesting deeper than 32 levels; null when there is none. Walks without recursion, so no input can
 * exhaust the stack.
 */
export function findUnstorable(value: unknown, where: string): InputProblem | null {
  const stack: [unknown, string, number][] = [[value, where, 0]];
  while (stack.length) {
    const [item, path, depth] = stack.pop()!;
    if (typeof item === 'string') {
      const problem = textProblem(item, path);
      if (problem) return problem;
      continue;
    }
    if (!item || typeof item !== 'object') continue;
    if (depth >= MAX_DEPTH) return { path, message: `must not be nested more than ${MAX_DEPTH} levels deep` };
    const entries: [string, unknown][] = Array.isArray(item) ? item.map((v, i) => [String(i), v]) : Object.entries(item);
    for (const [key] of entries) {
      const problem = textProblem(key, `${path}.${key.replaceAll(NUL, '\\0')}`);
      if (problem) return problem;
    }
    // Pushed in reverse, so the first entry is looked at first.
    for (let i = entries.length - 1; i >= 0; i--) stack.push([entries[i][1], `${path}.${entries[i][0]}`, depth + 1]);
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
 * Refuses API input (path, query or JSON body) that Postgres could not store or that nests absurdly deep, before the
 * route's handler runs: 400 VALIDATION_FAILED naming the place, and nothing written.
 */
export const refuseUnstorable: RequestHandler = (req, _res, next) => {
  const found = textProblem(decodedPath(req.path), 'path') ?? findUnstorable(req.query, 'query') ?? findUnstorable(req.body, 'body');
  if (!found) return next();
  next(new ClearwayError('VALIDATION_FAILED', 'request is invalid', [found]));
};
