import { defineRoute } from '../../define-route';
import { describeEvent } from '../../workflow-events';
import { RunQuery, WorkflowParams, WorkflowTimeline } from './schemas';
import { orNotFound, service } from './temporal';

/** GET /api/v1/workflows/{workflowId}/history: the execution's history as a readable timeline. */
export const workflowHistoryRoute = defineRoute({
  method: 'get',
  path: '/api/v1/workflows/{workflowId}/history',
  summary: "A workflow execution's history: every event with its time, who caused it and what it carried",
  tags: ['operations'],
  params: WorkflowParams,
  query: RunQuery,
  response: WorkflowTimeline,
  roles: ['operator', 'admin'],
  async handler({ params, query, deps }) {
    const { svc, namespace } = service(deps);
    const execution = { workflowId: params.workflowId, runId: query.runId };
    const events = [];
    let nextPageToken: Uint8Array | undefined;
    let runId = query.runId ?? '';
    do {
      const page = await orNotFound(params.workflowId, () => svc.getWorkflowExecutionHistory({ namespace, execution, nextPageToken, maximumPageSize: 1000 }));
      for (const e of page.history?.events ?? []) {
        events.push(describeEvent(e));
        runId ||= e.workflowExecutionStartedEventAttributes?.originalExecutionRunId ?? '';
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    return { workflowId: params.workflowId, runId, events };
  },
});
