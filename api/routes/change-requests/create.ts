import { randomUUID } from 'node:crypto';
import { ClearwayError } from '../../../errors';
import { changeRequest, changeRequestWorkflowId, recorded } from '../../../workflows/change-request';
import { workflowActor } from '../../change-requests';
import { defineRoute } from '../../define-route';
import { ChangeRequest, CreateChangeRequestBody } from './schemas';

/** POST /api/v1/change-requests: raises a draft owned by the caller, under the policy loaded at start. */
export const createChangeRequestRoute = defineRoute({
  method: 'post',
  path: '/api/v1/change-requests',
  summary: 'Raise a change request (a draft owned by the caller)',
  tags: ['change-requests'],
  body: CreateChangeRequestBody,
  response: ChangeRequest,
  errors: ['NOT_READY'],
  status: 201,
  location: (cr) => `/api/v1/change-requests/${encodeURIComponent(cr.id)}`,
  async handler({ body, actor, deps, log }) {
    const setup = deps.changeRequests;
    if (!setup) throw new ClearwayError('NOT_READY', 'no change-control policy is loaded');
    const { evidence, ...fields } = body;
    const id = randomUUID();
    const handle = await deps.temporal().workflow.start(changeRequest, {
      taskQueue: setup.taskQueue,
      workflowId: changeRequestWorkflowId(id),
      args: [
        { id, requester: workflowActor(actor), fields, evidence, policy: setup.policy, policyVersion: setup.policyVersion },
      ],
    });
    log.info({ crId: id, workflowId: handle.workflowId }, 'change request opened');
    // Answer once the projection holds the request, so the caller's next read finds it.
    return handle.executeUpdate(recorded);
  },
});
