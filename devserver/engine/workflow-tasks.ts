import { randomUUID } from 'node:crypto';
import {
  CommandType,
  EventType,
  TaskQueueKind,
  WftFailedCause,
  commandTypeName,
  durationMs,
  payloadsSize,
  temporal,
  timestamp,
  type ICommand,
  type IFailure,
  type IMessage, long } from '../proto';
import { scheduleActivity, requestCancelActivity, startActivityTask, validateScheduleActivity } from './activities';
import { startChild, signalExternal, cancelExternal, validateChild } from './children';
import type { Engine, Tx, WorkflowTaskItem } from './engine';
import { invalidArgument, taskNotFound } from './errors';
import { failureSize, memoSize, pendingLimitReached } from './limits';
import { answerAttachedQueries, attachedQueriesFor, legacyQueryTask, rerouteQueries } from './queries';
import { carriedSearchAttributes, taskHistory, type Run } from './run';
import { decodeToken, encodeToken } from './token';
import { applyProtocolMessage, deliverableUpdates, isRejection, messageTypeUrl, updateRequestMessage } from './updates';
import { closeRun, continueRun, failRun, terminateRun, typedSearchAttributes, unknownSearchAttribute } from './workflows';

type PollResponse = temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse;
type CompleteRequest = temporal.api.workflowservice.v1.IRespondWorkflowTaskCompletedRequest;

/**
 * Starts a dispatched workflow task (or hands out a legacy query); null when the item is stale. `fromSticky`: it was
 * polled from a worker's sticky queue.
 */
