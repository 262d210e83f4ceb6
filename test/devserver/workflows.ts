// Workflows that exercise the embedded server through the real SDK.
import * as wf from '@temporalio/workflow';
import { ActivityFailure, ApplicationFailure, CancelledFailure, ChildWorkflowFailure, TimeoutFailure } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type * as activities from './activities';

const acts = wf.proxyActivities<typeof activities>({ startToCloseTimeout: '10s', retry: { initialInterval: '50ms', backoffCoefficient: 1 } });

export const unblock = wf.defineSignal<[string]>('unblock');
export const state = wf.defineQuery<string>('state');
export const failingQuery = wf.defineQuery<string>('failingQuery');
export const setValue = wf.defineUpdate<string, [string]>('setValue');

/** Returns its input: the smallest workflow. */
export async function echo(x: string): Promise<string> {
  return x;
}

/** Fails with an application error. */
export async function failing(message: string): Promise<never> {
  throw ApplicationFailure.nonRetryable(message, 'Failing');
}

/**
 * Counts the runs of its schedule from the last completion result: one more each time, except that the run after
 * a result of 2 fails, and the run after a failure adds 10 (it sees the failure and the result before it).
 */
export async function chained(): Promise<number> {
  const { lastResult, lastFailure } = wf.workflowInfo();
  const previous = typeof lastResult === 'number' ? lastResult : 0;
  if (previous === 2 && !lastFailure) throw ApplicationFailure.nonRetryable('the third run fails', 'Failing');
  return previous + (lastFailure ? 10 : 1);
}

/** Calls one activity. */
export async function greet(name: string): Promise<string> {
  return await acts.greet(name);
}

/** Waits for a signal, answering queries and updates meanwhile. */
export async function waiter(): Promise<string> {
  let value = 'initial';
  const received: string[] = [];
  wf.setHandler(state, () => value);
  wf.setHandler(failingQuery, () => {
    throw new Error('query handler failed on purpose');
  });
  wf.setHandler(unblock, (s) => void received.push(s));
  wf.setHandler(
    setValue,
    async (v) => {
      value = v;
      return `set:${v}`;
    },
    {
      validator: (v) => {
        if (v === 'bad') throw new Error('bad value refused');
      },
    },
  );
  await wf.condition(() => received.length > 0);
  await wf.condition(wf.allHandlersFinished);
  return `${value}/${received.join(',')}`;
}

/** Sleeps, then returns. */
export async function sleeper(ms: number): Promise<string> {
  await wf.sleep(ms);
  return 'slept';
}

/** Activity, timer and signal together. */
export async function mixed(): Promise<string> {
  let got = '';
  wf.setHandler(unblock, (s) => void (got = s));
  const a = await acts.greet('mix');
  await wf.sleep(100);
  await wf.condition(() => got !== '');
  return `${a}|${got}`;
}

/** Starts a long timer and cancels it. */
export async function cancelsTimer(): Promise<string> {
  const scope = new wf.CancellationScope();
  const timer = scope.run(() => wf.sleep(60_000));
  await wf.sleep(10);
  scope.cancel();
  try {
    await timer;
    return 'fired';
  } catch (err) {
    return err instanceof CancelledFailure ? 'timer cancelled' : 'other';
  }
}

/** Retries a flaky activity until it succeeds. */
export async function retriesUntilSuccess(failures: number): Promise<number> {
  return await wf.proxyActivities<typeof activities>({ startToCloseTimeout: '5s', retry: { initialInterval: '20ms', maximumAttempts: 10 } }).flaky(failures);
}

/** Describes how an activity's failure reached the workflow. */
function describeFailure(err: unknown): string {
  if (!(err instanceof ActivityFailure)) return `not an activity failure: ${String(err)}`;
  const cause = err.cause;
  const kind = cause instanceof TimeoutFailure ? `timeout:${cause.timeoutType}` : cause instanceof ApplicationFailure ? `app:${cause.type}` : cause?.constructor.name;
  return `${err.retryState}|${kind}`;
}

