import type { temporal } from '../proto';
import {
  EventType,
  ExecutionStatus,
  IFailure,
  IHistoryEvent,
  IPayloads,
  TaskQueueKind,
  TimeoutType,
  WftFailedCause,
  attributesField,
  durationMs,
  num,
  timestampMs,
} from '../proto';
import {
  executionMachine,
  timerMachine,
  updateMachine,
  workflowTaskMachine,
  type ActivityState,
  type ExecutionState,
  type UpdateState,
  type WftState,
} from './machine';

type StartedAttrs = temporal.api.history.v1.IWorkflowExecutionStartedEventAttributes;

/** The workflow task of a run (at most one at a time). */

const FRESH_ATTEMPT_CAUSES = new Set<number>([
  WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
  WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND,
  WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW,
]);
export interface WorkflowTask {
  state: WftState;
  scheduledEventId: number;
  startedEventId: number;
  attempt: number;
  scheduledMs: number;
  startedMs: number;
  timeoutMs: number;
  /** The worker's sticky queue the task was scheduled on; '' on the run's own task queue. */
  stickyQueue: string;
  /** Updates whose request was sent with this task. */
  deliveredUpdates: Set<string>;
  /** Queries attached to this task (sent with it, answered in its completion). */
  attachedQueries: Set<string>;
}

/** An activity between its scheduled event and its closing event. */
export interface PendingActivity {
  scheduledEventId: number;
  activityId: string;
  activityType: string;
  taskQueue: string;
  state: ActivityState;
  attempt: number;
  scheduledMs: number;
  attemptScheduledMs: number;
  startedMs: number;
  scheduleToCloseMs: number;
  scheduleToStartMs: number;
  startToCloseMs: number;
  heartbeatMs: number;
  retry: { initialMs: number; coefficient: number; maximumMs: number; maximumAttempts: number; nonRetryable: string[] };
  attributes: temporal.api.history.v1.IActivityTaskScheduledEventAttributes;
  startedIdentity: string;
  startedRequestId: string;
  lastFailure: IFailure | null;
  heartbeatDetails: IPayloads | null;
  lastHeartbeatMs: number;
  cancelRequestedEventId: number;
  /** Its closing events wait in the buffer: no further result or timeout applies. */
  closing: boolean;
}

/** A timer between TimerStarted and TimerFired/TimerCanceled. */
export interface PendingTimer {
  timerId: string;
  startedEventId: number;
  fireAtMs: number;
}

/** An update the server knows of: admitted (not in history yet), accepted, or finished. */
export interface UpdateRecord {
  updateId: string;
  state: UpdateState;
  request: temporal.api.update.v1.IRequest;
  acceptedEventId: number;
  outcome: temporal.api.update.v1.IOutcome | null;
  admittedMs: number;
  /** Admitted by an event in the history (a reset's reapplied update), so the worker reads it there, not in a message. */
  admittedByEvent?: boolean;
}

/** A child workflow between its initiated event and its closing event. */
export interface PendingChild {
  initiatedEventId: number;
  startedEventId: number;
  workflowId: string;
  runId: string;
  namespace: string;
  workflowType: string;
  parentClosePolicy: number;
}

/** A signal or cancel request sent to another workflow, awaiting its outcome. */
export interface PendingExternal {
  initiatedEventId: number;
  kind: 'signal' | 'cancel';
}

/** An event waiting for the started workflow task to end. */
export interface BufferedEvent {
  eventType: number;
  attributes: Record<string, any>;
  timeMs: number;
  /** Attribute to fill with the id of the event appended just before this one (e.g. startedEventId). */
  refPrev?: string;
}

