import { randomUUID } from 'node:crypto';
import { reportIssue } from '../../escalations';
import { defineRoute, reply } from '../../define-route';
import { CreateEscalationBody, Escalation } from './schemas';

/**
 * POST /api/v1/escalations: reports an issue. Signal-with-start makes the key the identity: the first report starts
 * the escalation (201), a later one with the same key while it runs counts as another occurrence of it (200).
 */
export const createEscalationRoute = defineRoute({
  method: 'post',
  path: '/api/v1/escalations',
  summary: 'Report an issue: start its escalation, or count another occurrence of the open one with this key',
  tags: ['escalations'],
  body: CreateEscalationBody,
  response: Escalation,
  status: 201,
  location: (escalation) => `/api/v1/escalations/${encodeURIComponent(escalation.id)}`,
  statuses: {
    201: 'Created: the report started a new escalation',
    200: 'An escalation with this key is running: the report counts as an occurrence of it (recorded, not counted, while it is resolved)',
  },
  async handler({ body, actor, deps }) {
    const { created, view } = await reportIssue(deps, {
      key: body.key,
      severity: body.severity,
      title: body.title,
      owner: body.owner,
      by: actor.id,
      source: body.source ?? { kind: 'api' },
      reportId: randomUUID(),
    });
    return created ? view : reply(200, view);
  },
});
