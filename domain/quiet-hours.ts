import { z } from 'zod';

const Clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'expected a time of day such as 22:00' });
const MINUTE_MS = 60_000;
const DAY_MINUTES = 24 * 60;

/**
 * Hours in which reminders wait, as local wall-clock times at a fixed UTC offset (a fixed offset keeps the
 * calculation free of time-zone data inside workflows). A start after the end spans midnight.
 */
export const QuietHours = z
  .strictObject({
    start: Clock,
    end: Clock,
    utcOffset: z
      .string()
      .regex(/^[+-]([01]\d|2[0-3]):[0-5]\d$/, { error: 'expected an offset such as +01:00' })
      .default('+00:00'),
  })
  .refine((q) => q.start !== q.end, { error: 'quiet hours must not start and end at the same time' });
export type QuietHours = z.infer<typeof QuietHours>;

function minutesOf(clock: string): number {
  const [h, m] = clock.split(':').map(Number);
  return h * 60 + m;
}

function offsetMinutes(offset: string): number {
  const sign = offset.startsWith('-') ? -1 : 1;
  return sign * minutesOf(offset.slice(1));
}

/** The moment `at` if it is outside quiet hours, otherwise the end of the quiet period containing it. */
export function outsideQuietHours(at: string, quiet: QuietHours | undefined): string {
  if (!quiet) return at;
  const ms = Date.parse(at);
  const localMs = ms + offsetMinutes(quiet.utcOffset) * MINUTE_MS;
  const minuteOfDay = Math.floor(localMs / MINUTE_MS) % DAY_MINUTES;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  const quietNow = start < end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start || minuteOfDay < end;
  if (!quietNow) return at;
  const minutesToEnd = (end - minuteOfDay + DAY_MINUTES) % DAY_MINUTES;
  const startOfMinute = localMs - (localMs % MINUTE_MS);
  return new Date(startOfMinute + minutesToEnd * MINUTE_MS - offsetMinutes(quiet.utcOffset) * MINUTE_MS).toISOString();
}