export function startWorkflowTask(e: Engine, tx: Tx, item: WorkflowTaskItem, identity: string, fromSticky: boolean): PollResponse | null {
  if (item.kind === 'query') return legacyQueryTask(e, item.queryId, fromSticky);
  const run = e.runs.get(item.runKey);
  if (!run || run.state !== 'running' || run.wft.state !== 'scheduled' || run.wft.scheduledEventId !== item.scheduledEventId) return null;
  const started = e.append(tx, run, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, {
    scheduledEventId: run.wft.scheduledEventId,
    identity,
    requestId: randomUUID(),
    historySizeBytes: run.historySizeBytes,
    suggestContinueAsNew: run.events.length >= e.limits.historyEventsSuggestContinueAsNew || run.historySizeBytes >= e.limits.historyBytesSuggestContinueAsNew,
  });
  const wft = run.wft;
  e.cancelDeadline(run, 'wft-sticky');
  armWorkflowTaskTimeout(e, run);
  // An update admitted by an event reaches the worker in the history itself. Others are sequenced, as a real server
  // does, after the last event before the task started: the workflow sees them after every event it is shown.
  const sequencingEventId = Number(started.eventId) - 1;
  const messages: IMessage[] = deliverableUpdates(run).flatMap((u) => {
    wft.deliveredUpdates.add(u.updateId);
    return u.admittedByEvent ? [] : [updateRequestMessage(u, sequencingEventId)];
  });
  const queries = attachedQueriesFor(e, run);
  return {
    taskToken: encodeToken({ k: 'w', r: run.key, s: wft.scheduledEventId, a: wft.attempt }),
    workflowExecution: { workflowId: run.workflowId, runId: run.runId },
    workflowType: run.start.workflowType,
    previousStartedEventId: long(run.lastCompletedWftStartedId),
    startedEventId: long(Number(started.eventId)),
    attempt: wft.attempt,
    backlogCountHint: long(0),
    history: { events: taskHistory(run, fromSticky) },
    workflowExecutionTaskQueue: { name: run.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    scheduledTime: timestamp(wft.scheduledMs),
    startedTime: started.eventTime,
    queries,
    messages,
  };
}

/** Arms the start-to-close deadline of the run's started workflow task. */
export function armWorkflowTaskTimeout(e: Engine, run: Run): void {
  const { scheduledEventId, startedMs, timeoutMs } = run.wft;
  e.deadline(run, 'wft', startedMs + timeoutMs, (t) => timeOutWorkflowTask(e, t, run, scheduledEventId));
}

/** Arms a pending timer; when it fires, TimerFired reaches the workflow. */
export function armTimer(e: Engine, run: Run, timerId: string): void {
  const timer = run.timers.get(timerId)!;
  const startedEventId = timer.startedEventId;
  e.deadline(run, `timer:${timerId}`, timer.fireAtMs, (t) => {
    if (run.timers.get(timerId)?.startedEventId !== startedEventId) return;
    e.addExternal(t, run, [{ eventType: EventType.EVENT_TYPE_TIMER_FIRED, attributes: { timerId, startedEventId } }]);
  });
}

/** The run whose started workflow task a token names, or NOT_FOUND. */
function runOfToken(e: Engine, raw: Uint8Array | null | undefined): Run {
  const t = decodeToken(raw, 'w');
  const run = e.runs.get(t.r);
  if (!run || run.state !== 'running' || run.wft.state !== 'started' || run.wft.scheduledEventId !== t.s || run.wft.attempt !== t.a)
    throw taskNotFound('Workflow');
  return run;
}

function writeWorkflowTaskFailed(e: Engine, tx: Tx, run: Run, cause: number, failure: IFailure | null | undefined, identity: string): void {
  e.append(tx, run, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, {
    scheduledEventId: run.wft.scheduledEventId,
    startedEventId: run.wft.startedEventId,
    cause,
    failure: failure ?? undefined,
    identity,
  });
}

/** Writes WorkflowTaskFailed, then lets the workflow see what it missed in a new task. */
export function failWorkflowTask(e: Engine, tx: Tx, run: Run, cause: number, failure: IFailure | null | undefined, identity: string): void {
  writeWorkflowTaskFailed(e, tx, run, cause, failure, identity);
  afterWorkflowTask(e, tx, run, true);
}

/**
 * A command the real server cannot accept at all (a blob past the size limit): the task fails and
 * the run is terminated, since a retried task would send the same command again.
 */
function failTaskAndTerminate(e: Engine, tx: Tx, run: Run, problem: CommandProblem, identity: string): void {
  writeWorkflowTaskFailed(e, tx, run, problem.cause, serverFailure(problem.message), identity);
  e.cancelDeadline(run, 'wft');
  e.flushBuffer(tx, run);
  terminateRun(e, tx, run, problem.message, null, 'history-service');
  rerouteQueries(e, run);
}

function serverFailure(message: string): IFailure {
  return { message, source: 'Server', serverFailureInfo: { nonRetryable: false } };
}

/** RespondWorkflowTaskFailed. */
export function respondWorkflowTaskFailed(e: Engine, tx: Tx, req: temporal.api.workflowservice.v1.IRespondWorkflowTaskFailedRequest): void {
  const run = runOfToken(e, req.taskToken);
  failWorkflowTask(e, tx, run, req.cause ?? 0, req.failure, req.identity ?? '');
}

/**
 * The real server's history limits: past the warning thresholds the worker is told to continue as
 * new (suggestContinueAsNew) and the server logs it; past the error thresholds the run is
 * terminated. Returns false when it terminated the run.
 */
function guardHistorySize(e: Engine, tx: Tx, run: Run): boolean {
  const { historyEventsError, historyBytesError, historyEventsWarn, historyBytesWarn } = e.limits;
  if (run.events.length > historyEventsError || run.historySizeBytes > historyBytesError) {
    e.log.warn({ workflowId: run.workflowId, runId: run.runId, events: run.events.length, bytes: run.historySizeBytes }, 'history size exceeds limit: terminating');
    terminateRun(e, tx, run, 'Workflow history size / count exceeds limit.', null, 'history-size-guard');
    return false;
  }
  if (run.events.length > historyEventsWarn || run.historySizeBytes > historyBytesWarn)
    e.log.warn({ workflowId: run.workflowId, runId: run.runId, events: run.events.length, bytes: run.historySizeBytes }, 'history size exceeds warn limit');
  return true;
}

function timeOutWorkflowTask(e: Engine, tx: Tx, run: Run, scheduledEventId: number): void {
  if (run.state !== 'running' || run.wft.state !== 'started' || run.wft.scheduledEventId !== scheduledEventId) return;
  e.append(tx, run, EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, {
    scheduledEventId: run.wft.scheduledEventId,
    startedEventId: run.wft.startedEventId,
    timeoutType: temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE,
  });
  afterWorkflowTask(e, tx, run, true);
}

/** After a task ends: flush the buffer, start another task if anything waits, re-route queries. */
function afterWorkflowTask(e: Engine, tx: Tx, run: Run, mustReschedule: boolean): void {
  e.cancelDeadline(run, 'wft');
  if (run.state === 'running' && guardHistorySize(e, tx, run)) {
    const flushed = e.flushBuffer(tx, run);
    const waiting = deliverableUpdates(run).length > 0;
    if (mustReschedule || flushed > 0 || waiting || run.needsWorkflowTask) e.scheduleWorkflowTask(tx, run);
    run.needsWorkflowTask = false;
  }
  rerouteQueries(e, run);
}

const TERMINAL = new Set<number>([
  CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
  CommandType.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
  CommandType.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION,
  CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
]);

/** A command the server refuses, with the workflow-task failure cause the real server writes. */
interface CommandProblem {
  cause: number;
  message: string;
  /** The run cannot go on (the real server terminates it) rather than retry the task. */
  terminate?: boolean;
}

const mapSize = (m: Record<string, temporal.api.common.v1.IPayload> | null | undefined) => payloadsSize({ payloads: Object.values(m ?? {}) });

/** The blob a command carries, measured as the real server measures it, with its message and cause. */
function commandBlob(c: ICommand): { size: number; message: string; cause: number; memo?: boolean } | null {
  const T = CommandType;
  const C = WftFailedCause;
  switch (c.commandType) {
    case T.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK:
      return { size: payloadsSize(c.scheduleActivityTaskCommandAttributes?.input), message: 'ScheduleActivityTaskCommandAttributes.Input exceeds size limit.', cause: C.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES };
    case T.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION:
      return { size: payloadsSize(c.completeWorkflowExecutionCommandAttributes?.result), message: 'CompleteWorkflowExecutionCommandAttributes.Result exceeds size limit.', cause: C.WORKFLOW_TASK_FAILED_CAUSE_BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES };
    case T.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION:
      return { size: failureSize(c.failWorkflowExecutionCommandAttributes?.failure), message: 'FailWorkflowExecutionCommandAttributes.Failure exceeds size limit.', cause: C.WORKFLOW_TASK_FAILED_CAUSE_BAD_FAIL_WORKFLOW_EXECUTION_ATTRIBUTES };
    case T.COMMAND_TYPE_RECORD_MARKER:
      return { size: mapSize(c.recordMarkerCommandAttributes?.details as any), message: 'RecordMarkerCommandAttributes.Details exceeds size limit.', cause: C.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES };
    case T.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
      return { size: payloadsSize(c.continueAsNewWorkflowExecutionCommandAttributes?.input), message: 'ContinueAsNewWorkflowExecutionCommandAttributes. Input exceeds size limit.', cause: C.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES };
    case T.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION:
      return { size: payloadsSize(c.startChildWorkflowExecutionCommandAttributes?.input), message: 'StartChildWorkflowExecutionCommandAttributes. Input exceeds size limit.', cause: C.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES };
    case T.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION:
      return { size: payloadsSize(c.signalExternalWorkflowExecutionCommandAttributes?.input), message: 'SignalExternalWorkflowExecutionCommandAttributes.Input exceeds size limit.', cause: C.WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES };
    case T.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
      return { size: mapSize(c.upsertWorkflowSearchAttributesCommandAttributes?.searchAttributes?.indexedFields), message: 'UpsertWorkflowSearchAttributesCommandAttributes exceeds size limit.', cause: C.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES };
    case T.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES:
      // Measured against the memo limits, not the blob limits.
      return { size: memoSize(c.modifyWorkflowPropertiesCommandAttributes?.upsertedMemo), message: 'ModifyWorkflowPropertiesCommandAttributes exceeds size limit.', cause: C.WORKFLOW_TASK_FAILED_CAUSE_BAD_MODIFY_WORKFLOW_PROPERTIES_ATTRIBUTES, memo: true };
    default:
      return null;
  }
}

/** Checks the blobs of a completion (commands and protocol messages) against the real server's limits. */
function oversizedBlob(e: Engine, run: Run, commands: ICommand[], messages: IMessage[]): CommandProblem | null {
  const site = { namespace: run.namespace, workflowId: run.workflowId, runId: run.runId };
  for (const c of commands) {
    const blob = commandBlob(c);
    const blobSite = { ...site, operation: commandTypeName(c.commandType ?? 0) };
    if (blob && !(blob.memo ? e.memoWithinLimit(blob.size, blobSite) : e.blobWithinLimit(blob.size, blobSite)))
      return { cause: blob.cause, message: blob.message, terminate: true };
  }
  for (const m of messages) {
    const type = messageTypeUrl(m).split('.').pop() || 'Message';
    if (!e.blobWithinLimit(m.body?.value?.length ?? 0, { ...site, operation: type }))
      return { cause: WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE, message: `Message type ${type} exceeds size limit.`, terminate: true };
  }
  return null;
}

function validateCommands(e: Engine, run: Run, commands: ICommand[]): CommandProblem | null {
  const activityIds = new Set([...run.activities.values()].map((a) => a.activityId));
  const timerIds = new Set(run.timers.keys());
  let pendingActivities = run.activities.size;
  let pendingChildren = run.children.size;
  let pendingSignals = [...run.externals.values()].filter((x) => x.kind === 'signal').length;
  let pendingCancels = run.externals.size - pendingSignals;
  for (let i = 0; i < commands.length; i++) {
    const c = commands[i];
    const t = c.commandType ?? 0;
    if (TERMINAL.has(t) && i !== commands.length - 1)
      return { cause: WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED, message: 'Workflow close command must be the last command.' };
    switch (t) {
      case CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK: {
        const problem = validateScheduleActivity(c.scheduleActivityTaskCommandAttributes ?? {}, activityIds, e.limits.idMaxLength);
        if (problem) return problem;
        const reached = pendingLimitReached('pending activities', pendingActivities++, e.limits.pendingActivities);
        if (reached) return { cause: WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_ACTIVITIES_LIMIT_EXCEEDED, message: reached };
        break;
      }
      case CommandType.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK: {
        const id = Number(c.requestCancelActivityTaskCommandAttributes?.scheduledEventId ?? 0);
        if (!run.activities.has(id))
          return { cause: WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES, message: `No pending activity with scheduled event id ${id}.` };
        break;
      }
      case CommandType.COMMAND_TYPE_START_TIMER: {
        const a = c.startTimerCommandAttributes ?? {};
        if (!a.timerId) return { cause: WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES, message: 'TimerId is not set.' };
        if (timerIds.has(a.timerId)) return { cause: WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_START_TIMER_DUPLICATE_ID, message: `Timer ${a.timerId} already started.` };
        const ms = Number(a.startToFireTimeout?.seconds ?? 0) * 1000 + (a.startToFireTimeout?.nanos ?? 0) / 1e6;
        if (!(ms > 0)) return { cause: WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES, message: 'A valid StartToFireTimeout is not set on StartTimerCommand.' };
        timerIds.add(a.timerId);
        break;
      }
      case CommandType.COMMAND_TYPE_CANCEL_TIMER: {
        const id = c.cancelTimerCommandAttributes?.timerId ?? '';
        if (!run.timers.has(id)) return { cause: WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES, message: `No pending timer ${id}.` };
        timerIds.delete(id);
        break;
      }
      case CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION: {
        const problem = validateChild(e, c.startChildWorkflowExecutionCommandAttributes ?? {}, pendingChildren++);
        if (problem) return problem;
        break;
      }
      case CommandType.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION: {
        const reached = pendingLimitReached('pending signals to external workflows', pendingSignals++, e.limits.pendingSignals);
        if (reached) return { cause: WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_SIGNALS_LIMIT_EXCEEDED, message: reached };
        break;
      }
      case CommandType.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION: {
        const reached = pendingLimitReached('pending requests to cancel external workflows', pendingCancels++, e.limits.pendingCancels);
        if (reached) return { cause: WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_REQUEST_CANCEL_LIMIT_EXCEEDED, message: reached };
        break;
      }
      case CommandType.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
        const unknown = unknownSearchAttribute(e, c.upsertWorkflowSearchAttributesCommandAttributes?.searchAttributes);
        if (unknown) return { cause: WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, message: `Namespace has no mapping defined for search attribute ${unknown}.` };
        break;
      }
      case CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION:
      case CommandType.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION:
      case CommandType.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION:
      case CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
      case CommandType.COMMAND_TYPE_RECORD_MARKER:
      case CommandType.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES:
      case CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE:
        break;
      default:
        return { cause: WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED, message: `Command type ${t} is not supported by the embedded Temporal server.` };
    }
  }
  return null;
}

