import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { durationMs, long, temporal, timestamp, timestampMs } from '../proto';
import type { Engine, Tx } from '../engine/engine';
import { ServerError, failedPrecondition, invalidArgument, notFound } from '../engine/errors';
import { executionStatus, runKey, type Run } from '../engine/run';
import type { Handler } from '../grpc/server';
import type { StoredRecord } from '../store/store';
import { compileSpec, nextTimes } from '../schedules/spec';
import { parseQuery } from '../visibility/query';
import { matches, resolveTypes } from '../visibility/search';
import { page } from './visibility';

type ISchedule = temporal.api.schedule.v1.ISchedule;
type IMemo = temporal.api.common.v1.IMemo;
type ISearchAttributes = temporal.api.common.v1.ISearchAttributes;
type IPayload = temporal.api.common.v1.IPayload;
const Schedule = temporal.api.schedule.v1.Schedule;
const Payloads = temporal.api.common.v1.Payloads;
const Failure = temporal.api.failure.v1.Failure;
const EventType = temporal.api.enums.v1.EventType;
const Memo = temporal.api.common.v1.Memo;
const SearchAttributes = temporal.api.common.v1.SearchAttributes;
const Overlap = temporal.api.enums.v1.ScheduleOverlapPolicy;
const Status = temporal.api.enums.v1.WorkflowExecutionStatus;
const ReusePolicy = temporal.api.enums.v1.WorkflowIdReusePolicy;

// What DescribeSchedule shows of the past and the future, as the real server does.
const RECENT_ACTIONS = 10;
const FUTURE_ACTIONS = 10;
// The real server's defaults: a year's catch-up window unless the policy says otherwise, never under 10 s.
const DEFAULT_CATCHUP_MS = 365 * 24 * 3600_000;
const MIN_CATCHUP_MS = 10_000;
const MAX_BUFFER = 1000;
const IDENTITY = 'temporal-scheduler';
// Bounds on what one request or one timer may make the server walk through.
const MAX_BACKFILL = 10_000;
const MAX_MATCHING_TIMES = 1000;

interface Pending {
  nominalMs: number;
  actualMs: number;
  overlap: number;
}

interface Recent {
  scheduleMs: number;
  actualMs: number;
  startMs: number;
  workflowId: string;
  runId: string;
}

