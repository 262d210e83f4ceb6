import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { CancelledFailure, TerminatedFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { suiteHarness } from './harness';
import { cancelsTimer, cleansUpOnCancel, countsUp, echo, failing, failsFirstTask, greet, mixed, patchedWorkflow, sleeper, unblock, waiter } from './workflows';

const EventType = temporal.api.enums.v1.EventType;
const h = suiteHarness();

async function eventTypes(workflowId: string, runId?: string): Promise<number[]> {
  const history = await h.client.workflow.getHandle(workflowId, runId).fetchHistory();
  return (history.events ?? []).map((e) => Number(e.eventType));
}

describe('start', () => {
  test('start: when the same workflow id is started while running, the second start fails with WorkflowExecutionAlreadyStartedError', async () => {
    const tq = h.taskQueue();
    await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'dup-1' });
    await expect(h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'dup-1' })).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    await h.client.workflow.getHandle('dup-1').terminate('cleanup');
  });

  test('start: when the conflict policy is USE_EXISTING, the running run is returned', async () => {
    const tq = h.taskQueue();
    const first = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'use-existing' });
    const second = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'use-existing', workflowIdConflictPolicy: 'USE_EXISTING' });
    expect(second.firstExecutionRunId).toBe(first.firstExecutionRunId);
    await first.terminate('cleanup');
  });

  test('start: when a request id is repeated, the same run id comes back and no second run exists', async () => {
    const svc = h.connection.workflowService;
    const req = {
      namespace: 'default',
      workflowId: 'idem-1',
      workflowType: { name: 'waiter' },
      taskQueue: { name: h.taskQueue() },
      requestId: 'request-abc',
      identity: 'test',
    };
    const a = await svc.startWorkflowExecution(req);
    const b = await svc.startWorkflowExecution(req);
    expect(b.runId).toBe(a.runId);
    const runs = [...h.server.engine.runs.values()].filter((r) => r.workflowId === 'idem-1');
    expect(runs).toHaveLength(1);
    await h.client.workflow.getHandle('idem-1').terminate('cleanup');
  });

  test('start: when the reuse policy rejects duplicates and a run has closed, a new start fails', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    await worker.runUntil(h.client.workflow.execute(echo, { taskQueue: tq, workflowId: 'reuse-1', args: ['a'] }));
    await expect(
      h.client.workflow.start(echo, { taskQueue: tq, workflowId: 'reuse-1', args: ['b'], workflowIdReusePolicy: 'REJECT_DUPLICATE' }),
    ).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    const again = await (await h.worker(tq)).runUntil(h.client.workflow.execute(echo, { taskQueue: tq, workflowId: 'reuse-1', args: ['c'] }));
    expect(again).toBe('c');
  });

  test('start: when a cron schedule is given, the start is refused with INVALID_ARGUMENT naming cron', async () => {
    const err = await h.client.workflow.start(echo, { taskQueue: 'x', workflowId: 'cron-1', args: ['a'], cronSchedule: '* * * * *' }).catch((e) => e);
    expect(err.cause.code).toBe(3);
    expect(err.cause.details).toMatch(/[Cc]ron/);
  });

  test('start: when memo and search attributes are given, describe returns them', async () => {
    const handle = await h.client.workflow.start(waiter, {
      taskQueue: h.taskQueue(),
      workflowId: 'memo-1',
      memo: { team: 'ccb' },
    });
    const d = await handle.describe();
    expect(d.memo).toEqual({ team: 'ccb' });
    expect(d.status.name).toBe('RUNNING');
    await handle.terminate('cleanup');
  });
});