/**
 * RespondWorkflowTaskCompleted: apply the commands and protocol messages in order. Returns the activity tasks started
 * for the worker at once, when it asked for them and eager execution is on.
 */
export function respondWorkflowTaskCompleted(e: Engine, tx: Tx, req: CompleteRequest): temporal.api.workflowservice.v1.IRespondWorkflowTaskCompletedResponse {
  const run = runOfToken(e, req.taskToken);
  const identity = req.identity ?? '';
  answerAttachedQueries(e, run, req.queryResults ?? {});
  const commands = req.commands ?? [];
  const problem = validateCommands(e, run, commands) ?? oversizedBlob(e, run, commands, req.messages ?? []);
  if (problem) {
    if (problem.terminate) failTaskAndTerminate(e, tx, run, problem, identity);
    else failWorkflowTask(e, tx, run, problem.cause, { message: problem.message }, identity);
    throw invalidArgument(problem.message);
  }
  const closes = commands.some((c) => TERMINAL.has(c.commandType ?? 0));
  const unseenUpdate = [...run.updates.values()].some((u) => u.state === 'admitted' && !run.wft.deliveredUpdates.has(u.updateId));
  if (closes && (run.buffered.length > 0 || unseenUpdate)) {
    // New events or updates arrived while the worker decided to close: make it look again.
    failWorkflowTask(e, tx, run, WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, { message: 'UnhandledCommand' }, identity);
    throw invalidArgument('UnhandledCommand');
  }
  // The task completes: the worker says where the run's next tasks go, whether or not the task is kept.
  run.sticky = stickyAttributes(req);
  if (discardable(run, req)) {
    // Every update it carried was rejected and nothing else happened: the task leaves no trace, and the worker is
    // told where its history ends again.
    for (const m of req.messages ?? []) applyProtocolMessage(e, tx, run, m);
    e.dropSpeculative(run);
    tx.dirty.add(run);
    afterWorkflowTask(e, tx, run, false);
    return { resetHistoryEventId: long(run.lastCompletedWftStartedId) };
  }
  const completed = e.append(tx, run, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, {
    scheduledEventId: run.wft.scheduledEventId,
    startedEventId: run.wft.startedEventId,
    identity,
    binaryChecksum: req.binaryChecksum ?? '',
    sdkMetadata: req.sdkMetadata ?? undefined,
    meteringMetadata: req.meteringMetadata ?? undefined,
    workerVersion: req.workerVersionStamp ?? undefined,
  });
  const completedId = Number(completed.eventId);
  const messages = new Map((req.messages ?? []).map((m) => [m.id ?? '', m]));
  run.completing = true;
  try {
    for (const c of commands) {
      if (run.state !== 'running') break;
      if (c.commandType === CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE) {
        const id = c.protocolMessageCommandAttributes?.messageId ?? '';
        const m = messages.get(id);
        messages.delete(id);
        if (m) applyProtocolMessage(e, tx, run, m);
      } else applyCommand(e, tx, run, c, completedId, identity);
    }
    for (const m of messages.values()) if (run.state === 'running') applyProtocolMessage(e, tx, run, m);
  } finally {
    run.completing = false;
  }
  afterWorkflowTask(e, tx, run, !!req.forceCreateNewWorkflowTask);
  return { activityTasks: e.eagerActivityExecution ? eagerActivityTasks(e, tx, run, commands, identity) : [] };
}