/** Everything the server knows of one run, rebuilt from its history (plus the few facts no event carries). */
export interface Run {
  key: string;
  namespace: string;
  workflowId: string;
  runId: string;
  events: IHistoryEvent[];
  /** Events that arrived while a workflow task was started; appended (and applied) when it ends. */
  buffered: BufferedEvent[];
  persistedEvents: number;
  /** Encoded events appended since the last commit (durable stores only). */
  unpersistedBytes: Uint8Array[];
  historySizeBytes: number;
  state: ExecutionState;
  start: StartedAttrs;
  startMs: number;
  executionMs: number;
  closeMs: number;
  closeEvent: IHistoryEvent | null;
  taskQueue: string;
  wft: WorkflowTask;
  nextWftAttempt: number;
  lastCompletedWftStartedId: number;
  /**
   * The worker queue that keeps this run cached, as its last completed task asked (stickyAttributes): its next tasks
   * go there with the history since that task only. Held in memory: after a restart tasks go to the run's own queue.
   */
  sticky: { queue: string; scheduleToStartMs: number } | null;
  /**
   * Set while the run's workflow task exists only to deliver updates (a speculative task, as a real server makes
   * one): its events stay out of the stored and readable history until something has to be recorded. A task whose
   * updates were all rejected, with nothing else to record, is dropped as if it never ran. `eventCount`,
   * `historySizeBytes` and `wft` are what the run had before it.
   */
  speculative: { eventCount: number; historySizeBytes: number; wft: WorkflowTask } | null;
  /** Encoded events of a speculative task, stored only if it is kept. */
  speculativeBytes: Uint8Array[];
  activities: Map<number, PendingActivity>;
  timers: Map<string, PendingTimer>;
  updates: Map<string, UpdateRecord>;
  children: Map<number, PendingChild>;
  externals: Map<number, PendingExternal>;
  cancelRequested: boolean;
  requestIds: Set<string>;
  memo: Record<string, temporal.api.common.v1.IPayload>;
  searchAttributes: Record<string, temporal.api.common.v1.IPayload>;
  /** The distinct checksums of workers that completed its tasks, oldest first (the BinaryChecksums attribute). */
  binaryChecksums: string[];
  newExecutionRunId: string;
  /** True while a workflow task's commands are applied: outside events wait so they follow the commands. */
  completing: boolean;
  /** Set when a command wrote an event the workflow must see (an unstarted activity canceled at once). */
  needsWorkflowTask: boolean;
}

/** A fresh run record for the first event of a run. */
export function newRun(namespace: string, workflowId: string, runId: string): Run {
  return {
    key: runKey(namespace, workflowId, runId),
    namespace,
    workflowId,
    runId,
    events: [],
    buffered: [],
    persistedEvents: 0,
    unpersistedBytes: [],
    historySizeBytes: 0,
    state: 'running',
    start: {},
    startMs: 0,
    executionMs: 0,
    closeMs: 0,
    closeEvent: null,
    taskQueue: '',
    wft: emptyWft(),
    nextWftAttempt: 1,
    lastCompletedWftStartedId: 0,
    sticky: null,
    speculative: null,
    speculativeBytes: [],
    activities: new Map(),
    timers: new Map(),
    updates: new Map(),
    children: new Map(),
    externals: new Map(),
    cancelRequested: false,
    requestIds: new Set(),
    memo: {},
    searchAttributes: {},
    binaryChecksums: [],
    newExecutionRunId: '',
    completing: false,
    needsWorkflowTask: false,
  };
}

/**
 * The history a workflow task or legacy query carries: all of it, or, polled from the sticky queue of the worker that
 * holds the run in its cache (up to its last completed task), only what came after.
 */
export function taskHistory(run: Run, fromSticky: boolean): IHistoryEvent[] {
  return run.events.slice(fromSticky ? run.lastCompletedWftStartedId : 0);
}

/** How many of the run's events its readable history holds: all but those of a speculative workflow task. */
export function visibleEventCount(run: Run): number {
  return run.speculative ? run.speculative.eventCount : run.events.length;
}

/** The identity of a run in maps and task tokens. */
export function runKey(namespace: string, workflowId: string, runId: string): string {
  return JSON.stringify([namespace, workflowId, runId]);
}

function emptyWft(): WorkflowTask {
  return {
    state: 'none',
    scheduledEventId: 0,
    startedEventId: 0,
    attempt: 0,
    scheduledMs: 0,
    startedMs: 0,
    timeoutMs: 0,
    stickyQueue: '',
    deliveredUpdates: new Set(),
    attachedQueries: new Set(),
  };
}

