import { ChangeClass, DataCategory, EvidenceKind } from '../../../domain/change-request-policy';
import {
  CHANGE_REQUEST_STATUSES,
  ChangeRequestFields,
  DecisionKind,
  EvidenceInput,
  MAX_URI_CHARS,
  MAX_EVIDENCE,
  RetrospectiveInput,
  RetrospectiveOutcome,
  Risk,
} from '../../../domain/change-request';
import { RoleName, z } from '../../schemas';
import { maxChars } from '../../../domain/text';

/** A change request's id: a UUID the API assigns. */
export const ChangeRequestId = z.uuid().openapi({ description: 'Change request id' });
export const ChangeRequestParams = z.object({ id: ChangeRequestId });

export const ChangeRequestStatus = z.enum(CHANGE_REQUEST_STATUSES).openapi('ChangeRequestStatus');

const Time = z.iso.datetime();

export const Vote = z
  .object({
    round: z.int(),
    role: RoleName,
    decision: DecisionKind,
    reason: z.string().optional(),
    by: z.string(),
    at: Time,
  })
  .openapi('Vote');

export const Evidence = z
  .object({ kind: EvidenceKind, title: z.string(), uri: z.string().optional(), addedBy: z.string(), addedAt: Time })
  .openapi('Evidence');

/** An escalation started because a review round passed its decision deadline, or a retrospective review its due time. */
export const ChangeRequestEscalation = z
  .object({
    round: z.int(),
    cause: z
      .enum(['decision', 'retrospective'])
      .default('decision')
      .openapi({ description: 'What was late: the round’s decision or the retrospective review' }),
    escalationId: z.string().openapi({ description: 'Read it at GET /escalations/{escalationId}' }),
    ladder: z.string(),
    startedAt: Time,
    status: z.enum(['open', 'resolved']),
    resolution: z.object({ note: z.string(), by: z.string(), at: Time }).nullable(),
  })
  .openapi('ChangeRequestEscalation');

/** The review an approved emergency change owes afterwards, and what it found once recorded. */
export const ChangeRequestRetrospective = z
  .object({
    dueAt: Time,
    owner: RoleName.openapi({ description: 'The role whose holder records the review' }),
    status: z.enum(['pending', 'recorded']),
    overdueAt: Time.nullable().openapi({ description: 'When the due time was seen to pass without the review' }),
    review: z.object({ outcome: RetrospectiveOutcome, notes: z.string(), by: z.string(), at: Time }).nullable(),
  })
  .openapi('ChangeRequestRetrospective');

/** Everything known about a change request: its fields, its review state and what the policy requires of it. */
export const ChangeRequest = z
  .object({
    id: ChangeRequestId,
    title: z.string(),
    description: z.string(),
    class: ChangeClass,
    risk: Risk,
    affectedSystems: z.array(z.string()),
    touches: z.array(z.string()),
    requester: z.string(),
    status: ChangeRequestStatus,
    round: z.int().openapi({ description: '0 until submitted; each submission starts the next review round' }),
    submittedAt: Time.nullable(),
    votes: z.array(Vote).openapi({ description: 'Votes of the current round' }),
    pastRounds: z.array(
      z.object({ round: z.int(), votes: z.array(Vote), submittedAt: Time, slaBreachedAt: Time.nullable() }),
    ),
    evidence: z.array(Evidence),
    slaBreachedAt: Time.nullable(),
    openedAt: Time,
    updatedAt: Time,
    closedAt: Time.nullable(),
    policyVersion: z.string().openapi({ description: 'sha256 of the policy the request was opened under' }),
    requiredRoles: z.array(RoleName),
    pendingRoles: z.array(RoleName),
    requiredEvidence: z.array(EvidenceKind),
    missingEvidence: z.array(EvidenceKind),
    slaDueAt: Time.nullable(),
    reminderDueTimes: z.array(Time),
    retrospectiveDueAt: Time.nullable(),
    // Views stored before these three fields existed lack them; storedView fills them in.
    retrospective: ChangeRequestRetrospective.nullable().openapi({
      description: 'The retrospective review an approved emergency change owes; null when none is owed',
    }),
    escalations: z.array(ChangeRequestEscalation).openapi({
      description:
        'Escalations started by passed decision deadlines (one per round at most) and by an overdue retrospective review; resolving one approves nothing',
    }),
    escalationId: z.string().nullable().openapi({ description: 'The latest of those escalations, if any' }),
  })
  .openapi('ChangeRequest');
