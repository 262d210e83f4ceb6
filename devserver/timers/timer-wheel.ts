import type { Clock } from './clock';

interface Entry {
  key: string;
  at: number;
  seq: number;
  fire: () => void;
}

/**
 * Deadlines keyed by name, fired in time order by one host timer. Re-scheduling a key replaces it.
 * With a virtual clock the host timer is not used: the owner calls `fireDue` after moving the clock.
 */
export class TimerWheel {
  private readonly entries = new Map<string, Entry>();
  private heap: Entry[] = [];
  private seq = 0;
  private hostTimer: NodeJS.Timeout | null = null;
  private hostTimerAt = Infinity;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly useHostTimers = true,
  ) {}

  /** Schedules `fire` at `at` (ms since epoch) under `key`, replacing any earlier deadline of that key. */
  schedule(key: string, at: number, fire: () => void): void {
    const entry = { key, at, seq: ++this.seq, fire };
    this.entries.set(key, entry);
    this.push(entry);
    this.arm();
  }

  /** Drops a deadline; unknown keys are ignored. */
  cancel(key: string): void {
    this.entries.delete(key);
  }

  /** Whether a deadline is pending under `key`. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The earliest pending deadline (of those whose key passes `include`), or undefined. */
  nextDeadline(include?: (key: string) => boolean): number | undefined {
    this.dropStale();
    if (!include) return this.heap[0]?.at;
    let best: number | undefined;
    for (const e of this.entries.values()) if (include(e.key) && (best === undefined || e.at < best)) best = e.at;
    return best;
  }

  /** Re-arms the host timer from scratch (after the clock jumped). */
  rearm(): void {
    if (this.hostTimer) clearTimeout(this.hostTimer);
    this.hostTimer = null;
    this.hostTimerAt = Infinity;
    this.arm();
  }

  /** Fires, in order, every deadline at or before the clock's now. */
  fireDue(): void {
    const now = this.clock.now();
    for (;;) {
      this.dropStale();
      const top = this.heap[0];
      if (!top || top.at > now) break;
      this.pop();
      this.entries.delete(top.key);
      top.fire();
    }
    this.arm();
  }

  /** Stops the host timer; pending deadlines are kept but never fire. */
  stop(): void {
    this.stopped = true;
    if (this.hostTimer) clearTimeout(this.hostTimer);
    this.hostTimer = null;
  }

  private arm(): void {
    if (!this.useHostTimers || this.stopped) return;
    const next = this.nextDeadline();
    if (next === undefined) return;
    if (this.hostTimer && this.hostTimerAt <= next) return;
    if (this.hostTimer) clearTimeout(this.hostTimer);
    // setTimeout overflows past ~24.8 days; re-arm when it fires early.
    const delay = Math.min(Math.max(0, next - this.clock.now()), 2 ** 31 - 1);
    this.hostTimerAt = next;
    this.hostTimer = setTimeout(() => {
      this.hostTimer = null;
      this.hostTimerAt = Infinity;
      this.fireDue();
    }, delay);
    // Deadlines alone (e.g. retention days ahead) must not keep the process alive.
    this.hostTimer.unref();
  }

  private dropStale(): void {
    while (this.heap.length && this.entries.get(this.heap[0].key) !== this.heap[0]) this.pop();
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (!h.length) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l], h[m])) m = l;
      if (r < h.length && less(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