const CLOSING: Partial<Record<number, ExecutionState>> = {
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED]: 'completed',
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED]: 'failed',
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED]: 'canceled',
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED]: 'terminated',
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT]: 'timedOut',
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW]: 'continuedAsNew',
};

const CLOSE_ACTION = {
  completed: 'complete',
  failed: 'fail',
  canceled: 'cancel',
  terminated: 'terminate',
  timedOut: 'timeOut',
  continuedAsNew: 'continueAsNew',
} as const;

/** The attributes object of an event, whatever its type. */
export function attrs<T = any>(e: IHistoryEvent): T {
  return (e as any)[attributesField(e.eventType as number)] as T;
}

/** Whether an event closes its run. */
export function isClosing(e: IHistoryEvent): boolean {
  return CLOSING[e.eventType as number] !== undefined;
}

/**
 * Folds one event into the run's derived state. Appending and rebuilding at startup both come
 * through here, so state the history does not imply is never assumed.
 */
export function applyEvent(run: Run, e: IHistoryEvent, retry: RetryDefaults = defaultRetry): void {
  const t = e.eventType as number;
  const id = num(e.eventId);
  const at = timestampMs(e.eventTime);
  const a = attrs(e);
  switch (t) {
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
      run.start = a;
      run.startMs = at;
      run.executionMs = at + durationMs(a.firstWorkflowTaskBackoff);
      run.taskQueue = a.taskQueue?.name ?? '';
      run.memo = { ...(a.memo?.fields ?? {}) };
      run.searchAttributes = { ...(a.searchAttributes?.indexedFields ?? {}) };
      break;
    }
    case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED: {
      const next = workflowTaskMachine.next(run.wft.state, 'schedule');
      run.wft = { ...emptyWft(), state: next, scheduledEventId: id, attempt: a.attempt ?? 1, scheduledMs: at };
      run.wft.timeoutMs = durationMs(a.startToCloseTimeout);
      run.wft.stickyQueue = a.taskQueue?.kind === TaskQueueKind.TASK_QUEUE_KIND_STICKY ? (a.taskQueue.name ?? '') : '';
      break;
    }
    case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
      run.wft.state = workflowTaskMachine.next(run.wft.state, 'start');
      run.wft.startedEventId = id;
      run.wft.startedMs = at;
      break;
    case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
      run.wft.state = workflowTaskMachine.next(run.wft.state, 'complete');
      run.lastCompletedWftStartedId = num(a.startedEventId);
      run.nextWftAttempt = 1;
      if (a.binaryChecksum) recordBinaryChecksum(run, a.binaryChecksum);
      break;
    case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
      run.wft.state = workflowTaskMachine.next(run.wft.state, 'fail');
      // A force-close, unhandled-command or reset failure is not the workflow's fault: it starts again at 1.
      // A task that failed on a worker's sticky queue is tried afresh on the run's own queue, as a real server does.
      run.nextWftAttempt = FRESH_ATTEMPT_CAUSES.has(a.cause) || run.wft.stickyQueue ? 1 : run.wft.attempt + 1;
      run.sticky = null;
      break;
    case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
      run.wft.state = workflowTaskMachine.next(run.wft.state, 'timeOut');
      run.nextWftAttempt =
        run.wft.stickyQueue || a.timeoutType === TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START ? 1 : run.wft.attempt + 1;
      run.sticky = null;
      break;
    case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
      run.activities.set(id, pendingActivity(id, at, a, run.taskQueue, retry));
      break;
    case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED: {
      const act = run.activities.get(num(a.scheduledEventId));
      if (act) {
        act.cancelRequestedEventId = id;
        if (act.state === 'started' || act.state === 'cancelRequested') act.state = 'cancelRequested';
      }
      break;
    }
    case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
    case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
    case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
    case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
      run.activities.delete(num(a.scheduledEventId));
      break;
    case EventType.EVENT_TYPE_TIMER_STARTED:
      run.timers.set(a.timerId, { timerId: a.timerId, startedEventId: id, fireAtMs: at + durationMs(a.startToFireTimeout) });
      break;
    case EventType.EVENT_TYPE_TIMER_FIRED:
    case EventType.EVENT_TYPE_TIMER_CANCELED: {
      const timer = run.timers.get(a.timerId);
      if (timer) timerMachine.next('started', t === EventType.EVENT_TYPE_TIMER_FIRED ? 'fire' : 'cancel');
      run.timers.delete(a.timerId);
      break;
    }
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
      run.cancelRequested = true;
      break;
    case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
      mergeFields(run.searchAttributes, a.searchAttributes?.indexedFields);
      break;
    case EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
      mergeFields(run.memo, a.upsertedMemo?.fields);
      break;
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED: {
      const request = a.request ?? {};
      const updateId = request.meta?.updateId as string;
      run.updates.set(updateId, { updateId, state: 'admitted', request, acceptedEventId: 0, outcome: null, admittedMs: at, admittedByEvent: true });
      break;
    }
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
      const updateId = a.protocolInstanceId as string;
      const u = run.updates.get(updateId);
      const state = updateMachine.next(u?.state ?? 'admitted', 'accept');
      run.updates.set(updateId, {
        updateId,
        state,
        request: a.acceptedRequest ?? u?.request ?? {},
        acceptedEventId: id,
        outcome: null,
        admittedMs: u?.admittedMs ?? at,
        admittedByEvent: u?.admittedByEvent,
      });
      break;
    }
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: {
      const updateId = a.meta?.updateId as string;
      const u = run.updates.get(updateId);
      if (u) {
        u.state = updateMachine.next(u.state, 'complete');
        u.outcome = a.outcome ?? {};
      }
      break;
    }
    case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
      run.children.set(id, {
        initiatedEventId: id,
        startedEventId: 0,
        workflowId: a.workflowId,
        runId: '',
        namespace: a.namespace || run.namespace,
        workflowType: a.workflowType?.name ?? '',
        parentClosePolicy: a.parentClosePolicy ?? 0,
      });
      break;
    case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED: {
      const c = run.children.get(num(a.initiatedEventId));
      if (c) {
        c.startedEventId = id;
        c.runId = a.workflowExecution?.runId ?? '';
      }
      break;
    }
    case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
    case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
    case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
    case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
    case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT:
    case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED:
      run.children.delete(num(a.initiatedEventId));
      break;
    case EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
      run.externals.set(id, { initiatedEventId: id, kind: 'signal' });
      break;
    case EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
      run.externals.set(id, { initiatedEventId: id, kind: 'cancel' });
      break;
    case EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED:
    case EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
    case EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
    case EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
      run.externals.delete(num(a.initiatedEventId));
      break;
    default:
      break;
  }
  const closing = CLOSING[t];
  if (closing) {
    run.state = executionMachine.next(run.state, CLOSE_ACTION[closing as keyof typeof CLOSE_ACTION], closing);
    run.closeMs = at;
    run.closeEvent = e;
    run.newExecutionRunId = a.newExecutionRunId ?? '';
    if (run.wft.state !== 'none') run.wft = emptyWft();
    for (const u of run.updates.values()) {
      if (u.state !== 'admitted' && u.state !== 'accepted') continue;
      // An accepted update's caller is answered with a failure; one never accepted finds the workflow closed.
      if (u.state === 'accepted') u.outcome = ACCEPTED_UPDATE_OUTLIVED_WORKFLOW;
      u.state = updateMachine.next(u.state, 'abort');
    }
  }
}

