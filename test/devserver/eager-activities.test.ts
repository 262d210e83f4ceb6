// Eager activity dispatch: with `system.enableActivityEagerExecution` on (as the SDK's test environments start a
// server), a workflow task completion hands back the activities the worker asked to run at once; off by default, as
// on a real server.
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../../devserver';
import { long } from '../../devserver/proto';
import { suiteHarness } from './harness';
import { whoRanActivities } from './workflows';

const CommandType = temporal.api.enums.v1.CommandType;

async function completeWithEagerActivity(server: DevServer, workflowId: string) {
  const connection = await Connection.connect({ address: server.address });
  try {
    const svc = connection.workflowService;
    const tq = `eager-raw-${workflowId}`;
    await svc.startWorkflowExecution({ namespace: 'default', workflowId, workflowType: { name: 'raw' }, taskQueue: { name: tq }, requestId: workflowId });
    const task = await svc.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: tq, kind: 1 }, identity: 'raw-worker' });
    const res: temporal.api.workflowservice.v1.IRespondWorkflowTaskCompletedResponse = await svc.respondWorkflowTaskCompleted({
      namespace: 'default',
      taskToken: task.taskToken,
      identity: 'raw-worker',
      commands: [
        {
          commandType: CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
          scheduleActivityTaskCommandAttributes: {
            activityId: '1',
            activityType: { name: 'work' },
            taskQueue: { name: tq },
            startToCloseTimeout: { seconds: long(10) },
            requestEagerExecution: true,
          },
        },
      ],
    });
    const described = await svc.describeWorkflowExecution({ namespace: 'default', execution: { workflowId } });
    return { res, pending: described.pendingActivities ?? [] };
  } finally {
    await connection.close();
  }
}

test('raw: with eager execution on, the completion returns the started activity task; off, it returns none', async () => {
  const on = await startDevServer({ port: 0, logLevel: 'silent', dynamicConfig: { 'system.enableActivityEagerExecution': true } });
  const off = await startDevServer({ port: 0, logLevel: 'silent' });
  try {
    const eager = await completeWithEagerActivity(on, 'eager-on');
    expect(eager.res.activityTasks).toHaveLength(1);
    expect(eager.res.activityTasks![0]).toMatchObject({ activityId: '1', attempt: 1, activityType: { name: 'work' } });
    expect(eager.pending.map((p) => p.state)).toEqual([temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED]);
    const plain = await completeWithEagerActivity(off, 'eager-off');
    expect(plain.res.activityTasks ?? []).toEqual([]);
    expect(plain.pending.map((p) => p.state)).toEqual([temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED]);
  } finally {
    await on.stop();
    await off.stop();
  }
});

describe('with the SDK', () => {
  const h = suiteHarness({ dynamicConfig: { 'system.enableActivityEagerExecution': true } });

  test('the workflow’s worker runs every activity it asked for eagerly, though another worker polls the same queue', async () => {
    const tq = h.taskQueue();
    // An activity-only worker competes for the queue; without eager dispatch it would take about half.
    const activityOnly = await h.worker(tq, { workflowBundle: undefined, activities: { whoAmI: async () => 'activity-only' } });
    const own = await NativeConnection.connect({ address: h.server.address });
    try {
      const workflowWorker = await h.worker(tq, { connection: own, activities: { whoAmI: async () => 'workflow-worker' } });
      const ran = await activityOnly.runUntil(
        workflowWorker.runUntil(h.client.workflow.execute(whoRanActivities, { taskQueue: tq, workflowId: 'eager-sdk', args: [20] })),
      );
      expect(ran).toEqual(Array(20).fill('workflow-worker'));
    } finally {
      await own.close();
    }
  });
});
