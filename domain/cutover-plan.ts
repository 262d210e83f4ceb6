import { z } from 'zod';
import { Duration } from './duration';
import { describeFirstIssue, type PolicyProblem } from './policy-problem';
import { RoleName } from './role-name';

const FieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/, {
  error: 'a field name is a letter or _ followed by up to 63 letters, digits, _ . or -',
});

// Identifiers are spliced into SQL, so only plain lower-case names are accepted: no quoting, and none of Clearway's
// own tables (they are PascalCase, or start with an underscore) can be named.
const SqlIdentifier = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, {
  error: 'a table or column is a lower-case SQL identifier (letters, digits, _)',
});

/** Values compared as written, optionally ignoring surrounding blanks and letter case. */
export const ExactCompare = z.strictObject({
  how: z.literal('exact'),
  trim: z.boolean().default(true),
  ignoreCase: z.boolean().default(false),
});

/**
 * Amounts (duty, customs value) compared as numbers. Equal when the difference is within `tolerance` (absolute,
 * in the field's unit) or within `relative` (a fraction of the larger magnitude), whichever is more generous.
 */
export const NumericCompare = z.strictObject({
  how: z.literal('numeric'),
  tolerance: z.number().min(0).default(0),
  relative: z.number().min(0).max(1).default(0),
});

/**
 * Codes such as HS / tariff codes, which systems write with dots, spaces or dashes: compared as upper-case letters
 * and digits only. `digits` compares only the leading digits (6 = the internationally harmonised part).
 */
export const CodeCompare = z.strictObject({
  how: z.literal('code'),
  digits: z.int().min(1).max(14).optional(),
});

const ValueMap = z.record(z.string(), z.string());

/**
 * Enumerations each system spells its own way (status codes): both sides are mapped to canonical values first.
 * A value with no mapping is a mismatch of its own, so a new legacy status never passes silently.
 */
export const MappedCompare = z.strictObject({
  how: z.literal('mapped'),
  legacy: ValueMap,
  new: ValueMap,
  ignoreCase: z.boolean().default(true),
});

/** How one field is compared. */
export const Compare = z.discriminatedUnion('how', [ExactCompare, NumericCompare, CodeCompare, MappedCompare], {
  error: 'how must be one of exact, numeric, code, mapped',
});
export type Compare = z.infer<typeof Compare>;

/** A compared field; a mismatch on a critical one fails the window whatever the rate. */
export const ComparedField = z.strictObject({
  field: FieldName,
  /** Where the new system keeps the field, when it renamed it. */
  newField: FieldName.optional(),
  compare: Compare.prefault({ how: 'exact' }),
  critical: z.boolean().default(false),
});
export type ComparedField = z.infer<typeof ComparedField>;

/** When a window counts as clean. */
export const Thresholds = z.strictObject({
  /** Discrepant keys over all keys seen; 0.005 = 0.5 %. */
  maxDiscrepancyRate: z.number().min(0).max(1),
  /** Critical-field mismatches tolerated; the seeds' rule is none. */
  maxCriticalMismatches: z.int().min(0).default(0),
  /** A window with fewer keys proves nothing and is never clean. */
  minRecords: z.int().min(1).default(1),
});
export type Thresholds = z.infer<typeof Thresholds>;

/** One step of a freeze, switch, decommission or fallback procedure, with the role that carries it out. */
export const Step = z.strictObject({
  name: z.string().trim().min(1),
  owner: RoleName,
  description: z.string().optional(),
});
export type Step = z.infer<typeof Step>;

const Steps = z.array(Step).min(1, { error: 'at least one step is required' });

/** Reading a window's records from two tables of the Clearway database instead of uploads. */
export const PostgresSource = z.strictObject({
  legacy: z.strictObject({ table: SqlIdentifier, windowColumn: SqlIdentifier }),
  new: z.strictObject({ table: SqlIdentifier, windowColumn: SqlIdentifier }),
});
export type PostgresSource = z.infer<typeof PostgresSource>;

const RecordKind = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,63}$/, { error: 'a record kind is a lower-case kebab-case name' });

/** The cutover plan: what is compared, how, when a window is clean, and the steps forward and back. */
export const CutoverPlan = z
  .strictObject({
    description: z.string().optional(),
    records: z.strictObject({
      kind: RecordKind,
      /** One or more fields forming the business key (declaration reference, consignment id). */
      key: z.union([FieldName.transform((f) => [f]), z.array(FieldName).min(1)]),
    }),
    fields: z.array(ComparedField).min(1, { error: 'at least one compared field is required' }),
    window: Duration,
    thresholds: Thresholds,
    cleanWindowsRequired: z.int().min(1),
    /** Windows reconciled against the legacy shadow output after the switch before decommissioning is allowed. */
    watchWindows: z.int().min(0).default(3),
    source: PostgresSource.optional(),
    /** Severity of the escalation a discrepancy spike opens (a ladder of the escalation policy). */
    escalationSeverity: z.string().default('critical'),
    steps: z.strictObject({ freeze: Steps, switch: Steps, decommission: Steps }),
    fallback: z.strictObject({ steps: Steps, description: z.string().optional() }),
  })
  .superRefine((plan, ctx) => {
    const seen = new Set<string>();
    plan.fields.forEach((f, i) => {
      if (seen.has(f.field))
        ctx.addIssue({ code: 'custom', path: ['fields', i, 'field'], message: 'field listed twice' });
      seen.add(f.field);
      if (plan.records.key.includes(f.field)) {
        ctx.addIssue({ code: 'custom', path: ['fields', i, 'field'], message: 'a key field is matched, not compared' });
      }
    });
  });
export type CutoverPlan = z.infer<typeof CutoverPlan>;
/** The plan as written, before defaults and durations are applied. */
export type CutoverPlanInput = z.input<typeof CutoverPlan>;

/** Validates an already parsed plan; a failure names the first bad path and its problem. */
export function validateCutoverPlan(raw: unknown): { ok: true; plan: CutoverPlan } | ({ ok: false } & PolicyProblem) {
  const parsed = CutoverPlan.safeParse(raw);
  return parsed.success ? { ok: true, plan: parsed.data } : { ok: false, ...describeFirstIssue(parsed.error) };
}

/** A window label: the API path segment and the row key, e.g. `2026-11-25`. */
export const WindowLabel = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
  error: 'a window is 1-64 letters, digits, . _ or -, starting with a letter or digit',
});
export type WindowLabel = z.infer<typeof WindowLabel>;