/**
 * Whether a completion lets a speculative task be dropped, as a real server decides it: no commands, no heartbeat,
 * nothing but update rejections, no events waiting, and either a worker that can take the same events again or no
 * events since its last completed task.
 */
function discardable(run: Run, req: CompleteRequest): boolean {
  const s = run.speculative;
  if (!s || (req.commands ?? []).length > 0 || req.forceCreateNewWorkflowTask || run.buffered.length > 0) return false;
  if (!(req.messages ?? []).every(isRejection)) return false;
  return !!req.capabilities?.discardSpeculativeWorkflowTaskWithEvents || s.eventCount === run.lastCompletedWftStartedId + 1;
}

/** Where the completing worker wants the run's next tasks: its sticky queue, or null for the run's own queue. */
function stickyAttributes(req: CompleteRequest): Run['sticky'] {
  const a = req.stickyAttributes;
  if (!a?.workerTaskQueue?.name) return null;
  // The SDKs always send a timeout; a missing one gets the SDKs' default rather than an instant fallback.
  return { queue: a.workerTaskQueue.name, scheduleToStartMs: durationMs(a.scheduleToStartTimeout) || 10_000 };
}

/**
 * Starts, for the completing worker, the activities it asked to run eagerly on the workflow's own task queue, as a
 * poll would. Their queued tasks stay behind as stale hints that pollers skip.
 */
