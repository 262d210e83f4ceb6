import { createHash } from 'node:crypto';
import type { ZodType } from 'zod';
import { ClearwayError } from '../errors';

/** A position in a newest-first list: the (time, id) of the last item shown, stable under inserts, unlike an offset. */
export interface Keyset {
  at: Date;
  id: string;
}

/** A list route's query: its page size, the cursor of the page before, and its filters (everything else). */
export type ListQuery = { cursor?: string; limit: number };

// The filters a cursor was made under, so it cannot be carried over to a listing that would page differently.
function scopeOf(query: ListQuery): string {
  const filters = Object.entries(query)
    .filter(([k, v]) => k !== 'cursor' && k !== 'limit' && v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256').update(JSON.stringify(filters)).digest('base64url').slice(0, 12);
}

const refused = (message: string) =>
  new ClearwayError('VALIDATION_FAILED', 'query is invalid', [{ path: 'query.cursor', message }]);

/**
 * Decodes the query's cursor (one this API returned, its id checked against `id`, made under the same filters), or
 * VALIDATION_FAILED naming query.cursor.
 */
export function decodeCursor(query: ListQuery, id: ZodType<string>): Keyset | null {
  if (!query.cursor) return null;
  const [time, key, scope, ...rest] = Buffer.from(query.cursor, 'base64url').toString().split('|');
  const at = new Date(time ?? '');
  if (rest.length || !key || !scope || Number.isNaN(at.getTime()) || !id.safeParse(key).success) {
    throw refused('not a cursor this API returned');
  }
  if (scope !== scopeOf(query)) throw refused('this cursor belongs to a listing with other filters; send the same filters');
  return { at, id: key };
}

/** The where clause for rows after `after` in (field desc, id desc) order; empty on the first page. */
export function afterCursor<F extends string>(field: F, after: Keyset | null): { OR?: object[] } {
  if (!after) return {};
  return { OR: [{ [field]: { lt: after.at } }, { [field]: after.at, id: { lt: after.id } }] };
}

/** The page out of `query.limit + 1` fetched rows, and the cursor of the next page (bound to the query's filters). */
export function pageOf<R extends { id: string }>(rows: R[], query: ListQuery, at: (row: R) => Date): { rows: R[]; nextCursor: string | null } {
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  const nextCursor =
    rows.length > query.limit && last ? Buffer.from(`${at(last).toISOString()}|${last.id}|${scopeOf(query)}`).toString('base64url') : null;
  return { rows: page, nextCursor };
}
