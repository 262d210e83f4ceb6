import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { TaskQueues } from '../matching/task-queues';
import {
  EventType,
  TaskQueueKind,
  attributesField,
  duration,
  durationMs,
  temporal,
  timestamp,
  type IHistoryEvent, long } from '../proto';
import type { CommitBatch, NamespaceRecord, RecordWrite, Store } from '../store/store';
import type { Clock } from '../timers/clock';
import { TimerWheel } from '../timers/timer-wheel';
import { invalidArgument, namespaceNotFound, notFound } from './errors';
import { LIMITS, blobWithinLimit, checkId, memoWithinLimit, requireBlobWithinLimit, requireMemoWithinLimit, type BlobSite, type Limits } from './limits';
import { encodeExtras } from './extras';
import { applyEvent, newRun, runKey, visibleEventCount, type BufferedEvent, type Run } from './run';

/** A workflow task or a legacy query waiting on a workflow task queue. */
export type WorkflowTaskItem =
  | { kind: 'wft'; runKey: string; scheduledEventId: number; attempt: number }
  | { kind: 'query'; runKey: string; queryId: string };

/** An activity attempt waiting on an activity task queue. */
export interface ActivityTaskItem {
  runKey: string;
  scheduledEventId: number;
  attempt: number;
}

/** A query waiting for its answer. */
export interface PendingQuery {
  id: string;
  runKey: string;
  query: temporal.api.query.v1.IWorkflowQuery;
  route: 'waiting' | 'legacy' | 'attached' | 'dispatched';
  resolve(result: { answer?: temporal.api.common.v1.IPayloads | null; error?: string; failure?: any }): void;
}

/** What a request changed, committed together when it ends. */
export class Tx {
  readonly dirty = new Set<Run>();
  readonly namespaces: NamespaceRecord[] = [];
  readonly deleted: Run[] = [];
  /** Schedules and batch jobs written (data) or deleted (null) by this transaction, the latest write per record. */
  readonly records = new Map<string, RecordWrite>();
  searchAttributesChanged = false;
  /** Keeps `write` as this transaction's last word on its record. */
  writeRecord(write: RecordWrite): void {
    this.records.set(`${write.kind}|${write.namespace}|${write.id}`, write);
  }
  private readonly effects: (() => void)[] = [];
  /** Runs `fn` once the transaction is durable (wake pollers, answer waiters). */
  after(fn: () => void): void {
    this.effects.push(fn);
  }
  /** @internal */
  runEffects(): void {
    for (const fn of this.effects) fn();
  }
}

/** Engine construction options. */
export interface EngineOptions {
  clock: Clock;
  store: Store;
  log: Logger;
  /** Host timers fire deadlines; off in time-skipping mode, where the skipper drives them. */
  hostTimers?: boolean;
  defaultRetentionMs?: number;
  /** Overrides of the real server's limits (history size, pending work). */
  limits?: Partial<Limits>;
  /** Hand activities a worker asks to run at once back in its task completion (off, as on a real server). */
  eagerActivityExecution?: boolean;
}

export const DEFAULT_WFT_TIMEOUT_MS = 10_000;
const MAX_WFT_TIMEOUT_MS = 120_000;

/** A run's workflow task timeout as a real server sets it: the default when unset, capped, never past the run's. */
export function effectiveWorkflowTaskTimeoutMs(givenMs: number, runTimeoutMs = 0): number {
  return Math.min(givenMs > 0 ? givenMs : DEFAULT_WFT_TIMEOUT_MS, MAX_WFT_TIMEOUT_MS, runTimeoutMs > 0 ? runTimeoutMs : Infinity);
}

/**
 * The server's state: runs (each rebuilt from its history), namespaces, task queues and deadlines.
 * Every mutation happens inside `transact`, which persists what changed before any waiter hears of it.
 */
