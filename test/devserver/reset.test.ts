import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { temporal } from '@temporalio/proto';
import { suiteHarness } from './harness';
import { abandonsChild, raceActivityAndTimer, resettable, setValue, state, unblock, waiter } from './workflows';

const EventType = temporal.api.enums.v1.EventType;
const WftFailedCause = temporal.api.enums.v1.WorkflowTaskFailedCause;
const h = suiteHarness();

function historyOf(runId: string): temporal.api.history.v1.IHistoryEvent[] {
  return [...h.server.engine.runs.values()].find((r) => r.runId === runId)!.events;
}

/** The id of the n-th WorkflowTaskCompleted event (1-based) of a run. */
function completedTask(runId: string, n: number): number {
  const ids = historyOf(runId)
    .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    .map((e) => Number(e.eventId));
  return ids[n - 1];
}

type ResetRequest = temporal.api.workflowservice.v1.IResetWorkflowExecutionRequest;

function reset(workflowId: string, runId: string, finishId: number, extra: Partial<ResetRequest> = {}): Promise<temporal.api.workflowservice.v1.IResetWorkflowExecutionResponse> {
  const request: ResetRequest = {
    namespace: 'default',
    workflowExecution: { workflowId, runId },
    // The field is an int64; protobufjs takes a plain number for it.
    workflowTaskFinishEventId: finishId as unknown as ResetRequest['workflowTaskFinishEventId'],
    reason: 'operator reset',
    requestId: randomUUID(),
    identity: 'reset-test',
    ...extra,
  };
  return h.connection.workflowService.resetWorkflowExecution(request);
}

/** Runs `resettable` to its end (signalled 'a') and gives its handle and result: a closed run to reset. */
async function finishedRun(workflowId: string, taskQueue: string) {
  const base = await h.client.workflow.start(resettable, { workflowId, taskQueue });
  // The signal comes after the first task, so a reset to that task finds it after the point, however slow the worker.
  await waitUntil(() => completedTask(base.firstExecutionRunId, 1) !== undefined);
  await base.signal(unblock, 'a');
  return { base, result: await base.result() };
}

