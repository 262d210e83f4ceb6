import { CUTOVER_STATUSES } from '../../../domain/cutover';
import { WindowLabel } from '../../../domain/cutover-plan';
import { DISCREPANCY_KINDS } from '../../../domain/reconcile';
import { z } from '../../schemas';
import { maxChars } from '../../../domain/text';

export const CutoverId = z.uuid().openapi({ description: 'Cutover id' });
export const CutoverParams = z.object({ id: CutoverId });
export const WindowParams = z.object({ id: CutoverId, window: WindowLabel });
export const CutoverStatus = z.enum(CUTOVER_STATUSES).openapi('CutoverStatus');

const Time = z.iso.datetime();
const Counts = z.record(z.string(), z.number());

export const CutoverWindow = z
  .object({
    window: z.string(),
    runId: z.string(),
    phase: z.enum(['parallel', 'watch']),
    rate: z.number(),
    clean: z.boolean(),
    reasons: z.array(z.string()),
    counts: Counts,
    at: Time,
  })
  .openapi('CutoverWindow');

const Stamp = z.object({ by: z.string(), at: Time });

/** A staged upload; `removedAt` once its file is gone (the window was reconciled, refused as malformed, or closed). */
const Upload = z
  .object({ format: z.string(), bytes: z.int(), by: z.string(), at: Time, removedAt: Time.optional() })
  .openapi('CutoverUpload');

/** A cutover as its workflow last recorded it: state, windows with rates, clean streak, rehearsal, switch approvals. */
export const Cutover = z
  .object({
    id: CutoverId,
    changeRequestId: z.string(),
    planVersion: z.string(),
    status: CutoverStatus,
    final: z.boolean(),
    cleanStreak: z.int(),
    watchClean: z.int(),
    rules: z.object({
      cleanWindowsRequired: z.int(),
      watchWindows: z.int(),
      thresholds: z.object({ maxDiscrepancyRate: z.number(), maxCriticalMismatches: z.int(), minRecords: z.int() }),
      fallbackSteps: z.array(z.string()),
    }),
    windows: z.array(CutoverWindow),
    rehearsal: z
      .object({
        at: Time,
        by: z.string(),
        passed: z.boolean(),
        steps: z.array(z.object({ step: z.string(), passed: z.boolean(), note: z.string().optional() })),
      })
      .nullable(),
    switchRequest: z.object({ lead: Stamp.optional(), chair: Stamp.optional() }),
    uploads: z.record(z.string(), z.object({ legacy: Upload.optional(), new: Upload.optional() })),
    pending: z.array(z.string()),
    invalid: z.record(z.string(), z.object({ runId: z.string(), problemCount: z.int() })),
    failed: z
      .record(z.string(), z.object({ runId: z.string(), message: z.string(), at: Time }))
      .default({})
      .openapi({ description: 'Windows whose last reconciliation failed after its retries, with the error' }),
    escalations: z.array(z.object({ window: z.string(), key: z.string(), severity: z.string(), started: z.boolean() })),
    openedBy: z.string(),
    openedAt: Time,
    updatedAt: Time,
    closedAt: Time.nullable(),
    reason: z.string().nullable(),
    revision: z.int(),
  })
  .openapi('Cutover');

export const CreateCutoverBody = z
  .object({
    changeRequestId: z.uuid().openapi({ description: 'The approved change request this cutover carries out' }),
    plan: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'The cutover plan (see policies/cutover-plan.example.yaml)' }),
  })
  .openapi('CreateCutover');

export const ReconcileBody = z.object({ window: WindowLabel }).openapi('ReconcileWindow');
export const ReasonBody = z.object({ reason: maxChars(z.string().trim().min(1), 2_000) }).openapi('CutoverReason');
export const RehearsalBody = z
  .object({
    steps: z
      .array(z.object({ step: z.string().min(1), passed: z.boolean(), note: maxChars(z.string(), 2_000).optional() }))
      .min(1),
  })
  .openapi('FallbackRehearsal');

export const DiscrepancyQuery = z.object({
  kind: z.enum(DISCREPANCY_KINDS).optional(),
  field: maxChars(z.string().min(1), 64).optional(),
  runId: z
    .string()
    .optional()
    .openapi({ description: 'A run of the window; the latest finished (completed or refused) one unless given' }),
  cursor: z.string().regex(/^\d+$/).optional().openapi({ description: 'nextCursor of the previous page' }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const DiscrepancyPage = z
  .object({
    runId: z.string(),
    window: z.string(),
    status: z.string().openapi({ description: 'completed, invalid, running, cancelled or failed' }),
    failure: z.string().nullable().openapi({ description: "A failed run's last error" }),
    counts: Counts,
    rate: z.number().nullable(),
    problemCount: z.int().openapi({ description: 'Malformed rows of a refused (invalid) run; 0 otherwise' }),
    problems: z
      .array(z.object({ side: z.enum(['legacy', 'new']), line: z.int(), message: z.string() }))
      .openapi({ description: 'The first malformed rows (up to 100), each with its side and line' }),
    items: z.array(
      z.object({
        id: z.string(),
        kind: z.enum(DISCREPANCY_KINDS),
        key: z.string(),
        fields: z.array(z.string()),
        critical: z.boolean(),
        legacyLine: z.int().nullable(),
        newLine: z.int().nullable(),
        detail: z.unknown(),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .openapi('DiscrepancyPage');

export const CutoverHistory = z
  .object({
    entries: z.array(z.object({ at: Time, actor: z.string(), action: z.string(), data: z.unknown() })),
  })
  .openapi('CutoverHistory');

/** A cutover in a list: where it stands, without its windows, rehearsal or uploads. */
export const CutoverSummary = z
  .object({
    id: CutoverId,
    changeRequestId: z.string(),
    planVersion: z.string(),
    status: CutoverStatus,
    final: z.boolean(),
    cleanStreak: z.int(),
    cleanWindowsRequired: z.int(),
    watchClean: z.int(),
    watchWindows: z.int(),
    windowsReconciled: z.int().openapi({ description: 'Windows counted so far, both phases' }),
    pending: z.int().openapi({ description: 'Windows queued or being reconciled' }),
    openedBy: z.string(),
    openedAt: Time,
    updatedAt: Time,
    closedAt: Time.nullable(),
  })
  .openapi('CutoverSummary');
export type CutoverSummary = z.infer<typeof CutoverSummary>;

export const ListCutoversQuery = z.object({
  status: CutoverStatus.optional(),
  changeRequestId: z.uuid().optional().openapi({ description: 'Only the cutovers of this change request' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: maxChars(z.string(), 200).optional().openapi({ description: 'nextCursor of the previous page' }),
});

export const CutoverPage = z
  .object({ items: z.array(CutoverSummary), nextCursor: z.string().nullable() })
  .openapi('CutoverPage');
