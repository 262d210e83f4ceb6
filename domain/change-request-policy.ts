import { z } from 'zod';
import { Duration } from './duration';
import { describeFirstIssue, type PolicyProblem } from './policy-problem';
import { RoleName } from './role-name';
import type { Role } from './roles';

export const CHANGE_CLASSES = ['standard', 'normal', 'emergency'] as const;
export const ChangeClass = z.enum(CHANGE_CLASSES);
export type ChangeClass = z.infer<typeof ChangeClass>;

export const EVIDENCE_KINDS = [
  'documentation',
  'test-evidence',
  'security-signoff',
  'rollback-plan',
  'training-plan',
] as const;
export const EvidenceKind = z.enum(EVIDENCE_KINDS);
export type EvidenceKind = z.infer<typeof EvidenceKind>;

/** Sensitive data a change can touch; touching one can add approvers and evidence. */
export const DATA_CATEGORIES = ['personal-data', 'security-data'] as const;
export const DataCategory = z.enum(DATA_CATEGORIES);
export type DataCategory = z.infer<typeof DataCategory>;

/** Extra approvers and evidence that apply when a change touches any of the listed data categories. */
export const ConditionalRequirement = z
  .strictObject({
    whenTouches: z.array(DataCategory).min(1),
    roles: z.array(RoleName).default([]),
    evidence: z.array(EvidenceKind).default([]),
  })
  .refine((c) => c.roles.length + c.evidence.length > 0, { error: 'a condition must add roles or evidence' });
export type ConditionalRequirement = z.infer<typeof ConditionalRequirement>;

/**
 * What an SLA breach does: start an escalation on the named ladder (owned by `owner`, the CCB chair unless given),
 * or end the request as expired.
 */
export const BreachAction = z.discriminatedUnion(
  'action',
  [
    z.strictObject({ action: z.literal('escalate'), ladder: z.string().min(1), owner: RoleName.optional() }),
    z.strictObject({ action: z.literal('expire') }),
  ],
  { error: 'action must be "escalate" (with a ladder) or "expire"' },
);
export type BreachAction = z.infer<typeof BreachAction>;

/**
 * What an overdue retrospective review does: tell its owner and the requester (`notify`), or also start an
 * escalation on the named ladder, owned by `owner` (the review's owner unless given).
 */
export const OverdueAction = z.discriminatedUnion(
  'action',
  [
    z.strictObject({ action: z.literal('notify') }),
    z.strictObject({ action: z.literal('escalate'), ladder: z.string().min(1), owner: RoleName.optional() }),
  ],
  { error: 'action must be "notify" or "escalate" (with a ladder)' },
);
export type OverdueAction = z.infer<typeof OverdueAction>;

/**
 * The review an approved change of the class must have afterwards: due `within` of its approval, recorded by a
 * holder of `owner` (the CCB chair unless given), who is reminded at the `reminders` offsets from the approval.
 * Optional fields carry no defaults: the version hashes the validated form, and files written before they existed
 * must keep theirs.
 */
export const RetrospectiveRule = z
  .strictObject({
    within: Duration,
    owner: RoleName.optional(),
    reminders: z.array(Duration).optional(),
    onOverdue: OverdueAction.optional(),
  })
  .superRefine((r, ctx) => {
    (r.reminders ?? []).forEach((at, i, all) => {
      const problem = (message: string) => ctx.addIssue({ code: 'custom', path: ['reminders', i], message });
      if (at >= r.within) problem('a reminder must fall before the review is due');
      if (i > 0 && at <= all[i - 1]) problem('reminders must be in increasing order');
    });
  });
export type RetrospectiveRule = z.infer<typeof RetrospectiveRule>;

/** Outbound notifications; the secret is named, never written in the policy, so the file can be committed. */
export const Webhook = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  secretEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { error: 'secretEnv must name an environment variable' }),
});
export type Webhook = z.infer<typeof Webhook>;

function duplicates<T>(items: readonly T[]): T[] {
  return [...new Set(items.filter((item, i) => items.indexOf(item) !== i))];
}

/**
 * Approval rules of one change class. Every required role must approve, and the approvals (one per user) must
 * reach the quorum; optional roles may vote only while the quorum cannot yet be met by the required roles alone.
 * Reminders are offsets from the start of a review round and must fall before the decision SLA.
 */