describe('reset', () => {
  test('reset: when a closed run is reset to its first task, a new run replays it, gets the later signal again and draws new randomness', async () => {
    await h.withWorker(async (tq) => {
      const workflowId = `reset-closed-${tq}`;
      const { base, result: before } = await finishedRun(workflowId, tq);
      expect(before).toMatch(/^hello reset\/a\//);

      const { runId } = await reset(workflowId, base.firstExecutionRunId, completedTask(base.firstExecutionRunId, 1));
      expect(runId).toBeTruthy();
      expect(runId).not.toBe(base.firstExecutionRunId);
      const after = await h.client.workflow.getHandle(workflowId, runId!).result();
      const [greeting, signals, uuid] = after.split('/');
      expect([greeting, signals]).toEqual(['hello reset', 'a']);
      expect(uuid).not.toBe(before.split('/')[2]);

      const events = historyOf(runId!);
      expect(events.slice(0, 5).map((e) => e.eventType)).toEqual([
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
      ]);
      const failed = events[3].workflowTaskFailedEventAttributes!;
      expect([failed.cause, failed.baseRunId, failed.newRunId]).toEqual([WftFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW, base.firstExecutionRunId, runId]);
      expect(events[5].workflowTaskScheduledEventAttributes?.attempt).toBe(1);
      // The workflow id now names the new run; the base keeps its own close.
      expect((await h.client.workflow.getHandle(workflowId).describe()).runId).toBe(runId);
      const baseRun = await h.client.workflow.getHandle(workflowId, base.firstExecutionRunId).describe();
      expect([baseRun.runId, baseRun.status.name]).toEqual([base.firstExecutionRunId, 'COMPLETED']);
    });
  });

  test('reset: when a running workflow is reset, it is terminated and the new run carries on from the reset point', async () => {
    await h.withWorker(async (tq) => {
      const workflowId = `reset-running-${tq}`;
      const base = await h.client.workflow.start(resettable, { workflowId, taskQueue: tq });
      // The second task saw the activity's result; the workflow now waits for a signal.
      await waitUntil(() => completedTask(base.firstExecutionRunId, 2) !== undefined);
      const { runId } = await reset(workflowId, base.firstExecutionRunId, completedTask(base.firstExecutionRunId, 2));
      const terminated = await h.client.workflow.getHandle(workflowId, base.firstExecutionRunId).describe();
      expect(terminated.status.name).toBe('TERMINATED');
      const resetRun = h.client.workflow.getHandle(workflowId, runId!);
      await resetRun.signal(unblock, 'after');
      expect(await resetRun.result()).toMatch(/^hello reset\/after\//);
      // The activity completed before the reset point: it is not run again.
      expect(historyOf(runId!).filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toHaveLength(1);
    });
  });

  test('reset: when an activity is pending at the reset point, the new run dispatches it again', async () => {
    await h.withWorker(async (tq) => {
      const workflowId = `reset-pending-${tq}`;
      const base = await h.client.workflow.start(raceActivityAndTimer, { workflowId, taskQueue: tq, args: [20, 'slow', 400] });
      expect(await base.result()).toBe('timer');
      // Task 2 handled the fired timer while the activity still ran.
      const { runId } = await reset(workflowId, base.firstExecutionRunId, completedTask(base.firstExecutionRunId, 2));
      const events = historyOf(runId!);
      expect(events.some((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)).toBe(false);
      expect(await h.client.workflow.getHandle(workflowId, runId!).result()).toBe('timer');
      expect(historyOf(runId!).some((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)).toBe(true);
    });
  });

  test('reset: when signals are excluded, or the same request id is sent again, the new run reflects it', async () => {
    await h.withWorker(async (tq) => {
      const workflowId = `reset-options-${tq}`;
      const { base } = await finishedRun(workflowId, tq);
      const requestId = randomUUID();
      const first = await reset(workflowId, base.firstExecutionRunId, completedTask(base.firstExecutionRunId, 1), {
        requestId,
        resetReapplyExcludeTypes: [temporal.api.enums.v1.ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL],
      });
      const again = await reset(workflowId, base.firstExecutionRunId, completedTask(base.firstExecutionRunId, 1), { requestId });
      expect(again.runId).toBe(first.runId);
      expect(historyOf(first.runId!).some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)).toBe(false);
      const resetRun = h.client.workflow.getHandle(workflowId, first.runId!);
      await resetRun.signal(unblock, 'b');
      expect(await resetRun.result()).toMatch(/^hello reset\/b\//);
    });
  });

  test.each([
    ['all eligible', temporal.api.enums.v1.ResetReapplyType.RESET_REAPPLY_TYPE_ALL_ELIGIBLE, [], true],
    ['all eligible but updates', temporal.api.enums.v1.ResetReapplyType.RESET_REAPPLY_TYPE_ALL_ELIGIBLE, [temporal.api.enums.v1.ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE], false],
    ['signals (the default)', temporal.api.enums.v1.ResetReapplyType.RESET_REAPPLY_TYPE_UNSPECIFIED, [], false],
  ] as const)('reset: when %s are to be reapplied, an update accepted after the point is admitted again only if updates are', async (_what, reapplyType, exclude, reapplied) => {
    await h.withWorker(async (tq) => {
      const workflowId = `reset-update-${tq}`;
      const base = await h.client.workflow.start(waiter, { workflowId, taskQueue: tq });
      await waitUntil(() => completedTask(base.firstExecutionRunId, 1) !== undefined);
      expect(await base.executeUpdate(setValue, { args: ['after the point'], updateId: 'u-1' })).toBe('set:after the point');
      const { runId } = await reset(workflowId, base.firstExecutionRunId, completedTask(base.firstExecutionRunId, 1), {
        resetReapplyType: reapplyType,
        resetReapplyExcludeTypes: [...exclude],
      });
      const resetRun = h.client.workflow.getHandle(workflowId, runId!);
      const admitted = historyOf(runId!).filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED);
      expect(admitted).toHaveLength(reapplied ? 1 : 0);
      if (reapplied) {
        expect(admitted[0].workflowExecutionUpdateAdmittedEventAttributes).toMatchObject({
          request: { meta: { updateId: 'u-1' } },
          origin: temporal.api.enums.v1.UpdateAdmittedEventOrigin.UPDATE_ADMITTED_EVENT_ORIGIN_REAPPLY,
        });
        // The new run's worker runs the handler again; its outcome is the update's, by id.
        expect(await h.client.workflow.getHandle(workflowId).getUpdateHandle<string>('u-1').result()).toBe('set:after the point');
        expect(await resetRun.query(state)).toBe('after the point');
      } else {
        // The new run's own first task, after the failed one the reset left.
        await waitUntil(() => completedTask(runId!, 1) !== undefined);
        expect(await resetRun.query(state)).toBe('initial');
      }
      await resetRun.terminate('done');
    });
  });

  test('reset: when the reset point is not the end of a workflow task, it fails with INVALID_ARGUMENT and creates no run', async () => {
    await h.withWorker(async (tq) => {
      const workflowId = `reset-bad-${tq}`;
      const { base } = await finishedRun(workflowId, tq);
      const runs = h.server.engine.runs.size;
      const last = historyOf(base.firstExecutionRunId).length;
      for (const finishId of [0, 1, 2, last + 1, completedTask(base.firstExecutionRunId, 1) + 1]) {
        const err = await reset(workflowId, base.firstExecutionRunId, finishId).catch((e: unknown) => e);
        expect([finishId, (err as { code?: number }).code]).toEqual([finishId, status.INVALID_ARGUMENT]);
      }
      const missing = await reset('no-such-workflow', '', 4).catch((e: unknown) => e);
      expect((missing as { code?: number }).code).toBe(status.NOT_FOUND);
      expect(h.server.engine.runs.size).toBe(runs);
    });
  });
});

describe('reset points', () => {
  test('reset: when a child started before the reset point is still open there, it fails with FAILED_PRECONDITION', async () => {
    await h.withWorker(async (tq) => {
      const workflowId = `reset-child-${tq}`;
      const base = await h.client.workflow.start(abandonsChild, { workflowId, taskQueue: tq, args: [`reset-child-of-${tq}`, 'ABANDON'] });
      expect(await base.result()).toBe('parent done');
      const runs = h.server.engine.runs.size;
      // The second task saw the child started; the abandoned child still runs.
      const err = await reset(workflowId, base.firstExecutionRunId, completedTask(base.firstExecutionRunId, 2)).catch((e: unknown) => e);
      expect((err as { code?: number }).code).toBe(status.FAILED_PRECONDITION);
      expect(h.server.engine.runs.size).toBe(runs);
      await h.client.workflow.getHandle(`reset-child-of-${tq}`).terminate('test done');
    });
  });
});

async function waitUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(done()).toBe(true);
}
