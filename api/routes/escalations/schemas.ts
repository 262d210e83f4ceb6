import { RoleName, z } from '../../schemas';
import { maxChars } from '../../../domain/text';

/** A responsible party: anyone holding a role, or one user (by id). */
export const Party = z.union([z.object({ role: RoleName }), z.object({ user: z.string() })]).openapi('EscalationParty');

export const EscalationStatus = z.enum(['open', 'acknowledged', 'resolved']).openapi('EscalationStatus');

/** The record an escalation is about, e.g. the change request whose decision SLA passed. */
export const EscalationSubject = z
  .object({ type: z.string(), id: z.string() })
  .openapi('EscalationSubject', { example: { type: 'change-request', id: '0b6f3c1e-4f2a-4f55-9c39-8a1d2e3f4a5b' } });

/** The caller-given deduplication key; the escalation's id is `esc-<key>`. */
export const EscalationKey = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/, { error: 'letters, digits, ".", "_", ":" or "-", at most 200' });

export const EscalationParams = z.object({
  id: z
    .string()
    .regex(/^esc-[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/, { error: 'an escalation id such as esc-<key>' })
    .openapi({ param: { name: 'id', in: 'path' }, example: 'esc-declarations-rejected-2025-03-04' }),
});

const Step = z.object({
  level: z.number().int(),
  who: Party,
  assignee: z.string().nullable(),
  enteredAt: z.iso.datetime(),
  windowStartedAt: z.iso.datetime(),
  repeats: z.number().int(),
  acknowledgedAt: z.iso.datetime().nullable(),
  acknowledgedBy: z.string().nullable(),
  resolvedAt: z.iso.datetime().nullable(),
  resolvedBy: z.string().nullable(),
  leftAt: z.iso.datetime().nullable(),
  leftBecause: z.enum(['climbed', 'escalated', 'resolved']).nullable(),
});

const Breach = z.object({
  level: z.number().int(),
  window: z.enum(['acknowledge', 'resolve']),
  dueAt: z.iso.datetime(),
  failedToRespond: Party,
  outcome: z.enum(['repeated', 'climbed', 'top-level']),
});

const Cost = z.object({
  amountCents: z.number().int(),
  currency: z.string(),
  note: z.string(),
  by: z.string(),
  at: z.iso.datetime(),
  cycle: z.string(),
});

/** An escalation as its workflow sees it: where it is on the ladder, who must answer and by when. */
export const Escalation = z
  .object({
    id: z.string(),
    key: z.string(),
    severity: z.string(),
    title: z.string(),
    source: z.object({ kind: z.enum(['api', 'workflow', 'webhook']), ref: z.string().optional() }),
    subject: EscalationSubject.nullable().openapi({
      description: 'What the issue is about, when another process raised it',
    }),
    owner: Party,
    status: EscalationStatus,
    level: z.number().int(),
    levelName: z.string().nullable(),
    topLevel: z.number().int(),
    responsible: Party.nullable(),
    acknowledgeBy: z.iso.datetime().nullable(),
    resolveBy: z.iso.datetime().nullable(),
    reminderDueTimes: z.array(z.iso.datetime()),
    occurrences: z.number().int(),
    steps: z.array(Step),
    breaches: z.array(Breach),
    slaBreachedAt: z.iso.datetime().nullable(),
    costs: z.array(Cost),
    costRoute: RoleName.nullable(),
    resolution: z.object({ note: z.string(), by: z.string(), at: z.iso.datetime() }).nullable(),
    reopenCount: z.number().int(),
    reopenableUntil: z.iso.datetime().nullable(),
    openedAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    policyVersion: z.string(),
  })
  .openapi('Escalation');
export type Escalation = z.infer<typeof Escalation>;

export const CreateEscalationBody = z
  .object({
    key: EscalationKey.openapi({ description: 'Reports with the same key while it is open count as occurrences' }),
    severity: maxChars(z.string().min(1), 100).openapi({
      description: 'A ladder of the escalation policy',
      example: 'normal',
    }),
    title: maxChars(z.string().trim().min(1), 300),
    owner: Party.openapi({
      description: 'The owning team (role) or person (user id); level 1 when the ladder says owner',
    }),
    source: z
      .object({ kind: z.enum(['api', 'webhook']), ref: maxChars(z.string(), 300).optional() })
      .optional()
      .openapi({ description: 'Where the report came from; api unless a webhook relays it' }),
  })
  .strict();

/** POST /webhooks/escalations: a monitoring system reports an issue; the signature vouches for the whole body. */
export const EscalationWebhookBody = z
  .object({
    key: EscalationKey.openapi({
      description: 'Deduplication key: reports with it while it is open count as occurrences',
    }),
    severity: CreateEscalationBody.shape.severity,
    title: CreateEscalationBody.shape.title,
    owner: CreateEscalationBody.shape.owner,
    sender: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: 'letters, digits, ".", "_" or "-", at most 64' })
      .default('monitoring')
      .openapi({ description: 'The sending system; recorded as the source and as reporter webhook:<sender>' }),
  })
  .strict()
  .openapi('EscalationWebhook');

export const AcknowledgeBody = z.object({}).strict();
export const ResolveBody = z.object({ note: maxChars(z.string().trim().min(1), 4000) }).strict();
export const ReassignBody = z
  .object({
    to: z.uuid().openapi({ description: 'User id of the new assignee' }),
    reason: maxChars(z.string(), 2000).optional(),
  })
  .strict();
export const EscalateBody = z
  .object({ reason: maxChars(z.string().trim().min(1), 2000), toLevel: z.number().int().min(2).optional() })
  .strict();
export const AddCostBody = z
  .object({
    amount: z
      .number()
      .positive()
      .openapi({ description: 'In the policy currency, at most two decimals', example: 1250.5 }),
    currency: z.string().regex(/^[A-Z]{3}$/),
    note: maxChars(z.string().trim().min(1), 2000),
  })
  .strict();
export const ReopenBody = z.object({ reason: maxChars(z.string().trim().min(1), 2000) }).strict();
