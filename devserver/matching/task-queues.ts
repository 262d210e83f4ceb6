/** A poll that is waiting for a task. */
interface Waiter<T> {
  resolve(task: T | null): void;
  timer: NodeJS.Timeout;
}

interface Queue<T> {
  tasks: T[];
  waiters: Waiter<T>[];
  lastPollers: Map<string, number>;
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
export class TaskQueues<T> {
  private readonly queues = new Map<string, Queue<T>>();
  private closed = false;

  private queue(key: string): Queue<T> {
    let q = this.queues.get(key);
    if (!q) {
      q = { tasks: [], waiters: [], lastPollers: new Map() };
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
    clearTimeout(w.timer);
    w.resolve(task);
    return true;
  }

  /** Waits up to `timeoutMs` for a task; resolves null on timeout, abort or shutdown. */
  poll(key: string, timeoutMs: number, signal: PollSignal, identity = ''): Promise<T | null> {
    const q = this.queue(key);
    q.lastPollers.set(identity, Date.now());
    if (this.closed || signal.aborted) return Promise.resolve(null);
    const task = q.tasks.shift();
    if (task !== undefined) return Promise.resolve(task);
    return new Promise((resolve) => {
      const waiter: Waiter<T> = {
        resolve,
        timer: setTimeout(() => this.dropWaiter(q, waiter, null), timeoutMs),
      };
      q.waiters.push(waiter);
      signal.onAbort(() => this.dropWaiter(q, waiter, null));
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
    for (const q of this.queues.values()) {
      for (const w of q.waiters.splice(0)) {
        clearTimeout(w.timer);
        w.resolve(null);
      }
    }
  }

  private dropWaiter(q: Queue<T>, waiter: Waiter<T>, value: T | null): void {
    const i = q.waiters.indexOf(waiter);
    if (i < 0) return;
    q.waiters.splice(i, 1);
    clearTimeout(waiter.timer);
    waiter.resolve(value);
  }
}
