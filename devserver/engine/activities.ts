import { randomUUID } from 'node:crypto';
import {
  EventType,
  RetryState,
  TaskQueueKind,
  TimeoutType,
  WftFailedCause,
  duration,
  durationMs,
  isNegative,
  payloadsSize,
  temporal,
  timestamp,
  type IFailure,
  type IPayloads,
} from '../proto';
import type { ActivityTaskItem, Engine, Tx } from './engine';
import { queueKey } from './engine';
import { invalidArgument, taskNotFound } from './errors';
import { failureSize, type BlobSite } from './limits';
import { activityMachine } from './machine';
import type { PendingActivity, Run } from './run';
import { decodeToken, encodeToken } from './token';

type ScheduleAttrs = temporal.api.command.v1.IScheduleActivityTaskCommandAttributes;

/** Checks a ScheduleActivityTask command as the real server does; null when acceptable. */
export function validateScheduleActivity(a: ScheduleAttrs, ids: Set<string>, idMaxLength: number): { cause: number; message: string } | null {
  const bad = (message: string) => ({ cause: WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES, message });
  if (!a.activityId) return bad('ActivityId is not set on ScheduleActivityTaskCommand.');
  if (a.activityId.length > idMaxLength) return bad('ActivityId exceeds length limit.');
  if (!a.activityType?.name) return bad('ActivityType is not set on ScheduleActivityTaskCommand.');
  if (ids.has(a.activityId)) return bad(`Activity with id ${a.activityId} is already pending.`);
  for (const d of [a.scheduleToCloseTimeout, a.scheduleToStartTimeout, a.startToCloseTimeout, a.heartbeatTimeout])
    if (isNegative(d)) return bad('Activity timeouts must not be negative.');
  if (!durationMs(a.startToCloseTimeout) && !durationMs(a.scheduleToCloseTimeout))
    return bad('A valid StartToClose or ScheduleToCloseTimeout is not set on ScheduleActivityTaskCommand.');
  ids.add(a.activityId);
  return null;
}

