import { summary } from '../../change-requests';
import { defineRoute } from '../../define-route';
import { RoleName, z } from '../../schemas';
import { ChangeRequestSummary } from '../change-requests/schemas';

export const InboxItem = z
  .object({
    action: z.enum(['decide', 'submit', 'rework']).openapi({
      description: 'decide: a review awaits one of your roles; submit: your draft; rework: your request sent back',
    }),
    roles: z.array(RoleName).openapi({ description: 'Your roles in which the item awaits you (decide only)' }),
    changeRequest: ChangeRequestSummary,
  })
  .openapi('InboxItem');

export const Inbox = z.object({ items: z.array(InboxItem) }).openapi('Inbox');

const LIMIT = 200;

/**
 * GET /api/v1/inbox: what the caller can act on now. Reviews awaiting a role they hold (never their own requests,
 * never rounds they already voted in), soonest deadline first; then their own drafts and requests sent back.
 */
export const inboxRoute = defineRoute({
  method: 'get',
  path: '/api/v1/inbox',
  summary: 'What the caller can act on now, by role',
  tags: ['change-requests'],
  response: Inbox,
  async handler({ actor, deps }) {
    const [reviews, own] = await Promise.all([
      actor.roles.length === 0
        ? []
        : deps.prisma.changeRequest.findMany({
            where: {
              status: 'under_review',
              pendingRoles: { hasSome: actor.roles },
              requester: { not: actor.id },
              NOT: { voters: { has: actor.id } },
            },
            orderBy: [{ slaDueAt: 'asc' }, { id: 'asc' }],
            take: LIMIT,
          }),
      deps.prisma.changeRequest.findMany({
        where: { requester: actor.id, status: { in: ['draft', 'changes_requested'] } },
        orderBy: [{ updatedAt: 'desc' }, { id: 'asc' }],
        take: LIMIT,
      }),
    ]);
    return {
      items: [
        ...reviews.map((row) => ({
          action: 'decide' as const,
          roles: actor.roles.filter((role) => row.pendingRoles.includes(role)),
          changeRequest: summary(row),
        })),
        ...own.map((row) => ({
          action: row.status === 'draft' ? ('submit' as const) : ('rework' as const),
          roles: [],
          changeRequest: summary(row),
        })),
      ],
    };
  },
});