describe('results and closing', () => {
  test('fail: when a workflow throws an application failure, the client gets WorkflowFailedError with it', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    const err = await worker
      .runUntil(h.client.workflow.execute(failing, { taskQueue: tq, workflowId: 'fail-1', args: ['boom'] }))
      .catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(err.cause.message).toBe('boom');
  });

  test('terminate: when a running workflow is terminated, its result rejects with a TerminatedFailure', async () => {
    const handle = await h.client.workflow.start(waiter, { taskQueue: h.taskQueue(), workflowId: 'term-1' });
    await handle.terminate('stop it');
    const err = await handle.result().catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(err.cause).toBeInstanceOf(TerminatedFailure);
    expect((await eventTypes('term-1')).at(-1)).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED);
  });

  test('terminate: when a closed workflow is terminated again, the call fails with not found', async () => {
    const handle = h.client.workflow.getHandle('term-1');
    await expect(handle.terminate('again')).rejects.toThrow(/already completed/);
  });

  test('cancel: when a workflow that does not catch cancellation is cancelled, it ends cancelled', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'cancel-1' });
      await handle.cancel();
      const err = await handle.result().catch((e) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(err.cause).toBeInstanceOf(CancelledFailure);
    });
  });

  test('cancel: when a workflow catches cancellation, its cleanup activity runs and it completes', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    const result = await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(cleansUpOnCancel, { taskQueue: tq, workflowId: 'cancel-2' });
      await new Promise((r) => setTimeout(r, 200));
      await handle.cancel();
      return handle.result();
    });
    expect(result).toBe('cleaned up');
  });

  test('workflow task: when the first task fails, the retried task completes the workflow', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    const result = await worker.runUntil(h.client.workflow.execute(failsFirstTask, { taskQueue: tq, workflowId: 'wft-fail-1' }));
    expect(result).toBe('recovered');
    expect(await eventTypes('wft-fail-1')).toContain(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
  });

  test('run timeout: when a workflow outlives its run timeout, it ends timed out', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    const err = await worker
      .runUntil(h.client.workflow.execute(sleeper, { taskQueue: tq, workflowId: 'timeout-1', args: [10_000], workflowRunTimeout: '500ms' }))
      .catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((await eventTypes('timeout-1')).at(-1)).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT);
  });

  test('continue-as-new: when a workflow continues as new, the chain shares its first run id and the last run returns', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    const handle = await h.client.workflow.start(countsUp, { taskQueue: tq, workflowId: 'can-1', args: [1] });
    const result = await worker.runUntil(handle.result());
    expect(result).toBe(3);
    const runs = [...h.server.engine.runs.values()].filter((r) => r.workflowId === 'can-1');
    expect(runs).toHaveLength(3);
    expect(new Set(runs.map((r) => r.start.firstExecutionRunId))).toEqual(new Set([handle.firstExecutionRunId]));
    expect(runs[1].start.continuedExecutionRunId).toBe(runs[0].runId);
  });
});

describe('signals and timers', () => {
  test('signal: when a waiting workflow is signalled, it completes with the signal', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    const result = await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'sig-1' });
      await handle.signal(unblock, 'go');
      return handle.result();
    });
    expect(result).toBe('initial/go');
  });

  test('signal-with-start: when no run exists, the run starts with the signal before its first task', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    const result = await worker.runUntil(async () => {
      const handle = await h.client.workflow.signalWithStart(waiter, { taskQueue: tq, workflowId: 'sws-1', signal: unblock, signalArgs: ['early'] });
      return handle.result();
    });
    expect(result).toBe('initial/early');
    const types = await eventTypes('sws-1');
    expect(types.slice(0, 3)).toEqual([
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    ]);
  });

  test('signal: when the workflow is unknown, the client gets WorkflowNotFoundError', async () => {
    await expect(h.client.workflow.getHandle('nope').signal(unblock, 'x')).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  test('timer: when a timer is cancelled, the workflow sees the cancellation and the history has TimerCanceled', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    expect(await worker.runUntil(h.client.workflow.execute(cancelsTimer, { taskQueue: tq, workflowId: 'timer-cancel-1' }))).toBe('timer cancelled');
    expect(await eventTypes('timer-cancel-1')).toContain(EventType.EVENT_TYPE_TIMER_CANCELED);
  });

  test('mixed: when a workflow runs an activity, a 100 ms timer and waits for a signal, all three arrive', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    const result = await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(mixed, { taskQueue: tq, workflowId: 'mixed-1' });
      await handle.signal(unblock, 'sig');
      return handle.result();
    });
    expect(result).toBe('hello mix|sig');
    const types = await eventTypes('mixed-1');
    expect(types).toContain(EventType.EVENT_TYPE_TIMER_FIRED);
    expect(types).toContain(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
  });

  test('patched: when a workflow uses a patch, its history replays (the SDK metadata is kept)', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    expect(await worker.runUntil(h.client.workflow.execute(patchedWorkflow, { taskQueue: tq, workflowId: 'patched-1' }))).toBe('v2');
    const history = await h.client.workflow.getHandle('patched-1').fetchHistory();
    const completed = history.events!.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    expect(completed?.workflowTaskCompletedEventAttributes?.sdkMetadata?.coreUsedFlags?.length ?? 0).toBeGreaterThan(0);
  });
});