/** A run's root execution: the one its started event names (children only), else the run itself. */
export function rootExecutionOf(run: Run): { workflowId: string; runId: string } {
  const root = run.start.rootWorkflowExecution;
  return root?.workflowId ? { workflowId: root.workflowId, runId: root.runId ?? '' } : { workflowId: run.workflowId, runId: run.runId };
}

// As a real server keeps them: the most recent distinct checksums of the workers that completed the run's tasks.
const MAX_BINARY_CHECKSUMS = 20;

/** The search attributes a next run (retry, continue-as-new) starts with: the run's own, without the server's. */
export function carriedSearchAttributes(run: Run): temporal.api.common.v1.ISearchAttributes {
  const { BinaryChecksums: _, ...carried } = run.searchAttributes;
  return { indexedFields: carried };
}

/** Adds a worker's binary checksum to the run's BinaryChecksums system search attribute; the payload changes only then. */
function recordBinaryChecksum(run: Run, checksum: string): void {
  if (run.binaryChecksums.includes(checksum)) return;
  run.binaryChecksums = [...run.binaryChecksums, checksum].slice(-MAX_BINARY_CHECKSUMS);
  run.searchAttributes.BinaryChecksums = {
    metadata: { encoding: Buffer.from('json/plain'), type: Buffer.from('KeywordList') },
    data: Buffer.from(JSON.stringify(run.binaryChecksums)),
  };
}

