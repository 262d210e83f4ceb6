import { z } from 'zod';

const HOUR_MS = 3_600_000;
const UNIT_MS = { W: 7 * 24 * HOUR_MS, D: 24 * HOUR_MS, H: HOUR_MS, M: 60_000, S: 1_000 } as const;

// Years and months are refused: their length depends on the calendar, and an SLA must mean the same everywhere.
const ISO_DURATION =
  /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Milliseconds of an ISO-8601 duration (weeks, days, hours, minutes, seconds), or null when it is not one. */
export function parseIsoDuration(text: string): number | null {
  const match = ISO_DURATION.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return null;
  const [, w, d, h, m, s] = match;
  const parts: [string | undefined, number][] = [
    [w, UNIT_MS.W],
    [d, UNIT_MS.D],
    [h, UNIT_MS.H],
    [m, UNIT_MS.M],
    [s, UNIT_MS.S],
  ];
  return Math.round(parts.reduce((sum, [value, unit]) => sum + (value === undefined ? 0 : Number(value) * unit), 0));
}

/** A positive span written as hours (`48`) or an ISO-8601 duration (`PT48H`, `P2D`); parsed to milliseconds. */
export const Duration = z
  .union([z.number(), z.string()], { error: 'expected hours (a number) or an ISO-8601 duration such as PT48H' })
  .transform((value, ctx) => {
    const ms = typeof value === 'number' ? value * HOUR_MS : parseIsoDuration(value);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not an ISO-8601 duration of weeks, days or time` });
      return z.NEVER;
    }
    if (!Number.isFinite(ms) || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: `duration must be positive, got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return ms;
  });
export type Duration = z.infer<typeof Duration>;

/** Epoch milliseconds of an ISO timestamp, or null when the text is not a timestamp. */
export function toMs(iso: string): number | null {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/** The ISO timestamp `ms` milliseconds after `iso`. Callers pass timestamps they have already validated. */
export function addMs(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}
