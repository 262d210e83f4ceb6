import { temporal } from '@temporalio/proto';
import { defineRoute } from '../../define-route';
import { isoTime } from '../../workflow-events';
import { RunQuery, WorkflowDetail, WorkflowParams } from './schemas';
import { orNotFound, service, summaryOf } from './temporal';

const ActivityState = temporal.api.enums.v1.PendingActivityState as unknown as Record<number, string>;

/** GET /api/v1/workflows/{workflowId}: an execution's state, pending activities (attempts, last failure) and children. */
export const getWorkflowRoute = defineRoute({
  method: 'get',
  path: '/api/v1/workflows/{workflowId}',
  summary: 'One workflow execution: status, pending activities with attempts and last failure, pending children',
  tags: ['operations'],
  params: WorkflowParams,
  query: RunQuery,
  response: WorkflowDetail,
  roles: ['operator', 'admin'],
  async handler({ params, query, deps }) {
    const { svc, namespace } = service(deps);
    const res = await orNotFound(params.workflowId, () =>
      svc.describeWorkflowExecution({ namespace, execution: { workflowId: params.workflowId, runId: query.runId } }),
    );
    const summary = summaryOf(res.workflowExecutionInfo ?? {});
    const ui = deps.temporalUiUrl;
    return {
      ...summary,
      pendingActivities: (res.pendingActivities ?? []).map((a) => ({
        activityId: a.activityId ?? '',
        type: a.activityType?.name ?? '',
        state: (ActivityState[a.state ?? 0] ?? '').replace(/^PENDING_ACTIVITY_STATE_/, '').toLowerCase(),
        attempt: a.attempt ?? 1,
        maximumAttempts: a.maximumAttempts ?? 0,
        lastFailure: a.lastFailure?.message ?? null,
        lastHeartbeatTime: a.lastHeartbeatTime ? isoTime(a.lastHeartbeatTime) : null,
        nextAttemptTime: a.nextAttemptScheduleTime ? isoTime(a.nextAttemptScheduleTime) : null,
      })),
      pendingChildren: (res.pendingChildren ?? []).map((c) => ({ workflowId: c.workflowId ?? '', runId: c.runId ?? '', type: c.workflowTypeName ?? '' })),
      temporalUiUrl: ui
        ? `${ui.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(summary.workflowId)}/${summary.runId}/history`
        : null,
    };
  },
});
