import { defineRoute } from '../../define-route';
import { ListWorkflowsQuery, WorkflowPage } from './schemas';
import { service, summaryOf } from './temporal';

/** The visibility query for the operator's filters; values are validated, so quoting them is safe. */
function visibilityQuery(q: { type?: string; status?: string; startedAfter?: string; startedBefore?: string; workflowIdPrefix?: string }): string {
  const parts: string[] = [];
  if (q.type) parts.push(`WorkflowType = '${q.type}'`);
  if (q.status) parts.push(`ExecutionStatus = '${q.status}'`);
  if (q.startedAfter) parts.push(`StartTime >= '${q.startedAfter}'`);
  if (q.startedBefore) parts.push(`StartTime < '${q.startedBefore}'`);
  if (q.workflowIdPrefix) parts.push(`WorkflowId STARTS_WITH '${q.workflowIdPrefix}'`);
  return parts.join(' AND ');
}

/** GET /api/v1/workflows: every workflow execution, newest first, from Temporal's visibility. */
export const listWorkflowsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/workflows',
  summary: 'Workflow executions of every process, filtered by type, status and start time',
  tags: ['operations'],
  query: ListWorkflowsQuery,
  response: WorkflowPage,
  roles: ['operator', 'admin'],
  async handler({ query, deps }) {
    const { svc, namespace } = service(deps);
    const res = await svc.listWorkflowExecutions({
      namespace,
      query: visibilityQuery(query),
      pageSize: query.pageSize,
      nextPageToken: query.pageToken ? Buffer.from(query.pageToken, 'base64url') : undefined,
    });
    const token = res.nextPageToken?.length ? Buffer.from(res.nextPageToken).toString('base64url') : null;
    return { items: (res.executions ?? []).map(summaryOf), nextPageToken: token };
  },
});
