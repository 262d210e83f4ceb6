import { failedPrecondition } from '../engine/errors';
import type { Engine } from '../engine/engine';
import type { SkippingClock } from './clock';

/**
 * Time skipping as the SDK's test server does it: a lock counter starts at 1; while it is 0 and no
 * work is in progress (no workflow task outstanding, no activity attempt queued or running), time
 * jumps to the next deadline of an open run or of a test sleep.
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

  /** UnlockTimeSkipping; unbalanced calls are refused. */
  unlock(): void {
    if (this.locks <= 0) throw failedPrecondition('Time skipping is not locked: unbalanced UnlockTimeSkipping call.');
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
    if (this.locks > 0 || !this.idle()) return;
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

  private idle(): boolean {
    const now = this.clock.now();
    for (const run of this.engine.runs.values()) {
      if (run.state !== 'running') continue;
      if (run.wft.state !== 'none') return false;
      for (const a of run.activities.values()) if (!a.closing && (a.state !== 'scheduled' || a.attemptScheduledMs <= now)) return false;
    }
    return true;
  }
}