/** One schedule's definition and what it has done. */
interface ScheduleState {
  namespace: string;
  scheduleId: string;
  schedule: ISchedule;
  memo: IMemo | null;
  searchAttributes: ISearchAttributes | null;
  createMs: number;
  updateMs: number | null;
  token: number;
  requestId: string;
  actionCount: number;
  missedCatchupWindow: number;
  overlapSkipped: number;
  bufferDropped: number;
  recent: Recent[];
  running: { workflowId: string; runId: string }[];
  buffer: Pending[];
  /** Nominal times at or before this have been dealt with (taken, skipped or missed). */
  processedMs: number;
  /**
   * The result of the latest started workflow that completed with one, and the failure of one that failed since
   * (base64 of the protos), handed to the next start as the real scheduler does. Absent in states stored before.
   */
  lastCompletionResult?: string | null;
  continuedFailure?: string | null;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

function encodeState(s: ScheduleState): string {
  return JSON.stringify({
    ...s,
    schedule: b64(Schedule.encode(s.schedule).finish()),
    memo: s.memo ? b64(Memo.encode(s.memo).finish()) : null,
    searchAttributes: s.searchAttributes ? b64(SearchAttributes.encode(s.searchAttributes).finish()) : null,
  });
}

function decodeState(data: string): ScheduleState {
  const raw = JSON.parse(data) as Omit<ScheduleState, 'schedule' | 'memo' | 'searchAttributes'> & {
    schedule: string;
    memo: string | null;
    searchAttributes: string | null;
  };
  return {
    ...raw,
    schedule: Schedule.decode(bytes(raw.schedule)),
    memo: raw.memo ? Memo.decode(bytes(raw.memo)) : null,
    searchAttributes: raw.searchAttributes ? SearchAttributes.decode(bytes(raw.searchAttributes)) : null,
  };
}

const payload = (value: unknown, type: string): IPayload => ({
  metadata: { encoding: Buffer.from('json/plain'), type: Buffer.from(type) },
  data: Buffer.from(JSON.stringify(value)),
});

/** RFC 3339 to the second, as the real server suffixes the workflow ids it starts. */
function idTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Schedules: create, describe, update, patch (trigger now, backfill, pause, unpause), list, delete and matching
 * times, run as the real server runs them. Each schedule starts its action's workflow at the times its spec names,
 * under its overlap policy (skip, buffer one or all, cancel or terminate the other, allow all), within its catch-up
 * window, honouring pause, remaining actions and pause-on-failure. A schedule's state is stored with the runs, so
 * it survives a restart and fires on start-up what came due while the server was down.
 */
export function scheduleHandlers(e: Engine, calls: Record<string, Handler>, stored: Iterable<StoredRecord>): Record<string, Handler> {
  const schedules = new Map<string, ScheduleState>();
  const keyOf = (namespace: string, scheduleId: string) => `${namespace}\u0000${scheduleId}`;
  const timerKey = (s: ScheduleState) => `schedule|${s.namespace}|${s.scheduleId}`;
  const call = (method: string, req: object) => calls[method](req, undefined as never);

  const persist = (tx: Tx, s: ScheduleState) =>
    tx.writeRecord({ kind: 'schedule', namespace: s.namespace, id: s.scheduleId, data: encodeState(s) });

  const find = (namespace: string | null | undefined, scheduleId: string | null | undefined): ScheduleState => {
    const ns = e.namespace(namespace).name;
    if (!scheduleId) throw invalidArgument('ScheduleId is not set on request.');
    const s = schedules.get(keyOf(ns, scheduleId));
    if (!s) throw notFound('schedule not found');
    return s;
  };

  const spec = (s: ScheduleState) => s.schedule.spec ?? {};
  /** The times the spec names with nominal times in (afterMs, toMs], in order. */
  function* timesIn(s: ScheduleState, afterMs: number, toMs: number): Generator<{ nominalMs: number; actualMs: number }> {
    for (let after = afterMs; ; ) {
      const batch = nextTimes(spec(s), after, 100, s.scheduleId);
      for (const t of batch) {
        if (t.nominalMs > toMs) return;
        yield t;
      }
      if (batch.length < 100) return;
      after = batch[batch.length - 1].nominalMs;
    }
  }
  const catchupMs = (s: ScheduleState) => {
    const given = durationMs(s.schedule.policies?.catchupWindow);
    return given > 0 ? Math.max(given, MIN_CATCHUP_MS) : DEFAULT_CATCHUP_MS;
  };
  const overlapOf = (s: ScheduleState, given?: number | null) =>
    given || s.schedule.policies?.overlapPolicy || Overlap.SCHEDULE_OVERLAP_POLICY_SKIP;
  const exhausted = (s: ScheduleState) => !!s.schedule.state?.limitedActions && Number(s.schedule.state.remainingActions ?? 0) <= 0;

  // Each action's workflow id is its own (it carries the nominal time), so its current run is the one to watch, also
  // after it continued as new.
  const isOpen = (s: ScheduleState, w: { workflowId: string }) => e.currentRun(s.namespace, w.workflowId)?.state === 'running';

  /**
   * Forgets started workflows that have closed, in the order they closed: each completion with a result becomes the
   * last completion result (clearing a failure), each failure the continued failure; a failure or timeout pauses
   * the schedule when the policy asks.
   */
  const refreshRunning = (s: ScheduleState): boolean => {
    const closed: Run[] = [];
    const before = s.running.length;
    s.running = s.running.filter((w) => {
      const run = e.currentRun(s.namespace, w.workflowId);
      if (run?.state === 'running') return true;
      if (run) closed.push(run);
      return false;
    });
    for (const run of closed.sort((a, b) => a.closeMs - b.closeMs)) {
      const event = run.closeEvent;
      const result = event?.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED ? event.workflowExecutionCompletedEventAttributes?.result : null;
      const failure = event?.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED ? event.workflowExecutionFailedEventAttributes?.failure : null;
      if (result) {
        s.lastCompletionResult = b64(Payloads.encode(result).finish());
        s.continuedFailure = null;
      } else if (failure) {
        s.continuedFailure = b64(Failure.encode(failure).finish());
      }
      const failed = run.state === 'failed' || run.state === 'timedOut';
      if (failed && s.schedule.policies?.pauseOnFailure) {
        s.schedule.state = { ...s.schedule.state, paused: true, notes: `paused due to workflow failure: ${run.workflowId}` };
      }
    }
    return s.running.length !== before;
  };

  const start = (s: ScheduleState, a: Pending): void => {
    const sw = s.schedule.action?.startWorkflow;
    if (!sw) return;
    const workflowId = `${sw.workflowId}-${idTime(a.nominalMs)}`;
    // Runs that may overlap freely take no part in the chain of results, as on the real server.
    const chained = a.overlap !== Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL;
    try {
      const res = call('StartWorkflowExecution', {
        namespace: s.namespace,
        workflowId,
        workflowType: sw.workflowType,
        taskQueue: sw.taskQueue,
        input: sw.input,
        workflowExecutionTimeout: sw.workflowExecutionTimeout,
        workflowRunTimeout: sw.workflowRunTimeout,
        workflowTaskTimeout: sw.workflowTaskTimeout,
        retryPolicy: sw.retryPolicy,
        memo: sw.memo,
        header: sw.header,
        userMetadata: sw.userMetadata,
        searchAttributes: {
          indexedFields: {
            ...(sw.searchAttributes?.indexedFields ?? {}),
            TemporalScheduledStartTime: payload(new Date(a.nominalMs).toISOString(), 'Datetime'),
            TemporalScheduledById: payload(s.scheduleId, 'Keyword'),
          },
        },
        identity: IDENTITY,
        requestId: `${s.scheduleId}|${a.nominalMs}|${s.actionCount}`,
        workflowIdReusePolicy: ReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
        lastCompletionResult: chained && s.lastCompletionResult ? Payloads.decode(bytes(s.lastCompletionResult)) : undefined,
        continuedFailure: chained && s.continuedFailure ? Failure.decode(bytes(s.continuedFailure)) : undefined,
      }) as { runId: string };
      s.actionCount++;
      if (s.schedule.state?.limitedActions) {
        s.schedule.state = { ...s.schedule.state, remainingActions: long(Number(s.schedule.state.remainingActions ?? 0) - 1) };
      }
      s.running.push({ workflowId, runId: res.runId });
      s.recent = [...s.recent, { scheduleMs: a.nominalMs, actualMs: a.actualMs, startMs: e.clock.now(), workflowId, runId: res.runId }].slice(-RECENT_ACTIONS);
    } catch (err) {
      e.log.warn({ scheduleId: s.scheduleId, workflowId, err: (err as Error).message }, 'schedule could not start its workflow');
    }
  };

  /** Takes one action under its overlap policy: start now, buffer, skip, or make way first. */
  const act = (s: ScheduleState, a: Pending): void => {
    if (exhausted(s)) return;
    refreshRunning(s);
    if (!s.running.length) return start(s, a);
    switch (a.overlap) {
      case Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL:
        return start(s, a);
      case Overlap.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER:
        for (const w of s.running) terminate(s, w);
        refreshRunning(s);
        return start(s, a);
      case Overlap.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER:
        for (const w of s.running) cancel(s, w);
        return buffer(s, a, 1);
      case Overlap.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE:
        return buffer(s, a, 1);
      case Overlap.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL:
        return buffer(s, a, MAX_BUFFER);
      default:
        s.overlapSkipped++;
    }
  };

  const buffer = (s: ScheduleState, a: Pending, room: number) => {
    if (s.buffer.length >= room) s.bufferDropped++;
    else s.buffer.push(a);
  };
  const terminate = (s: ScheduleState, w: { workflowId: string }) => {
    try {
      call('TerminateWorkflowExecution', { namespace: s.namespace, workflowExecution: { workflowId: w.workflowId }, reason: 'terminated by schedule overlap policy', identity: IDENTITY });
    } catch {
      // Already closed: nothing to make way for.
    }
  };
  const cancel = (s: ScheduleState, w: { workflowId: string }) => {
    try {
      call('RequestCancelWorkflowExecution', { namespace: s.namespace, workflowExecution: { workflowId: w.workflowId }, identity: IDENTITY, requestId: randomUUID(), reason: 'canceled by schedule overlap policy' });
    } catch {
      // Already closed or already asked.
    }
  };

  /** Starts buffered actions whose way is now clear. */
  const drain = (s: ScheduleState): boolean => {
    let changed = refreshRunning(s);
    while (s.buffer.length && !s.running.length && !exhausted(s)) {
      start(s, s.buffer.shift()!);
      changed = true;
    }
    if (exhausted(s) && s.buffer.length) {
      s.buffer = [];
      changed = true;
    }
    return changed;
  };

  /** Deals with every time that has come due, then arms the timer for the next one. */
  const process = (s: ScheduleState): void => {
    e.transact((tx) => {
      const now = e.clock.now();
      if (s.schedule.state?.paused || exhausted(s)) s.processedMs = Math.max(s.processedMs, now);
      else {
        const oldest = now - catchupMs(s);
        if (s.processedMs < oldest - 1) {
          const missed = nextTimes(spec(s), s.processedMs, 2, s.scheduleId).filter((t) => t.actualMs < oldest);
          s.missedCatchupWindow += missed.length;
          s.processedMs = Math.max(s.processedMs, oldest - 1);
        }
        // A long outage can leave many times due: a batch at a time, the timer (due at once) taking the rest.
        for (const t of take(timesIn(s, s.processedMs, now), MAX_BACKFILL)) {
          // Jitter may put a time that is nominally due a little later: it waits for its own timer.
          if (t.actualMs > now) break;
          act(s, { ...t, overlap: overlapOf(s) });
          s.processedMs = t.nominalMs;
        }
      }
      drain(s);
      persist(tx, s);
      arm(s);
    });
  };

  const arm = (s: ScheduleState) => {
    e.timers.cancel(timerKey(s));
    if (s.schedule.state?.paused || exhausted(s)) return;
    const next = nextTimes(spec(s), s.processedMs, 1, s.scheduleId)[0];
    if (next) e.timers.schedule(timerKey(s), next.actualMs, () => process(s));
  };

  const futureTimes = (s: ScheduleState) =>
    s.schedule.state?.paused || exhausted(s) ? [] : nextTimes(spec(s), Math.max(s.processedMs, e.clock.now()), FUTURE_ACTIONS, s.scheduleId).map((t) => timestamp(t.actualMs));

  const recentActions = (s: ScheduleState) =>
    s.recent.map((r) => ({
      // The time the spec named, jitter included, and the time the workflow was started.
      scheduleTime: timestamp(r.actualMs),
      actualTime: timestamp(r.startMs),
      startWorkflowResult: { workflowId: r.workflowId, runId: r.runId },
      startWorkflowStatus: statusOf(s.namespace, r),
    }));

  const statusOf = (namespace: string, w: { workflowId: string; runId: string }) => {
    const run = e.runs.get(runKey(namespace, w.workflowId, w.runId));
    return run ? executionStatus(run.state) : Status.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED;
  };

  /** The schedule as stored: its spec compiled, its action and policies checked. */
  const validated = (schedule: ISchedule | null | undefined, namespace: string): ISchedule => {
    if (!schedule) throw invalidArgument('Schedule is not set on request.');
    const sw = schedule.action?.startWorkflow;
    if (!sw) throw invalidArgument('Schedule action must be set: only StartWorkflow is supported.');
    e.checkId(sw.workflowId, 'WorkflowId');
    if (!sw.workflowType?.name) throw invalidArgument('WorkflowType is not set on request.');
    if (!sw.taskQueue?.name) throw invalidArgument('TaskQueue is not set on request.');
    e.requireBlob(sw.input, { namespace, workflowId: sw.workflowId!, operation: 'CreateSchedule' });
    const overlap = schedule.policies?.overlapPolicy ?? 0;
    if (!(overlap in Overlap)) throw invalidArgument(`invalid overlap policy ${overlap}`);
    // A deep copy through the wire format: the stored schedule shares nothing with the request.
    const out = Schedule.decode(Schedule.encode(schedule).finish());
    out.spec = compileSpec(schedule.spec) as temporal.api.schedule.v1.ScheduleSpec;
    out.state = temporal.api.schedule.v1.ScheduleState.create({ notes: '', paused: false, limitedActions: false, ...(schedule.state ?? {}) });
    return out;
  };

  /** Applies a patch: trigger now, backfill, pause or unpause. */
  const applyPatch = (s: ScheduleState, patch: temporal.api.schedule.v1.ISchedulePatch | null | undefined): void => {
    if (!patch) return;
    const now = e.clock.now();
    if (patch.triggerImmediately) act(s, { nominalMs: now, actualMs: now, overlap: overlapOf(s, patch.triggerImmediately.overlapPolicy) });
    for (const b of patch.backfillRequest ?? []) {
      const from = timestampMs(b.startTime);
      const to = timestampMs(b.endTime);
      if (to < from) throw invalidArgument('backfill end time must not be before its start time');
      const times = [...take(timesIn(s, from - 1, to), MAX_BACKFILL + 1)];
      if (times.length > MAX_BACKFILL) throw invalidArgument(`a backfill may name at most ${MAX_BACKFILL} times; split the range`);
      for (const t of times) act(s, { ...t, overlap: overlapOf(s, b.overlapPolicy) });
    }
    if (patch.pause) s.schedule.state = { ...s.schedule.state, paused: true, notes: patch.pause };
    if (patch.unpause) {
      s.schedule.state = { ...s.schedule.state, paused: false, notes: patch.unpause };
      // Times that passed while paused are not made up for.
      s.processedMs = Math.max(s.processedMs, now);
    }
  };

  const describe = (s: ScheduleState) => ({
    schedule: s.schedule,
    info: {
      actionCount: s.actionCount,
      missedCatchupWindow: s.missedCatchupWindow,
      overlapSkipped: s.overlapSkipped,
      bufferDropped: s.bufferDropped,
      bufferSize: s.buffer.length,
      runningWorkflows: s.running
        .filter((w) => isOpen(s, w))
        .map((w) => ({ workflowId: w.workflowId, runId: w.runId })),
      recentActions: recentActions(s),
      futureActionTimes: futureTimes(s),
      createTime: timestamp(s.createMs),
      updateTime: s.updateMs === null ? undefined : timestamp(s.updateMs),
    },
    memo: s.memo ?? undefined,
    searchAttributes: s.searchAttributes ?? undefined,
    conflictToken: Buffer.from(String(s.token)),
  });

  const checkToken = (s: ScheduleState, token: Uint8Array | null | undefined) => {
    if (token?.length && Buffer.from(token).toString() !== String(s.token)) throw failedPrecondition('mismatched conflict token');
  };

  // A schedule's visibility record for list queries: its search attributes, its id and whether it is paused.
  const asRun = (s: ScheduleState) =>
    ({
      namespace: s.namespace,
      workflowId: s.scheduleId,
      runId: '',
      searchAttributes: {
        ...(s.searchAttributes?.indexedFields ?? {}),
        TemporalSchedulePaused: payload(!!s.schedule.state?.paused, 'Bool'),
      },
    }) as unknown as Run;

  for (const row of stored) {
    const s = decodeState(row.data);
    schedules.set(keyOf(s.namespace, s.scheduleId), s);
  }
  // On start-up, after the runs are back: what came due while the server was down fires now.
  setImmediate(() => {
    for (const s of schedules.values()) process(s);
  });
  // When a workflow a schedule started closes, the schedule hears of it: buffered actions start, a failure may pause.
  const draining = new Set<ScheduleState>();
  e.commitHooks.push(() => {
    for (const s of schedules.values()) {
      if (draining.has(s) || s.running.every((w) => isOpen(s, w))) continue;
      draining.add(s);
      // Outside the committing transaction: starting a buffered workflow is a transaction of its own.
      setImmediate(() => {
        draining.delete(s);
        if (schedules.get(keyOf(s.namespace, s.scheduleId)) !== s) return;
        e.transact((tx) => {
          if (drain(s)) {
            persist(tx, s);
            arm(s);
          }
        });
      });
    }
  });

  return {
    CreateSchedule: (req: temporal.api.workflowservice.v1.ICreateScheduleRequest) =>
      e.transact((tx) => {
        const namespace = e.namespace(req.namespace).name;
        const scheduleId = e.checkId(req.scheduleId, 'ScheduleId');
        const existing = schedules.get(keyOf(namespace, scheduleId));
        if (existing) {
          if (req.requestId && existing.requestId === req.requestId) return { conflictToken: Buffer.from(String(existing.token)) };
          throw new ServerError(status.ALREADY_EXISTS, 'schedule with this ID is already registered');
        }
        e.requireMemo(req.memo, { namespace, workflowId: scheduleId, operation: 'CreateSchedule' });
        const now = e.clock.now();
        const s: ScheduleState = {
          namespace,
          scheduleId,
          schedule: validated(req.schedule, namespace),
          memo: req.memo ?? null,
          searchAttributes: req.searchAttributes?.indexedFields && Object.keys(req.searchAttributes.indexedFields).length ? req.searchAttributes : null,
          createMs: now,
          updateMs: null,
          token: 1,
          requestId: req.requestId ?? '',
          actionCount: 0,
          missedCatchupWindow: 0,
          overlapSkipped: 0,
          bufferDropped: 0,
          recent: [],
          running: [],
          buffer: [],
          processedMs: now,
        };
        schedules.set(keyOf(namespace, scheduleId), s);
        applyPatch(s, req.initialPatch);
        persist(tx, s);
        arm(s);
        return { conflictToken: Buffer.from(String(s.token)) };
      }),

    DescribeSchedule: (req: temporal.api.workflowservice.v1.IDescribeScheduleRequest) => {
      // Reading changes nothing: a closed workflow leaves the list (and may pause the schedule) when its close commits.
      return describe(find(req.namespace, req.scheduleId));
    },

    UpdateSchedule: (req: temporal.api.workflowservice.v1.IUpdateScheduleRequest) =>
      e.transact((tx) => {
        const s = find(req.namespace, req.scheduleId);
        checkToken(s, req.conflictToken);
        const schedule = validated(req.schedule, s.namespace);
        // The running count of a limited schedule is the server's; a client replaying an old describe cannot reset it.
        s.schedule = schedule;
        if (req.searchAttributes) {
          const fields = req.searchAttributes.indexedFields ?? {};
          s.searchAttributes = Object.keys(fields).length ? req.searchAttributes : null;
        }
        s.token++;
        s.updateMs = e.clock.now();
        s.processedMs = Math.max(s.processedMs, s.updateMs);
        persist(tx, s);
        arm(s);
        return {};
      }),

    PatchSchedule: (req: temporal.api.workflowservice.v1.IPatchScheduleRequest) =>
      e.transact((tx) => {
        const s = find(req.namespace, req.scheduleId);
        applyPatch(s, req.patch);
        s.updateMs = e.clock.now();
        persist(tx, s);
        arm(s);
        return {};
      }),

    DeleteSchedule: (req: temporal.api.workflowservice.v1.IDeleteScheduleRequest) =>
      e.transact((tx) => {
        const s = find(req.namespace, req.scheduleId);
        schedules.delete(keyOf(s.namespace, s.scheduleId));
        e.timers.cancel(timerKey(s));
        tx.writeRecord({ kind: 'schedule', namespace: s.namespace, id: s.scheduleId, data: null });
        return {};
      }),

    ListSchedules: (req: temporal.api.workflowservice.v1.IListSchedulesRequest) => {
      const namespace = e.namespace(req.namespace).name;
      const q = parseQuery(req.query);
      const types = resolveTypes(q, e.searchAttributes);
      const all = [...schedules.values()]
        .filter((s) => s.namespace === namespace && matches(asRun(s), q.where, types))
        .sort((a, b) => (a.scheduleId < b.scheduleId ? -1 : a.scheduleId > b.scheduleId ? 1 : 0));
      const { items, next } = page(all, req.nextPageToken, req.maximumPageSize);
      return {
        schedules: items.map((s) => ({
          scheduleId: s.scheduleId,
          memo: s.memo ?? undefined,
          searchAttributes: s.searchAttributes ?? undefined,
          info: {
            spec: s.schedule.spec,
            workflowType: s.schedule.action?.startWorkflow?.workflowType,
            notes: s.schedule.state?.notes ?? '',
            paused: !!s.schedule.state?.paused,
            recentActions: recentActions(s),
            futureActionTimes: futureTimes(s),
          },
        })),
        nextPageToken: next,
      };
    },

    ListScheduleMatchingTimes: (req: temporal.api.workflowservice.v1.IListScheduleMatchingTimesRequest) => {
      const s = find(req.namespace, req.scheduleId);
      const from = timestampMs(req.startTime);
      const to = timestampMs(req.endTime);
      if (to < from) throw invalidArgument('end time must not be before start time');
      return { startTime: [...take(timesIn(s, from - 1, to), MAX_MATCHING_TIMES)].map((t) => timestamp(t.actualMs)) };
    },
  };
}

/** The first `n` items of `items`. */
function* take<T>(items: Iterable<T>, n: number): Generator<T> {
  if (n <= 0) return;
  let i = 0;
  for (const item of items) {
    yield item;
    if (++i >= n) return;
  }
}