function eagerActivityTasks(e: Engine, tx: Tx, run: Run, commands: ICommand[], identity: string): temporal.api.workflowservice.v1.IPollActivityTaskQueueResponse[] {
  if (run.state !== 'running') return [];
  const tasks: temporal.api.workflowservice.v1.IPollActivityTaskQueueResponse[] = [];
  for (const c of commands) {
    const a = c.scheduleActivityTaskCommandAttributes;
    if (c.commandType !== CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK || !a?.requestEagerExecution) continue;
    const act = [...run.activities.values()].find((x) => x.activityId === a.activityId);
    if (!act || act.taskQueue !== run.taskQueue) continue;
    const task = startActivityTask(e, tx, { runKey: run.key, scheduledEventId: act.scheduledEventId, attempt: act.attempt }, identity);
    if (task) tasks.push(task);
  }
  return tasks;
}

function applyCommand(e: Engine, tx: Tx, run: Run, c: ICommand, completedId: number, identity: string): void {
  const T = CommandType;
  switch (c.commandType) {
    case T.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK:
      return scheduleActivity(e, tx, run, c.scheduleActivityTaskCommandAttributes!, completedId, c.userMetadata);
    case T.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK:
      return requestCancelActivity(e, tx, run, Number(c.requestCancelActivityTaskCommandAttributes!.scheduledEventId), completedId, identity);
    case T.COMMAND_TYPE_START_TIMER: {
      const a = c.startTimerCommandAttributes!;
      e.append(
        tx,
        run,
        EventType.EVENT_TYPE_TIMER_STARTED,
        { timerId: a.timerId, startToFireTimeout: a.startToFireTimeout, workflowTaskCompletedEventId: completedId },
        undefined,
        c.userMetadata,
      );
      return armTimer(e, run, a.timerId!);
    }
    case T.COMMAND_TYPE_CANCEL_TIMER: {
      const id = c.cancelTimerCommandAttributes!.timerId!;
      const timer = run.timers.get(id)!;
      e.cancelDeadline(run, `timer:${id}`);
      e.append(tx, run, EventType.EVENT_TYPE_TIMER_CANCELED, {
        timerId: id,
        startedEventId: timer.startedEventId,
        workflowTaskCompletedEventId: completedId,
        identity,
      });
      return;
    }
    case T.COMMAND_TYPE_RECORD_MARKER: {
      const a = c.recordMarkerCommandAttributes ?? {};
      e.append(tx, run, EventType.EVENT_TYPE_MARKER_RECORDED, {
        markerName: a.markerName,
        details: a.details,
        header: a.header ?? undefined,
        failure: a.failure ?? undefined,
        workflowTaskCompletedEventId: completedId,
      });
      return;
    }
    case T.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
      e.append(tx, run, EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, {
        searchAttributes: typedSearchAttributes(e, c.upsertWorkflowSearchAttributesCommandAttributes?.searchAttributes) ?? {},
        workflowTaskCompletedEventId: completedId,
      });
      return;
    case T.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES:
      e.append(tx, run, EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED, {
        upsertedMemo: c.modifyWorkflowPropertiesCommandAttributes?.upsertedMemo ?? {},
        workflowTaskCompletedEventId: completedId,
      });
      return;
    case T.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION:
      return closeRun(e, tx, run, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, {
        result: c.completeWorkflowExecutionCommandAttributes?.result ?? undefined,
        workflowTaskCompletedEventId: completedId,
      });
    case T.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION:
      return failRun(e, tx, run, c.failWorkflowExecutionCommandAttributes?.failure, completedId);
    case T.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION:
      return closeRun(e, tx, run, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, {
        details: c.cancelWorkflowExecutionCommandAttributes?.details ?? undefined,
        workflowTaskCompletedEventId: completedId,
      });
    case T.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
      return continueAsNew(e, tx, run, c.continueAsNewWorkflowExecutionCommandAttributes ?? {}, completedId);
    case T.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION:
      return startChild(e, tx, run, c.startChildWorkflowExecutionCommandAttributes!, completedId, c.userMetadata);
    case T.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION:
      return signalExternal(e, tx, run, c.signalExternalWorkflowExecutionCommandAttributes!, completedId);
    case T.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION:
      return cancelExternal(e, tx, run, c.requestCancelExternalWorkflowExecutionCommandAttributes!, completedId);
  }
}