export class Engine {
  readonly runs = new Map<string, Run>();
  /** Runs of each workflow id, oldest first; the last is the current run. */
  readonly chains = new Map<string, Run[]>();
  readonly namespaces = new Map<string, NamespaceRecord>();
  readonly searchAttributes = new Map<string, number>();
  readonly workflowQueues = new TaskQueues<WorkflowTaskItem>();
  readonly activityQueues = new TaskQueues<ActivityTaskItem>();
  readonly queries = new Map<string, PendingQuery>();
  readonly timers: TimerWheel;
  readonly clock: Clock;
  readonly log: Logger;
  private readonly store: Store;
  private readonly watchers = new Map<string, Set<() => void>>();
  private readonly runTimers = new Map<string, Set<string>>();
  private taskId = 0;
  private current: Tx | null = null;
  /** Called after every committed transaction (the time skipper watches for idleness). */
  readonly commitHooks: (() => void)[] = [];
  readonly defaultRetentionMs: number;
  readonly limits: Limits;
  readonly eagerActivityExecution: boolean;
  private readonly durable: boolean;

  constructor(opts: EngineOptions) {
    this.limits = { ...LIMITS, ...opts.limits };
    this.eagerActivityExecution = opts.eagerActivityExecution ?? false;
    this.durable = opts.store.kind !== 'memory';
    this.clock = opts.clock;
    this.store = opts.store;
    this.log = opts.log;
    this.timers = new TimerWheel(opts.clock, opts.hostTimers ?? true);
    this.defaultRetentionMs = opts.defaultRetentionMs ?? 7 * 24 * 3600_000;
  }

  /** Runs `fn` as one transaction: commit what it changed (even if it throws), then run its effects. */
  transact<T>(fn: (tx: Tx) => T): T {
    if (this.current) return fn(this.current);
    const tx = new Tx();
    this.current = tx;
    let result: T;
    try {
      result = fn(tx);
    } finally {
      this.current = null;
      this.commit(tx);
      tx.runEffects();
      for (const run of tx.dirty) this.notify(run.key);
      for (const hook of this.commitHooks) hook();
    }
    return result;
  }

  private commit(tx: Tx): void {
    if (!tx.dirty.size && !tx.namespaces.length && !tx.deleted.length && !tx.searchAttributesChanged && !tx.records.size) return;
    const batch: CommitBatch = {
      runs: [...tx.dirty].map((run) => {
        const newEvents = run.unpersistedBytes;
        const firstNewEventId = run.persistedEvents + 1;
        run.persistedEvents = visibleEventCount(run);
        run.unpersistedBytes = [];
        return {
          namespace: run.namespace,
          workflowId: run.workflowId,
          runId: run.runId,
          firstNewEventId,
          newEvents,
          extras: encodeExtras(run),
          closed: run.state !== 'running',
        };
      }),
      namespaces: tx.namespaces,
      deletedRuns: tx.deleted.map((r) => ({ namespace: r.namespace, workflowId: r.workflowId, runId: r.runId })),
      records: [...tx.records.values()],
    };
    if (tx.searchAttributesChanged) batch.searchAttributes = Object.fromEntries(this.searchAttributes);
    this.store.commit(batch);
  }

  // ---- limits -----------------------------------------------------------------------------

  /** The real server's blob check: warns past the warning limit, false past the error limit. */
  blobWithinLimit(size: number, site: BlobSite): boolean {
    return blobWithinLimit(this.limits, this.log, size, site);
  }

  /** Refuses request payloads past the error limit with INVALID_ARGUMENT (after the warning). */
  requireBlob(p: temporal.api.common.v1.IPayloads | null | undefined, site: BlobSite): void {
    requireBlobWithinLimit(this.limits, this.log, p, site);
  }

  /** The memo check: warns past `limit.memoSize.warn`, false past `limit.memoSize.error`. */
  memoWithinLimit(size: number, site: BlobSite): boolean {
    return memoWithinLimit(this.limits, this.log, size, site);
  }

  /** Refuses a start's memo past the memo error limit with INVALID_ARGUMENT (after the warning). */
  requireMemo(memo: temporal.api.common.v1.IMemo | null | undefined, site: BlobSite): void {
    requireMemoWithinLimit(this.limits, this.log, memo, site);
  }

  /** Refuses a missing id or one past `limit.maxIDLength` with INVALID_ARGUMENT. */
  checkId(value: string | null | undefined, what: string): string {
    return checkId(this.limits, value, what);
  }

  // ---- namespaces -------------------------------------------------------------------------

  /** The namespace record, or NOT_FOUND. Empty names are INVALID_ARGUMENT. */
  namespace(name: string | null | undefined): NamespaceRecord {
    if (!name) throw invalidArgument('Namespace not set on request.');
    const ns = this.namespaces.get(name);
    if (!ns) throw namespaceNotFound(name);
    return ns;
  }