describe('describe and history', () => {
  test('history: when a page size is given, the history comes in pages that join to the whole', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq);
    await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(mixed, { taskQueue: tq, workflowId: 'pages-1' });
      await handle.signal(unblock, 'x');
      await handle.result();
    });
    const svc = h.connection.workflowService;
    const whole = await svc.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: 'pages-1' } });
    const ids: number[] = [];
    let token: Uint8Array | undefined;
    let pages = 0;
    do {
      const res = await svc.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: 'pages-1' }, maximumPageSize: 4, nextPageToken: token });
      ids.push(...res.history!.events!.map((e) => Number(e.eventId)));
      token = res.nextPageToken?.length ? res.nextPageToken : undefined;
      pages++;
    } while (token);
    expect(ids).toEqual(whole.history!.events!.map((e) => Number(e.eventId)));
    expect(pages).toBe(Math.ceil(ids.length / 4));
    const reverse = await svc.getWorkflowExecutionHistoryReverse({ namespace: 'default', execution: { workflowId: 'pages-1' }, maximumPageSize: 1000 });
    expect(reverse.history!.events!.map((e) => Number(e.eventId))).toEqual([...ids].reverse());
  });

  test('history: when a long poll waits for new events, it returns as soon as one is written', async () => {
    const svc = h.connection.workflowService;
    const handle = await h.client.workflow.start(waiter, { taskQueue: h.taskQueue(), workflowId: 'longpoll-1' });
    const first = await svc.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: 'longpoll-1' } });
    const next = first.history!.events!.length + 1;
    const token = Buffer.from(JSON.stringify({ runId: handle.firstExecutionRunId, next }));
    const waiting = svc.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: 'longpoll-1' }, waitNewEvent: true, nextPageToken: token });
    await new Promise((r) => setTimeout(r, 100));
    await handle.signal(unblock, 'wake');
    const res = await waiting;
    expect(res.history!.events![0].eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    await handle.terminate('cleanup');
  });

  test('describe: when a workflow waits on an activity no worker polls, the pending activity is shown', async () => {
    const tq = h.taskQueue();
    const worker = await h.worker(tq, { activities: {} });
    await worker.runUntil(async () => {
      const handle = await h.client.workflow.start(greet, { taskQueue: tq, workflowId: 'describe-1', args: ['x'] });
      let d = await handle.describe();
      for (let i = 0; i < 50 && !d.raw.pendingActivities?.length; i++) {
        await new Promise((r) => setTimeout(r, 50));
        d = await handle.describe();
      }
      const pending = d.raw.pendingActivities![0];
      expect(pending.activityType?.name).toBe('greet');
      expect(pending.attempt).toBe(1);
      expect(pending.state).toBe(temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED);
      expect(d.raw.executionConfig?.taskQueue?.name).toBe(tq);
      await handle.terminate('cleanup');
    });
  });
});
