import type { Escalation as EscalationRow } from '../../../generated/prisma/client';
import { summary } from '../../change-requests';
import { reviewDetail } from '../../reviews';
import { rolloutSummary } from '../../rollouts';
import { defineRoute } from '../../define-route';
import { RoleName, z } from '../../schemas';
import { ChangeRequestSummary } from '../change-requests/schemas';
import { ReviewDetail } from '../reviews/schemas';
import { RolloutSummary } from '../rollouts/schemas';

const Roles = z
  .array(RoleName)
  .openapi({ description: 'Your roles in which the item awaits you; empty when it is yours by name' });
const DueAt = z.iso.datetime().nullable().openapi({ description: 'When it must be done by; null when nothing is due' });

export const InboxChangeRequestItem = z
  .object({
    kind: z.literal('change-request'),
    action: z.enum(['decide', 'retrospective', 'submit', 'rework']).openapi({
      description:
        'decide: a review awaits one of your roles; retrospective: an approved emergency change owes the retrospective review your role records; submit: your draft; rework: your request sent back',
    }),
    roles: Roles,
    dueAt: DueAt,
    changeRequest: ChangeRequestSummary,
  })
  .openapi('InboxChangeRequestItem');

export const InboxRolloutItem = z
  .object({
    kind: z.literal('rollout'),
    action: z.enum(['advance', 'resume']).openapi({
      description:
        'advance: the gate passes, the soak is served, no blackout or review stands in the way; resume: held',
    }),
    roles: Roles,
    dueAt: DueAt,
    rollout: RolloutSummary,
  })
  .openapi('InboxRolloutItem');

export const InboxReviewItem = z
  .object({
    kind: z.literal('review'),
    action: z.literal('close'),
    roles: Roles,
    dueAt: DueAt,
    review: ReviewDetail,
  })
  .openapi('InboxReviewItem');

/** What an inbox shows of an escalation: enough to see what is asked by when; GET /escalations/{id} has the rest. */
export const InboxEscalation = z
  .object({
    id: z.string(),
    key: z.string(),
    severity: z.string(),
    title: z.string(),
    status: z.enum(['open', 'acknowledged']),
    level: z.number().int(),
    levelName: z.string().nullable(),
    topLevel: z.number().int(),
    owner: z.string().openapi({ description: 'role:<role> or user:<id>' }),
    responsible: z.string().openapi({ description: 'Who must answer now: role:<role> or user:<id>' }),
    acknowledgeBy: z.string().nullable(),
    resolveBy: z.string().nullable(),
    slaBreachedAt: z.string().nullable(),
    openedAt: z.string(),
  })
  .openapi('InboxEscalation');

export const InboxEscalationItem = z
  .object({
    kind: z.literal('escalation'),
    action: z.enum(['acknowledge', 'resolve']),
    roles: Roles,
    dueAt: DueAt,
    escalation: InboxEscalation,
  })
  .openapi('InboxEscalationItem');

export const InboxItem = z
  .discriminatedUnion('kind', [InboxChangeRequestItem, InboxRolloutItem, InboxReviewItem, InboxEscalationItem])
  .openapi('InboxItem');
export type InboxItem = z.infer<typeof InboxItem>;

export const Inbox = z.object({ items: z.array(InboxItem) }).openapi('Inbox');

// Per kind: an inbox is a to-do list, not a search; the list routes page through everything.
const LIMIT = 200;

const iso = (d: Date | null) => d?.toISOString() ?? null;

function inboxEscalation(r: EscalationRow): z.infer<typeof InboxEscalation> {
  return {
    id: r.id,
    key: r.key,
    severity: r.severity,
    title: r.title,
    status: r.status === 'acknowledged' ? 'acknowledged' : 'open',
    level: r.level,
    levelName: r.levelName,
    topLevel: r.topLevel,
    owner: r.owner,
    responsible: r.responsible ?? r.owner,
    acknowledgeBy: iso(r.acknowledgeBy),
    resolveBy: iso(r.resolveBy),
    slaBreachedAt: iso(r.slaBreachedAt),
    openedAt: r.openedAt.toISOString(),
  };
}

/**
 * GET /api/v1/inbox: what the caller can act on now, of every kind:
 * - change requests: reviews awaiting a role they hold (never their own requests, never rounds they already voted
 *   in), retrospective reviews of approved emergency changes their role records (never of their own), and their own
 *   drafts and requests sent back;
 * - escalations whose current level is theirs, by one of their roles or by name (the level's assignee);
 * - for data stewards, open data-stewardship reviews;
 * - for rollout leads, rollouts ready to advance (gate passing, soak served, no blackout, no open review) or held.
 * Items with a deadline come first, soonest (so anything overdue) first; then the rest.
 */
