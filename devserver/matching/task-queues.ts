/** A poll that is waiting for a task. */
interface Waiter<T> {
  resolve(task: T | null): void;
  timer: NodeJS.Timeout;
  /** The worker instance that polls, when its request names one. */
  workerKey: string;
}

/** How long a worker that said it is shutting down has its late polls answered at once. */
const RELEASED_WORKER_MS = 120_000;

interface Queue<T> {
  tasks: T[];
  waiters: Waiter<T>[];
  lastPollers: Map<string, number>;
  /** When a poll last started or ended here. */
  lastPollMs: number;
  /** Its last poll was abandoned (the worker went away) or its worker shut down, and none came since. */
  abandoned: boolean;
}

/** Something a poll can be abandoned by (a cancelled gRPC call, server shutdown). */
export interface PollSignal {
  readonly aborted: boolean;
  onAbort(fn: () => void): void;
}

/**
 * FIFO task queues with long polls. A task handed to a poller is gone from the queue; the caller
 * must `requeue` it if the poller can no longer take it. Tasks are hints: the engine checks each
 * against the run's state when it is handed out, so stale tasks are simply skipped.
 */
/** Answers every poll waiting on `q` with nothing. */
function answerAll<T>(q: Queue<T>): void {
  for (const w of q.waiters.splice(0)) {
    clearTimeout(w.timer);
    w.resolve(null);
  }
}

export class TaskQueues<T> {
  private readonly queues = new Map<string, Queue<T>>();
  private closed = false;
  /** Workers that said they are shutting down, and when. */
  private readonly released = new Map<string, number>();

  private queue(key: string): Queue<T> {
    let q = this.queues.get(key);
    if (!q) {
      q = { tasks: [], waiters: [], lastPollers: new Map(), lastPollMs: 0, abandoned: false };
      this.queues.set(key, q);
    }
    return q;
  }

  /** Adds a task, handing it straight to the oldest waiting poll if there is one. */
  add(key: string, task: T): void {
    const q = this.queue(key);
    if (!this.handOver(q, task)) q.tasks.push(task);
  }

  /** Puts a task back at the head of its queue (its poller went away). */
  requeue(key: string, task: T): void {
    const q = this.queue(key);
    if (!this.handOver(q, task)) q.tasks.unshift(task);
  }

  private handOver(q: Queue<T>, task: T): boolean {
    const w = q.waiters.shift();
    if (!w) return false;
    q.lastPollMs = Date.now();
    clearTimeout(w.timer);
    w.resolve(task);
    return true;
  }

  /** Waits up to `timeoutMs` for a task; resolves null on timeout, abort or shutdown. */
  poll(key: string, timeoutMs: number, signal: PollSignal, identity = '', workerKey = ''): Promise<T | null> {
    // A poll of a worker on its way out (one that crossed its ShutdownWorker) is answered with nothing.
    if (workerKey && this.released.has(workerKey)) return Promise.resolve(null);
    const q = this.queue(key);
    q.lastPollers.set(identity, Date.now());
    q.lastPollMs = Date.now();
    q.abandoned = false;
    if (this.closed || signal.aborted) return Promise.resolve(null);
    const task = q.tasks.shift();
    if (task !== undefined) return Promise.resolve(task);
    return new Promise((resolve) => {
      const waiter: Waiter<T> = {
        resolve,
        timer: setTimeout(() => this.dropWaiter(q, waiter, null), timeoutMs),
        workerKey,
      };
      q.waiters.push(waiter);
      signal.onAbort(() => {
        if (this.dropWaiter(q, waiter, null) && q.waiters.length === 0) q.abandoned = true;
      });
    });
  }

  /** Tasks waiting in a queue, oldest first. */
  backlog(key: string): readonly T[] {
    return this.queues.get(key)?.tasks ?? [];
  }

  /** Identities that polled a queue and when, for DescribeTaskQueue. */
  pollers(key: string): ReadonlyMap<string, number> {
    return this.queues.get(key)?.lastPollers ?? new Map();
  }

  /** Removes queued tasks matching a predicate (e.g. of a closed run). */
  remove(key: string, match: (t: T) => boolean): void {
    const q = this.queues.get(key);
    if (q) q.tasks = q.tasks.filter((t) => !match(t));
  }

  /** Answers every waiting poll with nothing and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const q of this.queues.values()) answerAll(q);
  }

  /**
   * Whether a worker serves the queue: a poll waits on it now, or one started or ended within `windowMs` and it was
   * not abandoned since. A worker's polls that end by cancellation (the worker stopped or its process died) abandon
   * the queue at once, so tasks go elsewhere without waiting out the window.
   */
  served(key: string, windowMs: number): boolean {
    const q = this.queues.get(key);
    if (!q) return false;
    if (q.waiters.length > 0) return true;
    return !q.abandoned && Date.now() - q.lastPollMs < windowMs;
  }

  /**
   * Marks a queue as no longer served (its worker said it is shutting down): polls still waiting there are answered
   * with nothing, so no task is handed to a worker on its way out. Returns the tasks it held.
   */
  abandon(key: string): T[] {
    const q = this.queues.get(key);
    if (!q) return [];
    q.abandoned = true;
    answerAll(q);
    return q.tasks.splice(0);
  }

  /**
   * Answers with nothing every poll a worker instance has waiting, on any queue, and any it sends for a while after:
   * a worker that shuts down gracefully waits for its polls to end instead of cancelling them, so no task is handed to
   * a poll it has given up on.
   */
  releaseWorker(workerKey: string): void {
    const now = Date.now();
    for (const [k, at] of this.released) if (now - at > RELEASED_WORKER_MS) this.released.delete(k);
    this.released.set(workerKey, now);
    for (const q of this.queues.values()) {
      for (const w of q.waiters.filter((x) => x.workerKey === workerKey)) this.dropWaiter(q, w, null);
    }
  }

  /** Removes a waiting poll and answers it; false when it was no longer waiting. */
  private dropWaiter(q: Queue<T>, waiter: Waiter<T>, value: T | null): boolean {
    const i = q.waiters.indexOf(waiter);
    if (i < 0) return false;
    q.waiters.splice(i, 1);
    q.lastPollMs = Date.now();
    clearTimeout(waiter.timer);
    waiter.resolve(value);
    return true;
  }
}