/** The outcome of an accepted update whose workflow closed first, in the real server's words. */
const ACCEPTED_UPDATE_OUTLIVED_WORKFLOW = {
  failure: {
    message: 'Workflow Update failed because the Workflow completed before the Update completed.',
    source: 'Server',
    applicationFailureInfo: { type: 'AcceptedUpdateCompletedWorkflow', nonRetryable: true },
  },
};

/**
 * Whether an upserted memo or search attribute value removes its key: a nil payload (binary/null, as the SDKs encode
 * an unset value), an empty list, or JSON null, as a real server merges them.
 */
function removes(v: any): boolean {
  const encoding = v?.metadata?.encoding ? Buffer.from(v.metadata.encoding).toString() : '';
  if (encoding === 'binary/null') return true;
  const data = v?.data ? Buffer.from(v.data).toString() : '';
  return data === 'null' || (encoding === 'json/plain' && data === '[]');
}

function mergeFields(target: Record<string, any>, fields: Record<string, any> | null | undefined): void {
  for (const [k, v] of Object.entries(fields ?? {})) {
    if (removes(v)) delete target[k];
    else target[k] = v;
  }
}

/** Server-wide activity retry defaults. */
export interface RetryDefaults {
  initialMs: number;
  coefficient: number;
}
const defaultRetry: RetryDefaults = { initialMs: 1000, coefficient: 2 };

function pendingActivity(
  id: number,
  at: number,
  a: temporal.api.history.v1.IActivityTaskScheduledEventAttributes,
  runTaskQueue: string,
  d: RetryDefaults,
): PendingActivity {
  const rp = a.retryPolicy ?? {};
  const initialMs = durationMs(rp.initialInterval) || d.initialMs;
  return {
    scheduledEventId: id,
    activityId: a.activityId ?? '',
    activityType: a.activityType?.name ?? '',
    taskQueue: a.taskQueue?.name || runTaskQueue,
    state: 'scheduled',
    attempt: 1,
    scheduledMs: at,
    attemptScheduledMs: at,
    startedMs: 0,
    scheduleToCloseMs: durationMs(a.scheduleToCloseTimeout),
    scheduleToStartMs: durationMs(a.scheduleToStartTimeout),
    startToCloseMs: durationMs(a.startToCloseTimeout),
    heartbeatMs: durationMs(a.heartbeatTimeout),
    retry: {
      initialMs,
      coefficient: rp.backoffCoefficient || d.coefficient,
      maximumMs: durationMs(rp.maximumInterval) || initialMs * 100,
      maximumAttempts: rp.maximumAttempts ?? 0,
      nonRetryable: rp.nonRetryableErrorTypes ?? [],
    },
    attributes: a,
    startedIdentity: '',
    startedRequestId: '',
    lastFailure: null,
    heartbeatDetails: null,
    lastHeartbeatMs: 0,
    cancelRequestedEventId: 0,
    closing: false,
  };
}

/** The public status enum of a run's state. */
export function executionStatus(state: ExecutionState): number {
  switch (state) {
    case 'running':
      return ExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
    case 'completed':
      return ExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED;
    case 'failed':
      return ExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED;
    case 'canceled':
      return ExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED;
    case 'terminated':
      return ExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED;
    case 'timedOut':
      return ExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT;
    case 'continuedAsNew':
      return ExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW;
  }
}