/** Runs the named failure scenario and reports how it ended. */
export async function activityFailure(kind: 'exhausted' | 'fatal' | 'startToClose' | 'scheduleToClose'): Promise<string> {
  try {
    switch (kind) {
      case 'exhausted':
        await wf.proxyActivities<typeof activities>({ startToCloseTimeout: '5s', retry: { initialInterval: '10ms', maximumAttempts: 3 } }).alwaysFails();
        break;
      case 'fatal':
        await wf.proxyActivities<typeof activities>({ startToCloseTimeout: '5s', retry: { initialInterval: '10ms' } }).fatal();
        break;
      case 'startToClose':
        await wf.proxyActivities<typeof activities>({ startToCloseTimeout: '200ms', retry: { initialInterval: '10ms', maximumAttempts: 2 } }).slow(2000);
        break;
      case 'scheduleToClose':
        await wf.proxyActivities<typeof activities>({ scheduleToCloseTimeout: '300ms', startToCloseTimeout: '200ms', retry: { initialInterval: '10ms' } }).slow(2000);
        break;
    }
    return 'completed';
  } catch (err) {
    return describeFailure(err);
  }
}

/** A heartbeating activity whose first attempt stalls; the retry resumes from the heartbeat details. */
export async function resumesFromHeartbeat(): Promise<string> {
  return await wf.proxyActivities<typeof activities>({ startToCloseTimeout: '20s', heartbeatTimeout: '1s', retry: { initialInterval: '10ms' } }).resumable(5);
}

