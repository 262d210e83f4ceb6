// Activities used by the embedded server's test workflows.
import { ApplicationFailure, CancelledFailure, Context, activityInfo, heartbeat, sleep } from '@temporalio/activity';

/** Greets by name. */
export async function greet(name: string): Promise<string> {
  return `hello ${name}`;
}

/** Fails its first `failures` attempts, then reports the attempt that succeeded. */
export async function flaky(failures: number): Promise<number> {
  const { attempt } = activityInfo();
  if (attempt <= failures) throw ApplicationFailure.retryable(`attempt ${attempt} failed`, 'Flaky');
  return attempt;
}

/** Always fails, retryably. */
export async function alwaysFails(): Promise<never> {
  throw ApplicationFailure.retryable(`attempt ${activityInfo().attempt} failed`, 'AlwaysFails');
}

/** Fails with a non-retryable error. */
export async function fatal(): Promise<never> {
  throw ApplicationFailure.nonRetryable('fatal on purpose', 'Fatal');
}

/** Sleeps for `ms`. */
export async function slow(ms: number): Promise<string> {
  await sleep(ms);
  return 'done';
}

/**
 * Counts to `n`, heartbeating progress. Attempt 1 stalls after 2 steps (so its heartbeat times out);
 * the next attempt resumes from the last heartbeat's details.
 */
export async function resumable(n: number): Promise<string> {
  const info = activityInfo();
  let i: number = info.heartbeatDetails ?? 0;
  const resumedFrom = i;
  for (; i < n; i++) {
    if (info.attempt === 1 && i === 2) await sleep(5000);
    heartbeat(i + 1);
    await sleep(20);
  }
  return `attempt ${info.attempt} resumed from ${resumedFrom}`;
}

/** Heartbeats until cancelled, then reports the cancellation. */
export async function untilCancelled(): Promise<string> {
  for (;;) {
    try {
      heartbeat();
      await sleep(50);
    } catch (err) {
      if (err instanceof CancelledFailure) throw err;
      throw err;
    }
    if (Context.current().cancellationSignal.aborted) throw new CancelledFailure('cancelled');
  }
}

/** A step of the crash test: takes a while, heartbeating, and returns a deterministic value. */
export async function step(name: string, ms: number): Promise<string> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    heartbeat();
    await sleep(Math.min(50, Math.max(1, end - Date.now())));
  }
  return `${name}-done`;
}