function continueAsNew(
  e: Engine,
  tx: Tx,
  run: Run,
  a: temporal.api.command.v1.IContinueAsNewWorkflowExecutionCommandAttributes,
  completedId: number,
): void {
  const ms = (d: any) => (d ? Number(d.seconds ?? 0) * 1000 + Math.floor((d.nanos ?? 0) / 1e6) : 0);
  const next = continueRun(e, tx, run, {
    workflowType: a.workflowType?.name || run.start.workflowType?.name || '',
    taskQueue: a.taskQueue?.name || run.taskQueue,
    input: a.input,
    header: a.header,
    memo: a.memo ?? { fields: run.memo },
    searchAttributes: a.searchAttributes ?? carriedSearchAttributes(run),
    runTimeoutMs: ms(a.workflowRunTimeout) || ms(run.start.workflowRunTimeout),
    taskTimeoutMs: ms(a.workflowTaskTimeout) || ms(run.start.workflowTaskTimeout),
    retryPolicy: a.retryPolicy ?? run.start.retryPolicy,
    backoffMs: ms(a.backoffStartInterval),
    initiator: a.initiator || temporal.api.enums.v1.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW,
    lastCompletionResult: a.lastCompletionResult,
    continuedFailure: a.failure,
    attempt: 1,
  });
  closeRun(e, tx, run, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, {
    newExecutionRunId: next.runId,
    workflowType: next.start.workflowType,
    taskQueue: next.start.taskQueue,
    input: a.input ?? undefined,
    header: a.header ?? undefined,
    workflowRunTimeout: next.start.workflowRunTimeout,
    workflowTaskTimeout: next.start.workflowTaskTimeout,
    backoffStartInterval: a.backoffStartInterval ?? undefined,
    initiator: next.start.initiator,
    failure: a.failure ?? undefined,
    lastCompletionResult: a.lastCompletionResult ?? undefined,
    workflowTaskCompletedEventId: completedId,
  });
}
