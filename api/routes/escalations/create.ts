import { randomUUID } from 'node:crypto';
import { loadEscalationPolicy } from '../../../policies/load';
import { ClearwayError } from '../../../errors';
import { escalation, escalationWorkflowId, reportEscalation } from '../../../workflows/escalation';
import { liveView } from '../../escalations';
import { defineRoute } from '../../define-route';
import { CreateEscalationBody, Escalation } from './schemas';

let severities: string[] | undefined;

// The workflow refuses an unknown severity too, but only after it has started; asking first answers with a 400.
function knownSeverities(): string[] {
  if (!severities) {
    const loaded = loadEscalationPolicy();
    if (!loaded.ok) throw new Error(loaded.error);
    severities = Object.keys(loaded.policy.ladders);
  }
  return severities;
}

/**
 * POST /api/v1/escalations: reports an issue. Signal-with-start makes the key the identity: the first report starts
 * the escalation, a later one with the same key while it runs counts as another occurrence of it.
 */
export const createEscalationRoute = defineRoute({
  method: 'post',
  path: '/api/v1/escalations',
  summary: 'Report an issue: start its escalation, or count another occurrence of the open one with this key',
  tags: ['escalations'],
  body: CreateEscalationBody,
  response: Escalation,
  status: 201,
  async handler({ body, actor, deps }) {
    if (!knownSeverities().includes(body.severity)) {
      throw new ClearwayError('VALIDATION_FAILED', 'body is invalid', [
        { path: 'body.severity', message: `no ladder "${body.severity}"; one of: ${knownSeverities().join(', ')}` },
      ]);
    }
    if ('user' in body.owner) {
      const owner = await deps.prisma.user.findUnique({ where: { id: body.owner.user } }).catch(() => null);
      if (!owner) {
        throw new ClearwayError('VALIDATION_FAILED', 'body is invalid', [
          { path: 'body.owner.user', message: 'no such user' },
        ]);
      }
    }
    const reportId = randomUUID();
    const handle = await deps.temporal().workflow.signalWithStart(escalation, {
      workflowId: escalationWorkflowId(body.key),
      taskQueue: deps.escalations?.taskQueue ?? 'clearway',
      args: [
        {
          key: body.key,
          severity: body.severity,
          title: body.title,
          owner: body.owner,
          by: actor.id,
          source: body.source ?? { kind: 'api' },
          reportId,
        },
      ],
      signal: reportEscalation,
      signalArgs: [{ by: actor.id, reportId }],
    });
    return liveView(handle);
  },
});