  /** Registers a namespace (no-op if it exists). */
  ensureNamespace(tx: Tx, name: string, retentionMs = this.defaultRetentionMs, description = ''): NamespaceRecord {
    const existing = this.namespaces.get(name);
    if (existing) return existing;
    const ns: NamespaceRecord = { name, id: randomUUID(), description, ownerEmail: '', retentionMs, data: {} };
    this.namespaces.set(name, ns);
    tx.namespaces.push(ns);
    return ns;
  }

  // ---- runs -------------------------------------------------------------------------------

  /** A run by id, or the current run of the workflow id when runId is empty; NOT_FOUND otherwise. */
  findRun(namespace: string, execution: temporal.api.common.v1.IWorkflowExecution | null | undefined): Run {
    const workflowId = execution?.workflowId;
    if (!workflowId) throw invalidArgument('WorkflowId is not set on request.');
    const runId = execution?.runId;
    if (runId) {
      const run = this.runs.get(runKey(namespace, workflowId, runId));
      if (!run) throw notFound(`workflow not found for ID: ${workflowId}`);
      return run;
    }
    const chain = this.chains.get(chainKey(namespace, workflowId));
    if (!chain?.length) throw notFound(`workflow not found for ID: ${workflowId}`);
    return chain[chain.length - 1];
  }

  /** The latest run of a workflow id, if any. */
  currentRun(namespace: string, workflowId: string): Run | undefined {
    const chain = this.chains.get(chainKey(namespace, workflowId));
    return chain?.[chain.length - 1];
  }

  /** Registers a new run record (its first event still to append). */
  addRun(tx: Tx, namespace: string, workflowId: string, runId: string): Run {
    const run = newRun(namespace, workflowId, runId);
    this.runs.set(run.key, run);
    const ck = chainKey(namespace, workflowId);
    const chain = this.chains.get(ck) ?? [];
    chain.push(run);
    this.chains.set(ck, chain);
    tx.dirty.add(run);
    return run;
  }

  /** Forgets a closed run (retention). */
  deleteRun(tx: Tx, run: Run): void {
    this.runs.delete(run.key);
    const ck = chainKey(run.namespace, run.workflowId);
    const chain = (this.chains.get(ck) ?? []).filter((r) => r !== run);
    if (chain.length) this.chains.set(ck, chain);
    else this.chains.delete(ck);
    tx.dirty.delete(run);
    tx.deleted.push(run);
  }

  // ---- history ----------------------------------------------------------------------------

  /** Appends an event to the run's history and folds it into the run's state. */
  append(
    tx: Tx,
    run: Run,
    eventType: number,
    attributes: Record<string, any>,
    timeMs = this.clock.now(),
    userMetadata?: temporal.api.sdk.v1.IUserMetadata | null,
  ): IHistoryEvent {
    // Anything but a speculative task's own scheduled and started events makes that task a recorded one.
    if (run.speculative && eventType !== EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED && eventType !== EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)
      this.keepSpeculative(run);
    const event: IHistoryEvent = {
      eventId: long(run.events.length + 1),
      eventTime: timestamp(timeMs),
      eventType,
      taskId: long(++this.taskId),
      [attributesField(eventType)]: attributes,
      // The summary and details a client or command gave, shown by Temporal UI next to the event.
      ...(userMetadata?.summary || userMetadata?.details ? { userMetadata } : {}),
    };
    run.events.push(event);
    const bytes = temporal.api.history.v1.HistoryEvent.encode(event).finish();
    run.historySizeBytes += bytes.length;
    // Kept until committed so a durable store does not encode the event a second time.
    if (this.durable) (run.speculative ? run.speculativeBytes : run.unpersistedBytes).push(bytes);
    applyEvent(run, event);
    tx.dirty.add(run);
    return event;
  }

  /**
   * Records events caused from outside the workflow (signals, results, fired timers). While a
   * workflow task is started they wait in the buffer, since nothing may come between its started
   * and closing events; otherwise they are appended and a workflow task is scheduled.
   */
  addExternal(tx: Tx, run: Run, events: Omit<BufferedEvent, 'timeMs'>[]): void {
    const now = this.clock.now();
    if (run.wft.state === 'started' || run.completing) {
      for (const e of events) run.buffered.push({ ...e, timeMs: now });
      tx.dirty.add(run);
      return;
    }
    let prev = 0;
    for (const e of events) {
      const attributes = e.refPrev ? { ...e.attributes, [e.refPrev]: prev } : e.attributes;
      prev = Number(this.append(tx, run, e.eventType, attributes, now).eventId);
    }
    this.scheduleWorkflowTask(tx, run);
  }

