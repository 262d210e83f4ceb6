import { temporal } from '@temporalio/proto';
import { suiteHarness } from './harness';
import { abandonsChild, cancelsOther, childAlreadyRunning, parent, signalsOther, waiter } from './workflows';

const EventType = temporal.api.enums.v1.EventType;
const h = suiteHarness();

const runOf = (workflowId: string) => [...h.server.engine.runs.values()].filter((x) => x.workflowId === workflowId).at(-1)!;

async function waitUntil(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(cond()).toBe(true);
}

test('child: when a parent runs a child to completion, the parent gets its result and the child knows its parent', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  expect(await worker.runUntil(h.client.workflow.execute(parent, { taskQueue: tq, workflowId: 'parent-ok', args: ['child-ok', 'ok'] }))).toBe('from child');
  const child = runOf('child-ok');
  expect(child.start.parentWorkflowExecution?.workflowId).toBe('parent-ok');
  const types = runOf('parent-ok').events.map((e) => e.eventType);
  expect(types).toEqual(expect.arrayContaining([
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
  ]));
});

test('child: when the child fails, the parent gets a ChildWorkflowFailure with the cause', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  expect(await worker.runUntil(h.client.workflow.execute(parent, { taskQueue: tq, workflowId: 'parent-fail', args: ['child-fail', 'fail'] }))).toBe(
    'child failed: child broke',
  );
});

test('child: when the child id is taken by a running workflow, the start fails with already started', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  await worker.runUntil(async () => {
    const squatter = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'child-taken' });
    expect(await h.client.workflow.execute(childAlreadyRunning, { taskQueue: tq, workflowId: 'parent-taken', args: ['child-taken'] })).toBe('already started');
    await squatter.terminate('cleanup');
  });
  expect(runOf('parent-taken').events.map((e) => e.eventType)).toContain(EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED);
});

test.each([
  ['TERMINATE', 'terminated'],
  ['REQUEST_CANCEL', 'completed'],
  ['ABANDON', 'running'],
] as const)('parent close policy: when the parent completes under %s, the open child ends %s', async (policy, expected) => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  const childId = `child-policy-${policy}`;
  await worker.runUntil(async () => {
    await h.client.workflow.execute(abandonsChild, { taskQueue: tq, workflowId: `parent-policy-${policy}`, args: [childId, policy] });
    if (expected !== 'running') await waitUntil(() => runOf(childId).state !== 'running');
  });
  expect(runOf(childId).state).toBe(expected);
  if (expected === 'running') await h.client.workflow.getHandle(childId).terminate('cleanup');
});

test('external signal: when a workflow signals another by id, the target receives it', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  await worker.runUntil(async () => {
    const target = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'ext-target' });
    expect(await h.client.workflow.execute(signalsOther, { taskQueue: tq, workflowId: 'ext-signaller', args: ['ext-target'] })).toBe('signalled');
    expect(await target.result()).toBe('initial/from a workflow');
  });
});

test('external signal: when the target does not exist, the signalling workflow sees the failure', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  const result = await worker.runUntil(h.client.workflow.execute(signalsOther, { taskQueue: tq, workflowId: 'ext-missing', args: ['no-such-workflow'] }));
  expect(result).toMatch(/^failed/);
  expect(runOf('ext-missing').events.map((e) => e.eventType)).toContain(EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED);
});

test('external cancel: when a workflow cancels another by id, the target is cancelled', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  await worker.runUntil(async () => {
    const target = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'ext-cancel-target' });
    expect(await h.client.workflow.execute(cancelsOther, { taskQueue: tq, workflowId: 'ext-canceller', args: ['ext-cancel-target'] })).toBe('cancel requested');
    await target.result().catch(() => undefined);
  });
  expect(runOf('ext-cancel-target').state).toBe('canceled');
});