/** Writes ActivityTaskScheduled with the real server's normalised timeouts and retry policy, and queues attempt 1. */
export function scheduleActivity(
  e: Engine,
  tx: Tx,
  run: Run,
  a: ScheduleAttrs,
  completedId: number,
  userMetadata?: temporal.api.sdk.v1.IUserMetadata | null,
): void {
  const runTimeoutMs = durationMs(run.start.workflowRunTimeout);
  let s2c = durationMs(a.scheduleToCloseTimeout) || runTimeoutMs;
  if (runTimeoutMs && s2c > runTimeoutMs) s2c = runTimeoutMs;
  let stc = durationMs(a.startToCloseTimeout) || s2c;
  if (s2c && stc > s2c) stc = s2c;
  let s2s = durationMs(a.scheduleToStartTimeout) || s2c;
  if (s2c && s2s > s2c) s2s = s2c;
  const hb = Math.min(durationMs(a.heartbeatTimeout), stc);
  const rp = a.retryPolicy ?? {};
  const initialMs = durationMs(rp.initialInterval) || 1000;
  const ev = e.append(tx, run, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, {
    activityId: a.activityId,
    activityType: a.activityType,
    taskQueue: { name: a.taskQueue?.name || run.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    header: a.header ?? undefined,
    input: a.input ?? undefined,
    scheduleToCloseTimeout: duration(s2c),
    scheduleToStartTimeout: duration(s2s),
    startToCloseTimeout: duration(stc),
    heartbeatTimeout: duration(hb),
    workflowTaskCompletedEventId: completedId,
    retryPolicy: {
      initialInterval: duration(initialMs),
      backoffCoefficient: rp.backoffCoefficient || 2,
      maximumInterval: duration(durationMs(rp.maximumInterval) || initialMs * 100),
      maximumAttempts: rp.maximumAttempts ?? 0,
      nonRetryableErrorTypes: rp.nonRetryableErrorTypes ?? [],
    },
    useWorkflowBuildId: a.useWorkflowBuildId ?? false,
    priority: a.priority ?? undefined,
  }, undefined, userMetadata);
  const act = run.activities.get(Number(ev.eventId))!;
  armScheduleToClose(e, run, act);
  queueAttempt(e, tx, run, act);
}

function armScheduleToClose(e: Engine, run: Run, act: PendingActivity): void {
  if (act.scheduleToCloseMs)
    e.deadline(run, `act:${act.scheduledEventId}:s2c`, act.scheduledMs + act.scheduleToCloseMs, (t) => timeOut(e, t, run, act, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE, act.attempt));
}

function armStartToClose(e: Engine, run: Run, act: PendingActivity): void {
  const attempt = act.attempt;
  e.deadline(run, `act:${act.scheduledEventId}:stc`, act.startedMs + act.startToCloseMs, (t) => timeOut(e, t, run, act, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE, attempt));
}

/** Re-arms an activity's deadlines and queue entry from its state (after a restart). */
export function recoverActivity(e: Engine, tx: Tx, run: Run, act: PendingActivity): void {
  if (act.closing) return;
  armScheduleToClose(e, run, act);
  if (act.state === 'scheduled') {
    if (act.attemptScheduledMs > e.clock.now()) e.deadline(run, `act:${act.scheduledEventId}:retry`, act.attemptScheduledMs, (t) => queueAttempt(e, t, run, act));
    else queueAttempt(e, tx, run, act);
    return;
  }
  armStartToClose(e, run, act);
  armHeartbeat(e, run, act, act.lastHeartbeatMs || act.startedMs);
}

/** Puts the activity's current attempt on its task queue and arms its schedule-to-start deadline. */
function queueAttempt(e: Engine, tx: Tx, run: Run, act: PendingActivity): void {
  const item: ActivityTaskItem = { runKey: run.key, scheduledEventId: act.scheduledEventId, attempt: act.attempt };
  tx.after(() => e.activityQueues.add(queueKey(run.namespace, act.taskQueue), item));
  if (act.scheduleToStartMs && act.scheduleToStartMs < act.scheduleToCloseMs)
    e.deadline(run, `act:${act.scheduledEventId}:s2s`, act.attemptScheduledMs + act.scheduleToStartMs, (t) =>
      timeOut(e, t, run, act, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START, act.attempt),
    );
}

/** Hands an activity attempt to a poller; null when the item is stale. */
export function startActivityTask(e: Engine, tx: Tx, item: ActivityTaskItem, identity: string): temporal.api.workflowservice.v1.IPollActivityTaskQueueResponse | null {
  const run = e.runs.get(item.runKey);
  const act = run?.activities.get(item.scheduledEventId);
  if (!run || run.state !== 'running' || !act || act.closing || act.state !== 'scheduled' || act.attempt !== item.attempt) return null;
  const now = e.clock.now();
  act.state = activityMachine.next(act.state, 'start');
  act.startedMs = now;
  act.startedIdentity = identity;
  act.startedRequestId = randomUUID();
  tx.dirty.add(run);
  e.cancelDeadline(run, `act:${act.scheduledEventId}:s2s`);
  armStartToClose(e, run, act);
  armHeartbeat(e, run, act, now);
  const a = act.attributes;
  return {
    taskToken: encodeToken({ k: 'a', r: run.key, s: act.scheduledEventId, a: act.attempt }),
    workflowNamespace: run.namespace,
    workflowType: run.start.workflowType,
    workflowExecution: { workflowId: run.workflowId, runId: run.runId },
    activityType: a.activityType,
    activityId: act.activityId,
    header: a.header,
    input: a.input,
    heartbeatDetails: act.heartbeatDetails ?? undefined,
    scheduledTime: timestamp(act.scheduledMs),
    currentAttemptScheduledTime: timestamp(act.attemptScheduledMs),
    startedTime: timestamp(now),
    attempt: act.attempt,
    scheduleToCloseTimeout: duration(act.scheduleToCloseMs),
    startToCloseTimeout: duration(act.startToCloseMs),
    heartbeatTimeout: duration(act.heartbeatMs),
    retryPolicy: a.retryPolicy,
    priority: a.priority ?? undefined,
  };
}

function armHeartbeat(e: Engine, run: Run, act: PendingActivity, from: number): void {
  if (!act.heartbeatMs) return;
  const attempt = act.attempt;
  e.deadline(run, `act:${act.scheduledEventId}:hb`, from + act.heartbeatMs, (t) => timeOut(e, t, run, act, TimeoutType.TIMEOUT_TYPE_HEARTBEAT, attempt));
}

function disarm(e: Engine, run: Run, act: PendingActivity, all = false): void {
  for (const k of ['s2s', 'stc', 'hb', 'retry', ...(all ? ['s2c'] : [])]) e.cancelDeadline(run, `act:${act.scheduledEventId}:${k}`);
}

/** The started activity attempt a token names, or NOT_FOUND. */
function activityOfToken(e: Engine, raw: Uint8Array | null | undefined): { run: Run; act: PendingActivity } {
  const t = decodeToken(raw, 'a');
  return liveAttempt(e, e.runs.get(t.r), t.s, t.a);
}

function liveAttempt(e: Engine, run: Run | undefined, scheduledEventId: number, attempt: number | null): { run: Run; act: PendingActivity } {
  if (!run || run.state !== 'running') throw taskNotFound('Activity');
  const act = run.activities.get(scheduledEventId);
  if (!act || act.closing || (act.state !== 'started' && act.state !== 'cancelRequested') || (attempt !== null && act.attempt !== attempt))
    throw taskNotFound('Activity');
  return { run, act };
}

/** The started attempt of an activity named by workflow and activity id (the ...ById calls). */
export function activityById(e: Engine, namespace: string, workflowId: string, runId: string, activityId: string): { run: Run; act: PendingActivity } {
  if (!workflowId) throw invalidArgument('WorkflowId is not set on request.');
  if (!activityId) throw invalidArgument('ActivityId is not set on request.');
  const run = e.findRun(namespace, { workflowId, runId });
  const act = [...run.activities.values()].find((a) => a.activityId === activityId);
  return liveAttempt(e, run, act?.scheduledEventId ?? -1, null);
}

/** Writes the attempt's lazily recorded started event and its closing event, and wakes the workflow. */
function close(e: Engine, tx: Tx, run: Run, act: PendingActivity, eventType: number, attrs: Record<string, any>, started: boolean): void {
  disarm(e, run, act, true);
  act.closing = true;
  const closing = { eventType, attributes: { scheduledEventId: act.scheduledEventId, ...attrs } };
  if (!started) {
    e.addExternal(tx, run, [{ ...closing, attributes: { ...closing.attributes, startedEventId: 0 } }]);
    return;
  }
  e.addExternal(tx, run, [
    {
      eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
      attributes: {
        scheduledEventId: act.scheduledEventId,
        identity: act.startedIdentity,
        requestId: act.startedRequestId,
        attempt: act.attempt,
        lastFailure: act.attempt > 1 ? (act.lastFailure ?? undefined) : undefined,
      },
    },
    { ...closing, refPrev: 'startedEventId' },
  ]);
}

// The real server's reasons when a worker's blob passes the size limit: the attempt fails instead.
const COMPLETE_RESULT_EXCEEDS = 'Complete result exceeds size limit.';
const FAILURE_EXCEEDS = 'Failure exceeds size limit.';
const CANCEL_DETAILS_EXCEED = 'Cancel details exceed size limit.';
const HEARTBEAT_EXCEEDS = 'Heartbeat details exceed size limit.';

/** A non-retryable server failure, as the real server writes for an oversized blob. */
function serverFailure(message: string, cause?: IFailure): IFailure {
  return { message, source: 'Server', serverFailureInfo: { nonRetryable: true }, cause };
}

function blobSite(run: Run, operation: string): BlobSite {
  return { namespace: run.namespace, workflowId: run.workflowId, runId: run.runId, operation };
}

/** RespondActivityTaskCompleted (by token or by id); a result past the size limit fails the activity. */
export function completeActivity(e: Engine, tx: Tx, target: { run: Run; act: PendingActivity }, result: IPayloads | null | undefined, identity: string): void {
  const { run, act } = target;
  if (!e.blobWithinLimit(payloadsSize(result), blobSite(run, 'RespondActivityTaskCompleted'))) {
    failActivity(e, tx, target, serverFailure(COMPLETE_RESULT_EXCEEDS), null, identity);
    return;
  }
  activityMachine.next(act.state, 'complete');
  close(e, tx, run, act, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, { result: result ?? undefined, identity }, true);
}

/** RespondActivityTaskCanceled (by token or by id); details past the size limit fail the activity. */
export function canceledActivity(e: Engine, tx: Tx, target: { run: Run; act: PendingActivity }, details: IPayloads | null | undefined, identity: string): void {
  const { run, act } = target;
  if (!e.blobWithinLimit(payloadsSize(details), blobSite(run, 'RespondActivityTaskCanceled'))) {
    failActivity(e, tx, target, serverFailure(CANCEL_DETAILS_EXCEED), null, identity);
    return;
  }
  close(
    e,
    tx,
    run,
    act,
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
    { details: details ?? undefined, latestCancelRequestedEventId: act.cancelRequestedEventId, identity },
    true,
  );
}

/**
 * RespondActivityTaskFailed (by token or by id): retry under the policy or close as failed. Returns
 * the failures the server substituted for oversized blobs, which the response reports.
 */
export function failActivity(
  e: Engine,
  tx: Tx,
  target: { run: Run; act: PendingActivity },
  failure: IFailure | null | undefined,
  lastHeartbeatDetails: IPayloads | null | undefined,
  identity: string,
): IFailure[] {
  const { run, act } = target;
  const substituted: IFailure[] = [];
  const site = blobSite(run, 'RespondActivityTaskFailed');
  if (lastHeartbeatDetails && !e.blobWithinLimit(payloadsSize(lastHeartbeatDetails), site)) {
    substituted.push(serverFailure(HEARTBEAT_EXCEEDS));
    lastHeartbeatDetails = null;
  }
  let f = failure ?? { message: 'activity failed' };
  if (!e.blobWithinLimit(failureSize(f), site)) {
    // Keep what identifies the original failure, without the part that made it too big.
    f = serverFailure(FAILURE_EXCEEDS, { message: (f.message ?? '').slice(0, 1024), source: f.source ?? '' });
    substituted.push(f);
  }
  if (lastHeartbeatDetails) act.heartbeatDetails = lastHeartbeatDetails;
  const decision = retryDecision(e, act, f);
  if (decision.retry) {
    retryAttempt(e, tx, run, act, f, decision.delayMs);
    return substituted;
  }
  activityMachine.next(act.state, 'fail');
  close(e, tx, run, act, EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED, { failure: f, identity, retryState: decision.retryState }, true);
  return substituted;
}

function retryDecision(e: Engine, act: PendingActivity, f: IFailure): { retry: true; delayMs: number } | { retry: false; retryState: number } {
  if (act.state === 'cancelRequested') return { retry: false, retryState: RetryState.RETRY_STATE_CANCEL_REQUESTED };
  const info = f.applicationFailureInfo;
  if (info?.nonRetryable || f.serverFailureInfo?.nonRetryable || (info?.type && act.retry.nonRetryable.includes(info.type)))
    return { retry: false, retryState: RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE };
  if (act.retry.maximumAttempts > 0 && act.attempt >= act.retry.maximumAttempts)
    return { retry: false, retryState: RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED };
  const given = durationMs(info?.nextRetryDelay);
  const delayMs = given || Math.min(act.retry.initialMs * Math.pow(act.retry.coefficient, act.attempt - 1), act.retry.maximumMs);
  if (act.scheduleToCloseMs && e.clock.now() + delayMs >= act.scheduledMs + act.scheduleToCloseMs)
    return { retry: false, retryState: RetryState.RETRY_STATE_TIMEOUT };
  return { retry: true, delayMs };
}

function retryAttempt(e: Engine, tx: Tx, run: Run, act: PendingActivity, failure: IFailure, delayMs: number): void {
  disarm(e, run, act);
  act.state = activityMachine.next(act.state, 'retry');
  act.attempt++;
  act.lastFailure = failure;
  act.attemptScheduledMs = e.clock.now() + delayMs;
  act.startedMs = 0;
  tx.dirty.add(run);
  if (delayMs <= 0) return queueAttempt(e, tx, run, act);
  e.deadline(run, `act:${act.scheduledEventId}:retry`, act.attemptScheduledMs, (t) => queueAttempt(e, t, run, act));
}

function timeOut(e: Engine, tx: Tx, run: Run, act: PendingActivity, timeoutType: number, attempt: number): void {
  if (run.state !== 'running' || act.closing || run.activities.get(act.scheduledEventId) !== act) return;
  if (timeoutType !== TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE && act.attempt !== attempt) return;
  const names: Record<number, string> = { 1: 'StartToClose', 2: 'ScheduleToStart', 3: 'ScheduleToClose', 4: 'Heartbeat' };
  const failure: IFailure = {
    message: `activity ${names[timeoutType]} timeout`,
    source: 'Server',
    timeoutFailureInfo: { timeoutType, lastHeartbeatDetails: act.heartbeatDetails ?? undefined },
  };
  const started = act.state === 'started' || act.state === 'cancelRequested';
  const perAttempt = timeoutType === TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE || timeoutType === TimeoutType.TIMEOUT_TYPE_HEARTBEAT;
  if (perAttempt) {
    const decision = retryDecision(e, act, failure);
    if (decision.retry) return retryAttempt(e, tx, run, act, failure, decision.delayMs);
    activityMachine.next(act.state, 'timeOut');
    return close(e, tx, run, act, EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT, { failure: { ...failure, cause: act.lastFailure ?? undefined }, retryState: decision.retryState }, started);
  }
  activityMachine.next(act.state, 'timeOut');
  close(e, tx, run, act, EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT, { failure: { ...failure, cause: act.lastFailure ?? undefined }, retryState: RetryState.RETRY_STATE_TIMEOUT }, started);
}

/** RecordActivityTaskHeartbeat (by token or by id): keep the details, re-arm the deadline, report a cancel request. */
export function heartbeatActivity(e: Engine, tx: Tx, target: { run: Run; act: PendingActivity }, details: IPayloads | null | undefined): { cancelRequested: boolean } {
  const { run, act } = target;
  if (!e.blobWithinLimit(payloadsSize(details), blobSite(run, 'RecordActivityTaskHeartbeat'))) {
    // The real server fails the attempt and tells the worker to stop it.
    failActivity(e, tx, target, serverFailure(HEARTBEAT_EXCEEDS), null, '');
    return { cancelRequested: true };
  }
  if (details) act.heartbeatDetails = details;
  act.lastHeartbeatMs = e.clock.now();
  tx.dirty.add(run);
  armHeartbeat(e, run, act, act.lastHeartbeatMs);
  return { cancelRequested: act.state === 'cancelRequested' };
}

/** The RequestCancelActivityTask command: an attempt not yet started is canceled at once. */
export function requestCancelActivity(e: Engine, tx: Tx, run: Run, scheduledEventId: number, completedId: number, identity: string): void {
  const act = run.activities.get(scheduledEventId)!;
  const ev = e.append(tx, run, EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED, { scheduledEventId, workflowTaskCompletedEventId: completedId });
  if (act.closing) return;
  if (act.state === 'scheduled') {
    // Nothing runs it yet, so it is canceled as part of the command, like the real server does.
    disarm(e, run, act, true);
    activityMachine.next('scheduled', 'requestCancel');
    e.append(tx, run, EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED, {
      scheduledEventId,
      startedEventId: 0,
      latestCancelRequestedEventId: Number(ev.eventId),
      identity,
    });
    run.needsWorkflowTask = true;
  }
}

/** The started activity attempt a task token names (for the RPC layer). */
export const activityTarget = activityOfToken;