  /** Appends buffered events that still apply; returns how many were appended. */
  flushBuffer(tx: Tx, run: Run): number {
    const buffered = run.buffered;
    if (!buffered.length) return 0;
    run.buffered = [];
    tx.dirty.add(run);
    let prev = 0;
    let appended = 0;
    let skipDependent = false;
    for (const e of buffered) {
      if (e.refPrev && skipDependent) continue;
      skipDependent = false;
      if (!stillApplies(run, e)) {
        skipDependent = true;
        continue;
      }
      const attributes = e.refPrev ? { ...e.attributes, [e.refPrev]: prev } : e.attributes;
      prev = Number(this.append(tx, run, e.eventType, attributes, e.timeMs).eventId);
      appended++;
    }
    return appended;
  }

  /**
   * Schedules a workflow task unless one is outstanding or the run is closed. A `speculative` one (for updates) stays
   * out of the history unless it records something; only a run that has completed a task and waits on nothing else
   * gets one.
   */
  scheduleWorkflowTask(tx: Tx, run: Run, opts: { speculative?: boolean } = {}): void {
    if (run.state !== 'running' || run.wft.state !== 'none') return;
    if (opts.speculative && run.buffered.length === 0 && run.lastCompletedWftStartedId > 0)
      run.speculative = { eventCount: run.events.length, historySizeBytes: run.historySizeBytes, wft: run.wft };
    const timeoutMs = workflowTaskTimeoutMs(run);
    const stickyKey = this.servedStickyQueue(run);
    const sticky = run.sticky;
    const e = this.append(tx, run, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, {
      taskQueue: sticky
        ? { name: sticky.queue, kind: TaskQueueKind.TASK_QUEUE_KIND_STICKY, normalName: run.taskQueue }
        : { name: run.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      startToCloseTimeout: duration(timeoutMs),
      attempt: run.nextWftAttempt,
    });
    const scheduledEventId = Number(e.eventId);
    const item: WorkflowTaskItem = { kind: 'wft', runKey: run.key, scheduledEventId, attempt: run.wft.attempt };
    tx.after(() => this.workflowQueues.add(stickyKey ?? queueKey(run.namespace, run.taskQueue), item));
    if (sticky) this.deadline(run, 'wft-sticky', this.clock.now() + sticky.scheduleToStartMs, (t) => this.unstick(t, run, scheduledEventId));
  }

  /**
   * The key of the sticky queue the run's tasks and queries go to, or null for its own queue. A sticky queue no
   * worker serves any more is dropped here rather than waited out.
   */
  servedStickyQueue(run: Run): string | null {
    if (run.state !== 'running' || !run.sticky) return null;
    const key = stickyQueueKey(run.namespace, run.sticky.queue);
    if (this.workflowQueues.served(key, STICKY_POLLER_WINDOW_MS)) return key;
    run.sticky = null;
    return null;
  }

  /** Makes a speculative workflow task an ordinary one: its events join the stored history. */
  private keepSpeculative(run: Run): void {
    run.unpersistedBytes.push(...run.speculativeBytes);
    run.speculativeBytes = [];
    run.speculative = null;
  }

  /** Drops a speculative workflow task as if it had never been scheduled. */
  dropSpeculative(run: Run): void {
    const s = run.speculative;
    if (!s) return;
    this.cancelDeadline(run, 'wft');
    this.cancelDeadline(run, 'wft-sticky');
    run.events.length = s.eventCount;
    run.historySizeBytes = s.historySizeBytes;
    run.wft = s.wft;
    run.speculativeBytes = [];
    run.speculative = null;
  }

  /**
   * A task its sticky worker did not start in time (or whose worker left): WorkflowTaskTimedOut (ScheduleToStart), and
   * the task goes to the run's own queue with the full history, where any worker can take it.
   */
  unstick(tx: Tx, run: Run, scheduledEventId: number): void {
    if (run.state !== 'running' || run.wft.state !== 'scheduled' || run.wft.scheduledEventId !== scheduledEventId || !run.wft.stickyQueue) return;
    this.cancelDeadline(run, 'wft-sticky');
    this.append(tx, run, EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, {
      scheduledEventId,
      startedEventId: 0,
      timeoutType: temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START,
    });
    this.flushBuffer(tx, run);
    this.scheduleWorkflowTask(tx, run);
  }

  // ---- deadlines --------------------------------------------------------------------------

  /** Arms a deadline belonging to a run; it runs inside its own transaction. */
  deadline(run: Run, name: string, atMs: number, fire: (tx: Tx) => void): void {
    const key = `${run.key}|${name}`;
    let keys = this.runTimers.get(run.key);
    if (!keys) this.runTimers.set(run.key, (keys = new Set()));
    keys.add(key);
    this.timers.schedule(key, atMs, () => {
      keys!.delete(key);
      try {
        this.transact(fire);
      } catch (err) {
        this.log.error({ err, runKey: run.key, deadline: name }, 'deadline handler failed');
      }
    });
  }

  /** Disarms a run's deadline. */
  cancelDeadline(run: Run, name: string): void {
    const key = `${run.key}|${name}`;
    this.timers.cancel(key);
    this.runTimers.get(run.key)?.delete(key);
  }

  /** Disarms every deadline of a run (it closed). */
  cancelAllDeadlines(run: Run): void {
    for (const key of this.runTimers.get(run.key) ?? []) this.timers.cancel(key);
    this.runTimers.delete(run.key);
  }

  // ---- waiting ----------------------------------------------------------------------------

  /** Resolves true as soon as `ready()` holds (checked after each change to the run), false at the timeout. */
  waitFor(runKey: string, ready: () => boolean, timeoutMs: number, abort?: { onAbort(fn: () => void): void }): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      let set = this.watchers.get(runKey);
      if (!set) this.watchers.set(runKey, (set = new Set()));
      const mine = set;
      let settled = false;
      // A waiter can be ended more than once (woken, then its call cancelled); only the first counts,
      // and it must never drop a newer set of waiters registered under the same run.
      const done = (value: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        mine.delete(check);
        if (!mine.size && this.watchers.get(runKey) === mine) this.watchers.delete(runKey);
        resolve(value);
      };
      const check = () => {
        if (ready()) done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      set.add(check);
      abort?.onAbort(() => done(false));
    });
  }

  private notify(key: string): void {
    const set = this.watchers.get(key);
    if (set) for (const check of [...set]) check();
  }

  /** Wakes every waiter (shutdown). */
  stop(): void {
    this.timers.stop();
    this.workflowQueues.close();
    this.activityQueues.close();
    for (const q of this.queries.values()) q.resolve({ error: 'server is shutting down' });
    this.queries.clear();
  }

  /** A fresh task id for events. Exposed so rebuilt state continues the sequence. */
  bumpTaskId(to: number): void {
    if (to > this.taskId) this.taskId = to;
  }
}

/** The key of a task queue in matching. */
export function queueKey(namespace: string, taskQueue: string): string {
  return `${namespace}\u0000${taskQueue}`;
}

/** The key of a worker's sticky workflow task queue. */
export function stickyQueueKey(namespace: string, taskQueue: string): string {
  return `sticky\u0000${queueKey(namespace, taskQueue)}`;
}

/** How long a sticky queue counts as served after its last poll, as a real server's matching service counts it. */
const STICKY_POLLER_WINDOW_MS = 10_000;

function chainKey(namespace: string, workflowId: string): string {
  return `${namespace}\u0000${workflowId}`;
}

function workflowTaskTimeoutMs(run: Run): number {
  return effectiveWorkflowTaskTimeoutMs(durationMs(run.start.workflowTaskTimeout));
}

/** A buffered result whose subject was closed meanwhile (a timer canceled in the same task) is dropped. */
function stillApplies(run: Run, e: BufferedEvent): boolean {
  switch (e.eventType) {
    case EventType.EVENT_TYPE_TIMER_FIRED:
      return run.timers.has(e.attributes.timerId);
    case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
    case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
    case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
    case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
    case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
      return run.activities.has(Number(e.attributes.scheduledEventId));
    default:
      return true;
  }
}

