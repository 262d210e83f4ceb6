import {
  TaskQueueKind,
  temporal,
  long,
  timestamp,
  type IHistoryEvent,
} from '../proto';
import type { Engine } from './engine';
import { invalidArgument } from './errors';
import { executionStatus, rootExecutionOf, visibleEventCount, type Run } from './run';

const HistoryFilter = temporal.api.enums.v1.HistoryEventFilterType;
const PendingActivityState = temporal.api.enums.v1.PendingActivityState;
const PendingWftState = temporal.api.enums.v1.PendingWorkflowTaskState;
const HISTORY_WAIT_MS = 20_000;
const DEFAULT_PAGE = 1000;
// Pages stop short of gRPC's default 4 MB message limit, which clients keep unless they raise it (the TypeScript
// SDK's client does, under a name gRPC ignores); an event larger than this still goes, alone on its page.
const PAGE_BYTES = 3 * 1024 * 1024;

/**
 * Up to `size` events of a run from `events`, fewer when their encoded size would pass PAGE_BYTES; never none. A run
 * whose whole history fits a page (nearly every run) needs no measuring.
 */
function pageOf(run: Run, events: IHistoryEvent[], size: number): IHistoryEvent[] {
  if (run.historySizeBytes <= PAGE_BYTES) return events.slice(0, size);
  let bytes = 0;
  let n = 0;
  while (n < Math.min(size, events.length)) {
    bytes += temporal.api.history.v1.HistoryEvent.encode(events[n]).finish().length;
    if (n > 0 && bytes > PAGE_BYTES) break;
    n++;
  }
  return events.slice(0, n);
}

/** The WorkflowExecutionInfo of a run, as Describe and List return it. */
export function executionInfo(run: Run): temporal.api.workflow.v1.IWorkflowExecutionInfo {
  const s = run.start;
  return {
    execution: { workflowId: run.workflowId, runId: run.runId },
    type: s.workflowType,
    startTime: timestamp(run.startMs),
    closeTime: run.closeMs ? timestamp(run.closeMs) : undefined,
    status: executionStatus(run.state),
    historyLength: long(visibleEventCount(run)),
    historySizeBytes: long(run.historySizeBytes),
    executionTime: timestamp(run.executionMs),
    memo: { fields: run.memo },
    searchAttributes: { indexedFields: run.searchAttributes },
    taskQueue: run.taskQueue,
    parentNamespaceId: s.parentWorkflowNamespace ?? '',
    parentExecution: s.parentWorkflowExecution?.workflowId ? s.parentWorkflowExecution : undefined,
    rootExecution: rootExecutionOf(run),
    firstRunId: s.firstExecutionRunId ?? run.runId,
    priority: s.priority ?? undefined,
    stateTransitionCount: long(visibleEventCount(run)),
  };
}