/** Cancels a running activity and waits for it to acknowledge. */
export async function cancelsActivity(): Promise<string> {
  const { untilCancelled } = wf.proxyActivities<typeof activities>({
    startToCloseTimeout: '20s',
    heartbeatTimeout: '2s',
    cancellationType: wf.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  const scope = new wf.CancellationScope();
  const p = scope.run(() => untilCancelled());
  await wf.sleep(300);
  scope.cancel();
  try {
    await p;
    return 'not cancelled';
  } catch (err) {
    return err instanceof ActivityFailure && err.cause instanceof CancelledFailure ? 'activity cancelled' : `other: ${String(err)}`;
  }
}

/** Cancels an activity that cannot start (no worker polls its queue). */
export async function cancelsUnstartedActivity(): Promise<string> {
  const { greet } = wf.proxyActivities<typeof activities>({ startToCloseTimeout: '20s', taskQueue: 'nobody-polls-this' });
  const scope = new wf.CancellationScope();
  const p = scope.run(() => greet('x'));
  await wf.sleep(50);
  scope.cancel();
  try {
    await p;
    return 'not cancelled';
  } catch (err) {
    return err instanceof ActivityFailure && err.cause instanceof CancelledFailure ? 'activity cancelled' : `other: ${String(err)}`;
  }
}

/** Its first workflow task fails (a bug); the retried task succeeds. */
export async function failsFirstTask(): Promise<string> {
  if (wf.workflowInfo().historyLength < 5) throw new Error('first task fails on purpose');
  return 'recovered';
}

/** Waits to be cancelled, cleans up, and reports it. */
export async function cleansUpOnCancel(): Promise<string> {
  try {
    await wf.condition(() => false);
    return 'unreachable';
  } catch (err) {
    if (!wf.isCancellation(err)) throw err;
    await wf.CancellationScope.nonCancellable(() => acts.greet('cleanup'));
    return 'cleaned up';
  }
}

/** Continues as new until `n` reaches 3. */
export async function countsUp(n: number): Promise<number> {
  if (n < 3) await wf.continueAsNew<typeof countsUp>(n + 1);
  return n;
}

/** Uses a patch marker (written with the SDK's metadata flags). */
export async function patchedWorkflow(): Promise<string> {
  if (wf.patched('v2')) return 'v2';
  return 'v1';
}

/** Starts a child and returns what it returned. */
export async function parent(childId: string, mode: 'ok' | 'fail'): Promise<string> {
  if (mode === 'ok') return await wf.executeChild(echo, { workflowId: childId, args: ['from child'] });
  try {
    await wf.executeChild(failing, { workflowId: childId, args: ['child broke'] });
    return 'no failure';
  } catch (err) {
    return err instanceof ChildWorkflowFailure && err.cause instanceof ApplicationFailure ? `child failed: ${err.cause.message}` : `other: ${String(err)}`;
  }
}

/** Starts a child whose id is taken by a running workflow. */
export async function childAlreadyRunning(childId: string): Promise<string> {
  try {
    await wf.startChild(waiter, { workflowId: childId });
    return 'started';
  } catch (err) {
    return err instanceof WorkflowExecutionAlreadyStartedError ? 'already started' : `other: ${String(err)}`;
  }
}

/** Starts a waiting child and completes, leaving the child to the parent-close policy. */
export async function abandonsChild(childId: string, policy: 'TERMINATE' | 'REQUEST_CANCEL' | 'ABANDON'): Promise<string> {
  const policies = { TERMINATE: wf.ParentClosePolicy.TERMINATE, REQUEST_CANCEL: wf.ParentClosePolicy.REQUEST_CANCEL, ABANDON: wf.ParentClosePolicy.ABANDON };
  await wf.startChild(cleansUpOnCancel, { workflowId: childId, parentClosePolicy: policies[policy] });
  return 'parent done';
}

/** Signals another workflow by id. */
export async function signalsOther(targetId: string): Promise<string> {
  try {
    await wf.getExternalWorkflowHandle(targetId).signal(unblock, 'from a workflow');
    return 'signalled';
  } catch (err) {
    return `failed: ${(err as Error).message}`;
  }
}

/** Cancels another workflow by id. */
export async function cancelsOther(targetId: string): Promise<string> {
  try {
    await wf.getExternalWorkflowHandle(targetId).cancel();
    return 'cancel requested';
  } catch (err) {
    return `failed: ${(err as Error).message}`;
  }
}

/** Completes as soon as it is signalled (used to race signals with completion). */
export async function completesOnSignal(): Promise<number> {
  let n = 0;
  wf.setHandler(unblock, () => void n++);
  await wf.condition(() => n > 0);
  return n;
}

export const addItem = wf.defineSignal<[string]>('addItem');
export const finish = wf.defineUpdate<number, [string]>('finish');

/** Activities, a timer, signals and an update: the workload the crash test interrupts. */
export async function durable(id: number): Promise<string> {
  const { step } = wf.proxyActivities<typeof activities>({ startToCloseTimeout: '20s', heartbeatTimeout: '5s', retry: { initialInterval: '100ms' } });
  const items: string[] = [];
  let finishedBy = '';
  wf.setHandler(addItem, (s) => void items.push(s));
  wf.setHandler(finish, (who) => {
    finishedBy = who;
    return items.length;
  });
  const a = await step(`a${id}`, 300 + (id % 5) * 100);
  await wf.sleep(1000);
  await wf.condition(() => items.length >= 2 && finishedBy !== '');
  const b = await step(`b${id}`, 200);
  return `${a}|${b}|${items.sort().join(',')}|${finishedBy}`;
}

/** Waits up to 48 hours for a signal (an SLA): reports whether it came or the SLA expired. */
export async function slaWatch(): Promise<string> {
  let got = '';
  wf.setHandler(unblock, (s) => void (got = s));
  const inTime = await wf.condition(() => got !== '', '48 hours');
  return inTime ? `decided:${got}` : 'expired';
}

/** Sets a search attribute from inside the workflow, then waits for a signal. */
export async function tagsItself(tag: string): Promise<void> {
  wf.upsertSearchAttributes({ CustomKeyword: [tag] });
  await wf.condition(() => false, '1 hour');
}

/** Runs `n` activities one after another. */
export async function manySteps(n: number): Promise<number> {
  for (let i = 0; i < n; i++) await acts.greet(String(i));
  return n;
}

/** Runs `n` activities at once. */
export async function parallelSteps(n: number): Promise<number> {
  await Promise.all(Array.from({ length: n }, (_, i) => acts.greet(String(i))));
  return n;
}

/** What the time-skipping tests give activities beyond `activities.ts`: the test environment's sleep. */
export interface EnvActivities {
  envSleep(ms: number): Promise<void>;
}
const envActs = wf.proxyActivities<typeof activities & EnvActivities>({ startToCloseTimeout: '30 days', retry: { maximumAttempts: 1 } });

/**
 * Races a timer against an activity (the SDK's own `raceActivityAndTimer`): `envSleep` waits in the
 * test environment's time, `slow` in real time. Awaits the activity either way, so none is left running.
 */
export async function raceActivityAndTimer(timerMs: number, activity: 'envSleep' | 'slow', activityMs: number): Promise<string> {
  const timer = wf.sleep(timerMs).then(() => 'timer');
  const act = (activity === 'slow' ? envActs.slow(activityMs) : envActs.envSleep(activityMs)).then(() => 'activity');
  const winner = await Promise.race([timer, act]);
  await act;
  return winner;
}

/** Runs an always-failing activity with an hour's initial backoff for `attempts` attempts; reports the failure. */
export async function retriesInSkippedTime(attempts: number): Promise<string> {
  const a = wf.proxyActivities<typeof activities>({
    startToCloseTimeout: '10s',
    retry: { initialInterval: '1 hour', backoffCoefficient: 2, maximumAttempts: attempts },
  });
  try {
    await a.alwaysFails();
    return 'succeeded';
  } catch (err) {
    return err instanceof ActivityFailure ? `failed: ${err.cause?.message}` : 'other';
  }
}

/** What the workflow knows of itself from its started event: timeouts, root, priority; and its child's view. */
export async function selfInfo(depth: number): Promise<{
  taskTimeoutMs: number;
  executionTimeoutMs: number | null;
  runTimeoutMs: number | null;
  root: string | null;
  priorityKey: number | null;
  child: unknown;
}> {
  const info = wf.workflowInfo();
  const child = depth > 0 ? await wf.executeChild(selfInfo, { args: [depth - 1], workflowId: `${info.workflowId}-child` }) : null;
  return {
    taskTimeoutMs: info.taskTimeoutMs,
    executionTimeoutMs: info.executionTimeoutMs ?? null,
    runTimeoutMs: info.runTimeoutMs ?? null,
    root: info.root?.workflowId ?? null,
    priorityKey: info.priority?.priorityKey ?? null,
    child,
  };
}

/** Accepts an update whose handler never finishes, then completes when signalled. */
export async function outlivedUpdate(): Promise<string> {
  let done = false;
  wf.setHandler(setValue, async () => {
    await wf.condition(() => false);
    return 'never';
  });
  wf.setHandler(unblock, () => void (done = true));
  await wf.condition(() => done);
  return 'closed';
}

/** Sets two memo keys, then removes one of them and waits to be told to finish. */
export async function memoEditor(): Promise<void> {
  let done = false;
  wf.setHandler(unblock, () => void (done = true));
  wf.upsertMemo({ alpha: 'a', bravo: 'b' });
  await wf.sleep(1);
  wf.upsertMemo({ bravo: undefined });
  await wf.condition(() => done);
}

/** A timer and an activity, each with a summary for the UI. */
export async function summarised(): Promise<string> {
  await wf.sleep(1, { summary: 'short nap' });
  const a = wf.proxyActivities<typeof activities>({ startToCloseTimeout: '10s', summary: 'say hello' });
  return a.greet('meta');
}

/** Runs `n` activities one after another and returns which worker ran each. */
export async function whoRanActivities(n: number): Promise<string[]> {
  const a = wf.proxyActivities<{ whoAmI(): Promise<string> }>({ startToCloseTimeout: '10s' });
  const ran: string[] = [];
  for (let i = 0; i < n; i++) ran.push(await a.whoAmI());
  return ran;
}

/** Runs an activity, waits for a signal, then draws a random id: a history with several points to reset to. */
export async function resettable(): Promise<string> {
  const seen: string[] = [];
  wf.setHandler(unblock, (s) => void seen.push(s));
  const greeting = await acts.greet('reset');
  await wf.condition(() => seen.length > 0);
  return `${greeting}/${seen.join(',')}/${wf.uuid4()}`;
}

/** Signals or cancels every target at once (one workflow task), reporting how many went through. */
export async function messagesOthers(kind: 'signal' | 'cancel', targetIds: string[]): Promise<number> {
  const sent = await Promise.allSettled(
    targetIds.map((id) => (kind === 'signal' ? wf.getExternalWorkflowHandle(id).signal(unblock, 'x') : wf.getExternalWorkflowHandle(id).cancel())),
  );
  return sent.filter((s) => s.status === 'fulfilled').length;
}

/** Upserts a memo of about `bytes` bytes, then completes. */
export async function upsertsMemo(bytes: number): Promise<void> {
  wf.upsertMemo({ blob: 'm'.repeat(bytes) });
  await wf.sleep(1);
}

/** Runs one activity under an activity id of `length` characters. */
export async function longActivityId(length: number): Promise<string> {
  return wf.proxyActivities<typeof activities>({ startToCloseTimeout: '10s', activityId: 'a'.repeat(length) }).greet('id');
}
