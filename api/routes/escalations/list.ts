import type { Prisma } from '../../../generated/prisma/client';
import { defineRoute } from '../../define-route';
import { RoleName, z } from '../../schemas';
import { EscalationStatus } from './schemas';
import { maxChars } from '../../../domain/text';

export const ListEscalationsQuery = z.object({
  status: EscalationStatus.optional(),
  level: z.coerce.number().int().min(1).optional(),
  owner: z
    .string()
    .regex(/^(role|user):\S+$/)
    .optional()
    .openapi({ description: 'role:<role> or user:<id>', example: 'role:integration-specialist' }),
  severity: maxChars(z.string().min(1), 100).optional(),
  subject: z
    .string()
    .regex(/^[a-z][a-z0-9-]*:\S+$/)
    .optional()
    .openapi({ description: '<type>:<id> of the record the issue is about', example: 'change-request:<uuid>' }),
  breached: z.enum(['true', 'false']).optional().openapi({ description: 'Whether the top level’s SLA was breached' }),
  mine: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ description: 'Only unresolved escalations waiting on the caller or one of their roles' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const EscalationSummary = z
  .object({
    id: z.string(),
    key: z.string(),
    severity: z.string(),
    title: z.string(),
    status: EscalationStatus,
    level: z.number().int(),
    levelName: z.string().nullable(),
    topLevel: z.number().int(),
    owner: z.string(),
    subject: z.string().nullable().optional().openapi({ description: '<type>:<id> of the record the issue is about' }),
    responsible: z.string().nullable(),
    occurrences: z.number().int(),
    costRoute: RoleName.nullable(),
    costCents: z.number().int(),
    acknowledgeBy: z.iso.datetime().nullable(),
    resolveBy: z.iso.datetime().nullable(),
    slaBreachedAt: z.iso.datetime().nullable(),
    resolvedAt: z.iso.datetime().nullable(),
    openedAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi('EscalationSummary');

export const EscalationPage = z
  .object({ items: z.array(EscalationSummary), total: z.number().int() })
  .openapi('EscalationPage');

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** GET /api/v1/escalations: newest first, filtered; `mine=true` is the caller's escalation inbox. */
export const listEscalationsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/escalations',
  summary: 'Escalations, newest first, by status, level, owner, severity, subject, breach, or waiting on the caller',
  tags: ['escalations'],
  query: ListEscalationsQuery,
  response: EscalationPage,
  async handler({ query, actor, deps }) {
    const where: Prisma.EscalationWhereInput = {
      status: query.status,
      level: query.level,
      owner: query.owner,
      severity: query.severity,
      slaBreachedAt: query.breached === undefined ? undefined : query.breached === 'true' ? { not: null } : null,
    };
    if (query.subject) {
      const at = query.subject.indexOf(':');
      where.subjectType = query.subject.slice(0, at);
      where.subjectId = query.subject.slice(at + 1);
    }
    if (query.mine === 'true') {
      where.responsible = { in: [`user:${actor.id}`, ...actor.roles.map((r) => `role:${r}`)] };
      where.status = query.status === 'resolved' ? '-' : (query.status ?? { not: 'resolved' });
    }
    const [rows, total] = await Promise.all([
      deps.prisma.escalation.findMany({
        where,
        orderBy: [{ openedAt: 'desc' }, { id: 'asc' }],
        skip: query.offset,
        take: query.limit,
      }),
      deps.prisma.escalation.count({ where }),
    ]);
    return {
      total,
      items: rows.map((r) => ({
        id: r.id,
        key: r.key,
        severity: r.severity,
        title: r.title,
        status: r.status as z.infer<typeof EscalationStatus>,
        level: r.level,
        levelName: r.levelName,
        topLevel: r.topLevel,
        owner: r.owner,
        subject: r.subjectType === null ? null : `${r.subjectType}:${r.subjectId}`,
        responsible: r.responsible,
        occurrences: r.occurrences,
        costRoute: r.costRoute as z.infer<typeof RoleName> | null,
        costCents: Number(r.costCents),
        acknowledgeBy: iso(r.acknowledgeBy),
        resolveBy: iso(r.resolveBy),
        slaBreachedAt: iso(r.slaBreachedAt),
        resolvedAt: iso(r.resolvedAt),
        openedAt: r.openedAt.toISOString(),
        updatedAt: r.updatedAt.toISOString(),
      })),
    };
  },
});