export type ChangeRequest = z.infer<typeof ChangeRequest>;

/** A change request as lists show it. */
export const ChangeRequestSummary = z
  .object({
    id: ChangeRequestId,
    title: z.string(),
    class: ChangeClass,
    risk: Risk,
    status: ChangeRequestStatus,
    requester: z.string(),
    affectedSystems: z.array(z.string()),
    round: z.int(),
    pendingRoles: z.array(RoleName),
    policyVersion: z.string(),
    slaDueAt: Time.nullable(),
    retrospectiveDueAt: Time.nullable().openapi({ description: 'When the retrospective review is (or was) due' }),
    retrospectivePending: z.boolean().openapi({ description: 'True while the retrospective review is owed' }),
    openedAt: Time,
    updatedAt: Time,
    closedAt: Time.nullable(),
  })
  .openapi('ChangeRequestSummary');
export type ChangeRequestSummary = z.infer<typeof ChangeRequestSummary>;

// The API holds callers to more than the workflow does, whose rules must stay those its recorded histories replay
// under: a request names at most 50 systems, each short enough to filter the list by and none twice, and evidence
// links are web addresses (the console shows them as links).
const AffectedSystems = distinct(
  z.array(maxChars(ChangeRequestFields.shape.affectedSystems.element, 200)).min(1).max(50),
);
const Touches = distinct(z.array(DataCategory));
const EvidenceBody = EvidenceInput.extend({
  // Limited again after the refinement: a refined copy does not carry the limit into the OpenAPI document.
  uri: maxChars(
    EvidenceInput.shape.uri.unwrap().refine(isWebAddress, { error: 'must be an http(s) URL' }),
    MAX_URI_CHARS,
  )
    .openapi({ format: 'uri', description: 'An absolute http or https URL' })
    .optional(),
});

/** `list` refusing an item it already holds (after each item's own parsing, e.g. trimming), naming where it repeats. */
function distinct<T extends z.ZodArray<z.ZodType<string>>>(list: T): T {
  return list
    .superRefine((items, ctx) => {
      const seen = new Set<string>();
      items.forEach((item, i) => {
        if (seen.has(item)) ctx.addIssue({ code: 'custom', path: [i], message: `repeats ${JSON.stringify(item)}` });
        seen.add(item);
      });
    })
    .meta({ uniqueItems: true });
}

/** An absolute http(s) URL with a host, as a browser would parse it, and no whitespace anywhere. */
function isWebAddress(s: string): boolean {
  if (/\s/.test(s)) return false;
  try {
    const url = new URL(s);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** POST /change-requests: the change, and any evidence it carries from the start. */
export const CreateChangeRequestBody = ChangeRequestFields.extend({
  affectedSystems: AffectedSystems,
  touches: Touches.default([]),
  evidence: z.array(EvidenceBody).max(MAX_EVIDENCE).default([]),
}).openapi('CreateChangeRequest');

/** PATCH /change-requests/{id}: any of the fields; at least one. */
export const EditChangeRequestBody = z
  .strictObject({
    title: ChangeRequestFields.shape.title.optional(),
    description: ChangeRequestFields.shape.description.optional(),
    class: ChangeClass.optional(),
    risk: Risk.optional(),
    affectedSystems: AffectedSystems.optional(),
    // No default here: a patch that leaves `touches` out must not clear it.
    touches: Touches.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { error: 'name at least one field to change' })
  .openapi('EditChangeRequest');

export const AddEvidenceBody = EvidenceBody.extend({}).openapi('AddEvidence');

/** POST /change-requests/{id}/decisions: the caller's vote in one of their roles. */
export const DecisionBody = z
  .strictObject({
    decision: DecisionKind,
    role: RoleName,
    reason: maxChars(z.string().trim(), 5_000).optional(),
  })
  .refine((d) => d.decision === 'approve' || (d.reason !== undefined && d.reason.length > 0), {
    path: ['reason'],
    error: 'a reason is required to reject or request changes',
  })
  .openapi('DecisionBody');

/** POST /change-requests/{id}/retrospective: what the retrospective review of an approved emergency change found. */
export const RetrospectiveBody = RetrospectiveInput.extend({}).openapi('RetrospectiveBody');

export const WithdrawBody = z
  .strictObject({ reason: maxChars(z.string().trim(), 5_000).optional() })
  .openapi('Withdraw');

export { ChangeClass, Risk };
