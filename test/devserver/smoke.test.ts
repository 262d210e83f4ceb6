import { replayAll, startHarness, type Harness } from './harness';
import { echo, greet } from './workflows';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await replayAll(h);
  await h.close();
});

test('start: when a one-task workflow runs on a worker, the client receives its result', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  const result = await worker.runUntil(h.client.workflow.execute(echo, { taskQueue: tq, workflowId: 'echo-1', args: ['hi'] }));
  expect(result).toBe('hi');
});

test('activities: when a workflow calls an activity, its result reaches the workflow', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  const result = await worker.runUntil(h.client.workflow.execute(greet, { taskQueue: tq, workflowId: 'greet-1', args: ['ann'] }));
  expect(result).toBe('hello ann');
});
