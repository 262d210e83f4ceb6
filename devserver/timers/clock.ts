/** The server's notion of now; virtual in time-skipping mode. */
export interface Clock {
  now(): number;
}

/** Wall-clock time. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to (time skipping, tests). */
export class VirtualClock implements Clock {
  constructor(private current = Date.now()) {}
  now(): number {
    return this.current;
  }
  /** Moves time forward; never backward. */
  advanceTo(ms: number): void {
    if (ms > this.current) this.current = ms;
  }
}