export const ClassPolicy = z
  .strictObject({
    description: z.string().optional(),
    requiredRoles: z.array(RoleName),
    optionalRoles: z.array(RoleName).default([]),
    quorum: z.int().positive().optional(),
    conditional: z.array(ConditionalRequirement).default([]),
    evidence: z.array(EvidenceKind).default([]),
    decisionSla: Duration,
    reminders: z.array(Duration).default([]),
    onBreach: BreachAction,
    retrospective: RetrospectiveRule.optional(),
  })
  .superRefine((c, ctx) => {
    const problem = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    for (const role of duplicates(c.requiredRoles)) problem(['requiredRoles'], `role ${role} is listed twice`);
    for (const role of c.optionalRoles.filter((r) => c.requiredRoles.includes(r))) {
      problem(['optionalRoles'], `role ${role} is both required and optional`);
    }
    for (const kind of duplicates(c.evidence)) problem(['evidence'], `evidence kind ${kind} is listed twice`);
    if (c.requiredRoles.length + c.optionalRoles.length === 0) {
      problem(['requiredRoles'], 'no role can approve: list requiredRoles or optionalRoles');
    }
    if (c.quorum !== undefined && c.quorum < c.requiredRoles.length) {
      problem(['quorum'], `quorum ${c.quorum} is below the ${c.requiredRoles.length} required roles`);
    }
    if (c.quorum !== undefined && c.optionalRoles.length === 0 && c.quorum > c.requiredRoles.length) {
      problem(['quorum'], `quorum ${c.quorum} cannot be reached by ${c.requiredRoles.length} required roles alone`);
    }
    c.reminders.forEach((at, i) => {
      if (at >= c.decisionSla) problem(['reminders', i], 'a reminder must fall before the decision SLA');
      if (i > 0 && at <= c.reminders[i - 1]) problem(['reminders', i], 'reminders must be in increasing order');
    });
  })
  .transform((c) => ({ ...c, quorum: c.quorum ?? Math.max(1, c.requiredRoles.length) }));
export type ClassPolicy = z.infer<typeof ClassPolicy>;

/** The change-control policy file: one rule set per change class, plus an optional webhook for notifications. */
export const ChangeControlPolicy = z
  .strictObject({
    classes: z.strictObject({ standard: ClassPolicy, normal: ClassPolicy, emergency: ClassPolicy }),
    webhook: Webhook.optional(),
  })
  .superRefine((p, ctx) => {
    // Emergency changes skip the full board, so the board must look at them afterwards.
    if (!p.classes.emergency.retrospective) {
      ctx.addIssue({
        code: 'custom',
        path: ['classes', 'emergency', 'retrospective'],
        message: 'emergency changes need a retrospective review window',
      });
    }
  });
export type ChangeControlPolicy = z.infer<typeof ChangeControlPolicy>;

/** Validates an already parsed policy document; a failure names the first bad path and its problem. */
export function validateChangeControlPolicy(
  raw: unknown,
): { ok: true; policy: ChangeControlPolicy } | ({ ok: false } & PolicyProblem) {
  const parsed = ChangeControlPolicy.safeParse(raw);
  return parsed.success ? { ok: true, policy: parsed.data } : { ok: false, ...describeFirstIssue(parsed.error) };
}

function applicable(rule: ClassPolicy, touches: readonly DataCategory[]): ConditionalRequirement[] {
  return rule.conditional.filter((c) => c.whenTouches.some((category) => touches.includes(category)));
}

/** Roles that must each approve a change of this class touching these data categories, in policy order. */
export function requiredRolesFor(rule: ClassPolicy, touches: readonly DataCategory[]): Role[] {
  return [...new Set([...rule.requiredRoles, ...applicable(rule, touches).flatMap((c) => c.roles)])];
}

/** Roles that may approve towards the quorum without being required. */
export function optionalRolesFor(rule: ClassPolicy, touches: readonly DataCategory[]): Role[] {
  const required = requiredRolesFor(rule, touches);
  return rule.optionalRoles.filter((role) => !required.includes(role));
}

/** Approvals needed: the quorum, raised when conditions add more required roles than it counts. */
export function effectiveQuorum(rule: ClassPolicy, touches: readonly DataCategory[]): number {
  return Math.max(rule.quorum, requiredRolesFor(rule, touches).length);
}

/** Evidence kinds a change of this class touching these data categories must carry before review. */
export function requiredEvidenceFor(rule: ClassPolicy, touches: readonly DataCategory[]): EvidenceKind[] {
  return [...new Set([...rule.evidence, ...applicable(rule, touches).flatMap((c) => c.evidence)])];
}

/** Escalation ladders the policy refers to, each with its path in the file, so a loader can check they exist. */
export function ladderReferences(policy: ChangeControlPolicy): { path: string; ladder: string }[] {
  return CHANGE_CLASSES.flatMap((changeClass) => {
    const rule = policy.classes[changeClass];
    const refs: { path: string; ladder: string }[] = [];
    if (rule.onBreach.action === 'escalate') {
      refs.push({ path: `classes.${changeClass}.onBreach.ladder`, ladder: rule.onBreach.ladder });
    }
    const overdue = rule.retrospective?.onOverdue;
    if (overdue?.action === 'escalate') {
      refs.push({ path: `classes.${changeClass}.retrospective.onOverdue.ladder`, ladder: overdue.ladder });
    }
    return refs;
  });
}
