import type { ZodType } from 'zod';
import { ClearwayError } from '../errors';

/** A position in a newest-first list: the (time, id) of the last item shown, stable under inserts, unlike an offset. */
export interface Keyset {
  at: Date;
  id: string;
}

/** Decodes a cursor this API returned (its id checked against `id`), or VALIDATION_FAILED naming query.cursor. */
export function decodeCursor(cursor: string | undefined, id: ZodType<string>): Keyset | null {
  if (!cursor) return null;
  const text = Buffer.from(cursor, 'base64url').toString();
  const bar = text.indexOf('|');
  const at = new Date(bar > 0 ? text.slice(0, bar) : '');
  const key = text.slice(bar + 1);
  if (bar <= 0 || Number.isNaN(at.getTime()) || !id.safeParse(key).success) {
    throw new ClearwayError('VALIDATION_FAILED', 'query is invalid', [{ path: 'query.cursor', message: 'not a cursor this API returned' }]);
  }
  return { at, id: key };
}

/** The where clause for rows after `after` in (field desc, id desc) order; empty on the first page. */
export function afterCursor<F extends string>(field: F, after: Keyset | null): { OR?: object[] } {
  if (!after) return {};
  return { OR: [{ [field]: { lt: after.at } }, { [field]: after.at, id: { lt: after.id } }] };
}

/** The page out of `limit + 1` fetched rows, and the cursor of the next page when there is one. */
export function pageOf<R extends { id: string }>(rows: R[], limit: number, at: (row: R) => Date): { rows: R[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > limit && last ? Buffer.from(`${at(last).toISOString()}|${last.id}`).toString('base64url') : null;
  return { rows: page, nextCursor };
}
