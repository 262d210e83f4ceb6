import { temporal } from '@temporalio/proto';
import { ClearwayError } from '../../../errors';
import type { ApiDeps } from '../../deps';
import { isoTime } from '../../workflow-events';
import type { WorkflowSummary } from './schemas';

const Status = temporal.api.enums.v1.WorkflowExecutionStatus as unknown as Record<number, string>;

/** WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW -> ContinuedAsNew, the name visibility queries use. */
export function statusName(status: number | null | undefined): string {
  return (Status[status ?? 0] ?? 'Unspecified')
    .replace(/^WORKFLOW_EXECUTION_STATUS_/, '')
    .toLowerCase()
    .replace(/(^|_)(\w)/g, (_m, _s, c: string) => c.toUpperCase());
}

/** A visibility or describe record as the operator list shows it. */
export function summaryOf(info: temporal.api.workflow.v1.IWorkflowExecutionInfo): WorkflowSummary {
  return {
    workflowId: info.execution?.workflowId ?? '',
    runId: info.execution?.runId ?? '',
    type: info.type?.name ?? '',
    status: statusName(info.status),
    taskQueue: info.taskQueue ?? '',
    startTime: isoTime(info.startTime),
    closeTime: info.closeTime ? isoTime(info.closeTime) : null,
    historyLength: Number(info.historyLength ?? 0),
  };
}

/** The Temporal client's raw service and namespace. */
export function service(deps: ApiDeps) {
  const client = deps.temporal();
  return { svc: client.workflowService, namespace: client.options.namespace };
}

/** Turns Temporal's "not found" into the API's 404. */
export async function orNotFound<T>(workflowId: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if ((e as { code?: number }).code === 5) throw new ClearwayError('NOT_FOUND', `no workflow ${workflowId}`);
    throw e;
  }
}
