/** The server's notion of now; virtual in time-skipping mode. */
export interface Clock {
  now(): number;
  /** On a restart from a durable store: `ms` is the latest time its histories hold. */
  resumeFrom?(ms: number): void;
}

/** Wall-clock time. */
export const systemClock: Clock = { now: () => Date.now() };

/** Wall-clock time plus whatever was skipped (time-skipping mode). */
export class SkippingClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  /** Jumps forward to `ms`; never backward. */
  advanceTo(ms: number): void {
    const now = this.now();
    if (ms > now) this.offset += ms - now;
  }
  /** Time skipped before a restart stays skipped: the clock goes on from the latest recorded event, not behind it. */
  resumeFrom(ms: number): void {
    this.advanceTo(ms);
  }
}
