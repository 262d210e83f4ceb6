import { randomUUID } from 'node:crypto';
import { ClearwayError } from '../../../errors';
import { versionCutoverPlan } from '../../../policies/cutover-plan';
import { cutover, cutoverRecorded, cutoverWorkflowId } from '../../../workflows/cutover';
import { cutoverSetup, publicView, workflowActor } from '../../cutovers';
import { defineRoute } from '../../define-route';
import { CreateCutoverBody, Cutover } from './schemas';

/** POST /api/v1/cutovers: starts the parallel run of an approved change request under a validated plan. */
export const createCutoverRoute = defineRoute({
  method: 'post',
  path: '/api/v1/cutovers',
  summary: 'Start the parallel run of an approved change request',
  tags: ['cutovers'],
  body: CreateCutoverBody,
  response: Cutover,
  status: 201,
  location: (cutover) => `/api/v1/cutovers/${encodeURIComponent(cutover.id)}`,
  roles: ['rollout-lead'],
  async handler({ body, actor, deps, log }) {
    const setup = cutoverSetup(deps);
    const plan = versionCutoverPlan(body.plan);
    if (!plan.ok) {
      throw new ClearwayError('VALIDATION_FAILED', 'body.plan is invalid', [
        { path: 'body.plan', message: plan.error },
      ]);
    }
    const cr = await deps.prisma.changeRequest.findUnique({ where: { id: body.changeRequestId } });
    if (!cr) throw new ClearwayError('NOT_FOUND', `no change request ${body.changeRequestId}`);
    if (cr.status !== 'approved') {
      throw new ClearwayError('CHANGE_NOT_APPROVED', `change request ${cr.id} is ${cr.status}, not approved`, [
        { status: cr.status },
      ]);
    }
    const id = randomUUID();
    const handle = await deps.temporal().workflow.start(cutover, {
      taskQueue: setup.taskQueue,
      workflowId: cutoverWorkflowId(id),
      args: [
        { id, changeRequestId: cr.id, plan: plan.plan, planVersion: plan.version, openedBy: workflowActor(actor) },
      ],
    });
    log.info({ cutoverId: id, crId: cr.id, workflowId: handle.workflowId }, 'cutover opened');
    return publicView(await handle.executeUpdate(cutoverRecorded));
  },
});