export const inboxRoute = defineRoute({
  method: 'get',
  path: '/api/v1/inbox',
  summary: 'What the caller can act on now: change requests, escalations, reviews and rollouts',
  tags: ['inbox'],
  response: Inbox,
  async handler({ actor, deps }) {
    const roles: string[] = actor.roles;
    const parties = [`user:${actor.id}`, ...roles.map((r) => `role:${r}`)];
    const [reviewsToDecide, retrospectives, own, escalations, reviews, rollouts] = await Promise.all([
      roles.length === 0
        ? []
        : deps.prisma.changeRequest.findMany({
            where: {
              status: 'under_review',
              pendingRoles: { hasSome: roles },
              requester: { not: actor.id },
              NOT: { voters: { has: actor.id } },
            },
            orderBy: [{ slaDueAt: 'asc' }, { id: 'asc' }],
            take: LIMIT,
          }),
      roles.length === 0
        ? []
        : deps.prisma.changeRequest.findMany({
            where: { retrospectiveRole: { in: roles }, requester: { not: actor.id } },
            orderBy: [{ retrospectiveDueAt: 'asc' }, { id: 'asc' }],
            take: LIMIT,
          }),
      deps.prisma.changeRequest.findMany({
        where: { requester: actor.id, status: { in: ['draft', 'changes_requested'] } },
        orderBy: [{ updatedAt: 'desc' }, { id: 'asc' }],
        take: LIMIT,
      }),
      deps.prisma.escalation.findMany({
        where: { status: { not: 'resolved' }, responsible: { in: parties } },
        orderBy: [{ openedAt: 'asc' }, { id: 'asc' }],
        take: LIMIT,
      }),
      roles.length === 0
        ? []
        : deps.prisma.stewardshipReview.findMany({
            where: { status: 'open', ownerRole: { in: roles } },
            orderBy: [{ dueAt: 'asc' }, { id: 'asc' }],
            take: LIMIT,
          }),
      !roles.includes('rollout-lead')
        ? []
        : deps.prisma.rollout.findMany({
            where: { OR: [{ status: 'active', readyToAdvance: true }, { status: 'held' }] },
            orderBy: [{ updatedAt: 'asc' }, { id: 'asc' }],
            take: LIMIT,
          }),
    ]);
    const now = new Date();
    const dated: InboxItem[] = [
      ...escalations.map(
        (row): InboxItem => ({
          kind: 'escalation',
          action: row.status === 'acknowledged' ? 'resolve' : 'acknowledge',
          roles: row.responsible?.startsWith('role:') ? [row.responsible.slice('role:'.length) as RoleName] : [],
          dueAt: iso(row.status === 'acknowledged' ? row.resolveBy : row.acknowledgeBy),
          escalation: inboxEscalation(row),
        }),
      ),
      ...reviews.map(
        (row): InboxItem => ({
          kind: 'review',
          action: 'close',
          roles: [row.ownerRole as RoleName],
          dueAt: row.dueAt.toISOString(),
          review: reviewDetail(row, now),
        }),
      ),
      ...reviewsToDecide.map(
        (row): InboxItem => ({
          kind: 'change-request',
          action: 'decide',
          roles: actor.roles.filter((role) => row.pendingRoles.includes(role)),
          dueAt: iso(row.slaDueAt),
          changeRequest: summary(row),
        }),
      ),
      ...retrospectives.map(
        (row): InboxItem => ({
          kind: 'change-request',
          action: 'retrospective',
          roles: [row.retrospectiveRole as RoleName],
          dueAt: iso(row.retrospectiveDueAt),
          changeRequest: summary(row),
        }),
      ),
    ];
    // Soonest deadline first across kinds; a stable sort keeps each kind's own order between equal deadlines.
    const byDeadline = dated
      .filter((item) => item.dueAt !== null)
      .sort((a, b) => Date.parse(a.dueAt as string) - Date.parse(b.dueAt as string));
    return {
      items: [
        ...byDeadline,
        ...dated.filter((item) => item.dueAt === null),
        ...rollouts.map(
          (row): InboxItem => ({
            kind: 'rollout',
            action: row.status === 'held' ? 'resume' : 'advance',
            roles: ['rollout-lead'],
            dueAt: null,
            rollout: rolloutSummary(row),
          }),
        ),
        ...own.map(
          (row): InboxItem => ({
            kind: 'change-request',
            action: row.status === 'draft' ? 'submit' : 'rework',
            roles: [],
            dueAt: null,
            changeRequest: summary(row),
          }),
        ),
      ],
    };
  },
});