/** DescribeWorkflowExecution. */
export function describeRun(run: Run): temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse {
  const s = run.start;
  return {
    executionConfig: {
      taskQueue: { name: run.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      workflowExecutionTimeout: s.workflowExecutionTimeout,
      workflowRunTimeout: s.workflowRunTimeout,
      defaultWorkflowTaskTimeout: s.workflowTaskTimeout,
      userMetadata: run.events[0]?.userMetadata ?? undefined,
    },
    workflowExecutionInfo: executionInfo(run),
    pendingActivities: [...run.activities.values()].map((a) => ({
      activityId: a.activityId,
      activityType: { name: a.activityType },
      state:
        a.state === 'started'
          ? PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
          : a.state === 'cancelRequested'
            ? PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED
            : PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
      heartbeatDetails: a.heartbeatDetails ?? undefined,
      lastHeartbeatTime: a.lastHeartbeatMs ? timestamp(a.lastHeartbeatMs) : undefined,
      lastStartedTime: a.startedMs ? timestamp(a.startedMs) : undefined,
      attempt: a.attempt,
      maximumAttempts: a.retry.maximumAttempts,
      scheduledTime: timestamp(a.attemptScheduledMs),
      expirationTime: a.scheduleToCloseMs ? timestamp(a.scheduledMs + a.scheduleToCloseMs) : undefined,
      lastFailure: a.lastFailure ?? undefined,
      lastWorkerIdentity: a.startedIdentity,
      currentRetryInterval: undefined,
      nextAttemptScheduleTime: a.attemptScheduledMs > a.scheduledMs && a.state === 'scheduled' ? timestamp(a.attemptScheduledMs) : undefined,
    })),
    pendingChildren: [...run.children.values()].map((c) => ({
      workflowId: c.workflowId,
      runId: c.runId,
      workflowTypeName: c.workflowType,
      initiatedId: long(c.initiatedEventId),
      parentClosePolicy: c.parentClosePolicy,
    })),
    pendingWorkflowTask:
      run.wft.state === 'none'
        ? undefined
        : {
            state: run.wft.state === 'started' ? PendingWftState.PENDING_WORKFLOW_TASK_STATE_STARTED : PendingWftState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED,
            scheduledTime: timestamp(run.wft.scheduledMs),
            originalScheduledTime: timestamp(run.wft.scheduledMs),
            startedTime: run.wft.startedMs ? timestamp(run.wft.startedMs) : undefined,
            attempt: run.wft.attempt,
          },
  };
}

interface PageToken {
  runId: string;
  next: number;
}

function decodePage(raw: Uint8Array | null | undefined): PageToken | null {
  if (!raw?.length) return null;
  try {
    const t = JSON.parse(Buffer.from(raw).toString());
    if (typeof t?.next === 'number' && typeof t?.runId === 'string') return t;
  } catch {
    // fall through
  }
  throw invalidArgument('Invalid NextPageToken.');
}

const encodePage = (t: PageToken) => Buffer.from(JSON.stringify(t));

/** GetWorkflowExecutionHistory: pages, long poll for new events, or only the close event. */
export async function getHistory(
  e: Engine,
  run: Run,
  req: temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryRequest,
  abort: { onAbort(fn: () => void): void },
  waitMs = HISTORY_WAIT_MS,
): Promise<temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryResponse> {
  const page = decodePage(req.nextPageToken);
  if (page && page.runId !== run.runId) throw invalidArgument('Invalid NextPageToken.');
  if (req.historyEventFilterType === HistoryFilter.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT) {
    if (req.waitNewEvent) await e.waitFor(run.key, () => run.state !== 'running', waitMs, abort);
    if (run.closeEvent) return { history: { events: [run.closeEvent] } };
    return { history: { events: [] }, nextPageToken: encodePage({ runId: run.runId, next: visibleEventCount(run) + 1 }) };
  }
  const from = page?.next ?? 1;
  // A speculative workflow task's events are not history (yet): readers see the history without them.
  if (req.waitNewEvent && run.state === 'running') await e.waitFor(run.key, () => visibleEventCount(run) >= from || run.state !== 'running', waitMs, abort);
  const size = req.maximumPageSize && req.maximumPageSize > 0 ? req.maximumPageSize : DEFAULT_PAGE;
  const visible = visibleEventCount(run);
  const events = pageOf(run, run.events.slice(from - 1, Math.min(from - 1 + size, visible)), size);
  const next = from + events.length;
  const more = next <= visible || (req.waitNewEvent && run.state === 'running');
  return { history: { events }, nextPageToken: more ? encodePage({ runId: run.runId, next }) : undefined };
}

/** GetWorkflowExecutionHistoryReverse: newest first, paged. */
export function getHistoryReverse(
  run: Run,
  req: temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryReverseRequest,
): temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryReverseResponse {
  const page = decodePage(req.nextPageToken);
  const last = Math.min(page?.next ?? Infinity, visibleEventCount(run));
  const size = req.maximumPageSize && req.maximumPageSize > 0 ? req.maximumPageSize : DEFAULT_PAGE;
  const events = pageOf(run, run.events.slice(Math.max(0, last - size), last).reverse(), size);
  const first = last - events.length + 1;
  return { history: { events }, nextPageToken: first > 1 ? encodePage({ runId: run.runId, next: first - 1 }) : undefined };
}

