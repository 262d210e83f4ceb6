import type { z } from 'zod';

/** Whether `s` holds at most `max` characters, counting Unicode code points (an emoji is one, not two). */
export function withinChars(s: string, max: number): boolean {
  if (s.length <= max) return true;
  if (s.length > 2 * max) return false;
  let n = 0;
  for (const _ of s) if (++n > max) return false;
  return true;
}

/**
 * Limits a string schema to `max` characters as JSON Schema's `maxLength` counts them, in code points; zod's own
 * `.max()` counts UTF-16 units, which would refuse text the published contract allows. Documented as `maxLength`.
 */
export function maxChars<S extends z.ZodType<string>>(schema: S, max: number): S {
  return schema
    .refine((s) => withinChars(s, max), { error: `Too big: expected string to have <=${max} characters` })
    .meta({ maxLength: max });
}
