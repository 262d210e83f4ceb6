import { failedPrecondition } from '../engine/errors';
import type { Engine } from '../engine/engine';
import type { SkippingClock } from './clock';

/**
 * Time skipping as the SDK's test server does it. The Java test server keeps one lock counter: it
 * starts at 1 (the TestService's own lock), LockTimeSkipping/UnlockTimeSkipping move it, and work
 * in flight holds a lock too: a workflow task from scheduled until it completes, fails or times
 * out; an activity from scheduled until it completes, fails, is canceled or times out, given up
 * while it waits out a retry backoff and taken again when the retry is queued
 * (`TestWorkflowMutableStateImpl` `lockTimer`/`unlockTimer`). While the counter is 0, time jumps
 * to the next deadline of an open run or of a test sleep.
 *
 * Here the counter is split in two: `locks` counts the TestService's calls, and the locks of work
 * in flight are derived from the runs' state whenever they are needed. So an activity that calls
 * `env.sleep()` (UnlockTimeSkippingWithSleep) gives up the lock its own attempt holds, and time
 * skips while it sleeps; and since the runs' state is what recovery rebuilds from the store,
 * recovered counts are consistent by construction (the TestService's own count starts afresh at 1
 * with the process, as the Java server's does). `locks` may go below 0 (an unlock balanced by work
 * in flight); the total never counts as less than 0.
 */
export class TimeSkipper {
  private locks = 1;
  private pending = false;
  private sleeps = 0;

  constructor(
    private readonly engine: Engine,
    private readonly clock: SkippingClock,
  ) {
    engine.commitHooks.push(() => this.soon());
  }

  /** LockTimeSkipping. */
  lock(): void {
    this.locks++;
  }

  /** UnlockTimeSkipping; refused when nothing holds a lock (not the TestService, not work in flight). */
  unlock(): void {
    if (!this.locked()) throw failedPrecondition('Time skipping is not locked: unbalanced UnlockTimeSkipping call.');
    this.locks--;
    this.soon();
  }

  /** Resolves once the (virtual) clock reaches `atMs`, skipping ahead if nothing else is running. */
  sleepUntil(atMs: number): Promise<void> {
    if (this.clock.now() >= atMs) return Promise.resolve();
    return new Promise((resolve) => {
      this.engine.timers.schedule(`test-sleep|${++this.sleeps}`, atMs, resolve);
      this.soon();
    });
  }

  /** The current virtual time. */
  now(): number {
    return this.clock.now();
  }

  private soon(): void {
    if (this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      this.skip();
    });
  }

  private skip(): void {
    if (this.locked()) return;
    // Retention is not a reason to move time: closed runs would vanish under the test.
    const next = this.engine.timers.nextDeadline((key) => !key.endsWith('|retention'));
    if (next === undefined) return;
    if (next > this.clock.now()) {
      this.clock.advanceTo(next);
      this.engine.timers.rearm();
    }
    this.engine.timers.fireDue();
    this.soon();
  }

  /** Whether the lock counter (the TestService's locks plus those of work in flight) is above 0. */
  private locked(): boolean {
    return this.locks > 0 || this.inFlightAtLeast(1 - this.locks);
  }

  /**
   * Whether at least `n` locks are held by work in flight: a workflow task outstanding, or an
   * activity attempt queued or running (one waiting out its retry backoff holds none).
   */
  private inFlightAtLeast(n: number): boolean {
    if (n <= 0) return true;
    const now = this.clock.now();
    let held = 0;
    for (const run of this.engine.runs.values()) {
      if (run.state !== 'running') continue;
      if (run.wft.state !== 'none' && ++held >= n) return true;
      for (const a of run.activities.values()) if (!a.closing && (a.state !== 'scheduled' || a.attemptScheduledMs <= now) && ++held >= n) return true;
    }
    return false;
  }
}
