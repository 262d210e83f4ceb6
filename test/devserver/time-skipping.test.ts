import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection, InternalConnectionOptionsSymbol, type InternalConnectionOptions } from '@temporalio/client/lib/connection';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { startDevServer } from '../../devserver';
import { long, timestampMs } from '../../devserver/proto';
import * as activities from './activities';
import { greet, raceActivityAndTimer, retriesInSkippedTime, sleeper, slaWatch, unblock, type EnvActivities } from './workflows';

const executable = path.resolve(__dirname, '../../bin/clearway-devserver');
const workflowsPath = path.join(__dirname, 'workflows.ts');
const DAY = 24 * 3600_000;
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: executable } } });
});
afterAll(async () => {
  // Every history this suite produced must replay.
  const ids = ['ts-sleep', 'ts-sla', 'ts-sla-2', 'ts-act', 'ts-race-activity', 'ts-race-timer', 'ts-race-real', 'ts-retry'];
  const histories = await Promise.all(ids.map(async (workflowId) => ({ workflowId, history: await env.client.workflow.getHandle(workflowId).fetchHistory() })));
  let replayed = 0;
  for await (const r of Worker.runReplayHistories({ workflowsPath, replayName: 'time-skipping' }, histories)) {
    expect(r.error).toBeUndefined();
    replayed++;
  }
  expect(replayed).toBe(ids.length);
  await env?.teardown();
});

test('time skipping: when a workflow sleeps a day, the result comes back and virtual time has moved a day', async () => {
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'ts-1', workflowsPath, activities });
  const before = await env.currentTimeMs();
  const result = await worker.runUntil(env.client.workflow.execute(sleeper, { taskQueue: 'ts-1', workflowId: 'ts-sleep', args: [DAY] }));
  expect(result).toBe('slept');
  expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(DAY);
});

test('time skipping: when nobody decides within a 48-hour SLA, the workflow reports expiry', async () => {
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'ts-2', workflowsPath, activities });
  expect(await worker.runUntil(env.client.workflow.execute(slaWatch, { taskQueue: 'ts-2', workflowId: 'ts-sla' }))).toBe('expired');
});

test('time skipping: when a decision arrives after env.sleep of a day, it beats the 48-hour SLA', async () => {
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'ts-3', workflowsPath, activities });
  const result = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(slaWatch, { taskQueue: 'ts-3', workflowId: 'ts-sla-2' });
    const before = await env.currentTimeMs();
    await env.sleep(DAY);
    expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(DAY);
    await handle.signal(unblock, 'approve');
    return handle.result();
  });
  expect(result).toBe('decided:approve');
});

test('time skipping: when a workflow runs an activity, time does not jump while the activity runs', async () => {
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'ts-4', workflowsPath, activities });
  expect(await worker.runUntil(env.client.workflow.execute(greet, { taskQueue: 'ts-4', workflowId: 'ts-act', args: ['t'] }))).toBe('hello t');
});

test('time skipping: when an activity calls env.sleep, time skips while it sleeps and the earlier of it and a timer wins', async () => {
  // The SDK's documented pattern ("TestEnvironment sleep can be used to delay activity completion").
  const envActivities: EnvActivities = { envSleep: (ms) => env.sleep(ms) };
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'ts-5', workflowsPath, activities: { ...activities, ...envActivities } });
  const before = await env.currentTimeMs();
  const [activityWins, timerWins] = await worker.runUntil(async () => [
    await env.client.workflow.execute(raceActivityAndTimer, { taskQueue: 'ts-5', workflowId: 'ts-race-activity', args: [1.5 * DAY, 'envSleep', DAY] }),
    await env.client.workflow.execute(raceActivityAndTimer, { taskQueue: 'ts-5', workflowId: 'ts-race-timer', args: [DAY, 'envSleep', 1.5 * DAY] }),
  ]);
  expect([activityWins, timerWins]).toEqual(['activity', 'timer']);
  expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(2.5 * DAY);
});

test('time skipping: when an activity runs for a second of real time, an hour-long timer racing it does not fire first', async () => {
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'ts-6', workflowsPath, activities });
  const winner = await worker.runUntil(env.client.workflow.execute(raceActivityAndTimer, { taskQueue: 'ts-6', workflowId: 'ts-race-real', args: [3600_000, 'slow', 1000] }));
  expect(winner).toBe('activity');
});

test('time skipping: when an activity keeps failing, each retry waits out its backoff in virtual time', async () => {
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'ts-7', workflowsPath, activities });
  const before = await env.currentTimeMs();
  const result = await worker.runUntil(env.client.workflow.execute(retriesInSkippedTime, { taskQueue: 'ts-7', workflowId: 'ts-retry', args: [4] }));
  expect(result).toBe('failed: attempt 4 failed');
  // Backoffs of 1, 2 and 4 hours between the four attempts.
  expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(7 * 3600_000);
});

test('time skipping: when a client unlocks time skipping that nothing holds locked, the call is refused', async () => {
  const testService = env.connection.testService!;
  await testService.unlockTimeSkipping({});
  try {
    await expect(testService.unlockTimeSkipping({})).rejects.toMatchObject({ code: 9, details: expect.stringMatching(/unbalanced UnlockTimeSkipping/) });
  } finally {
    await testService.lockTimeSkipping({});
  }
});

test('time skipping on a durable store: after a restart the clock goes on from the latest recorded event, not back at wall-clock time', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-skip-store-'));
  const dbFilename = path.join(dir, 'temporal.db');
  const open = async () => {
    const server = await startDevServer({ port: 0, timeSkipping: true, dbFilename, logLevel: 'silent' });
    // As TestWorkflowEnvironment connects: with the SDK's TestService client.
    const options: InternalConnectionOptions = { address: server.address, [InternalConnectionOptionsSymbol]: { supportsTestService: true } };
    const connection = await Connection.connect(options);
    return { server, connection, now: async () => timestampMs((await connection.testService!.getCurrentTime({})).time) };
  };
  const first = await open();
  try {
    const wall = Date.now();
    await first.connection.testService!.unlockTimeSkippingWithSleep({ duration: { seconds: long(2 * 24 * 3600) } });
    expect((await first.now()) - wall).toBeGreaterThanOrEqual(2 * DAY);
    await first.connection.workflowService.startWorkflowExecution({
      namespace: 'default', workflowId: 'ts-store', workflowType: { name: 'sleeper' }, taskQueue: { name: 'ts-store' }, requestId: 'ts-store',
    });
  } finally {
    await first.connection.close();
    await first.server.stop();
  }
  const second = await open();
  try {
    const svc = second.connection.workflowService;
    const started = timestampMs((await svc.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: 'ts-store' } })).history!.events![0].eventTime);
    expect(started - Date.now()).toBeGreaterThan(DAY);
    expect(await second.now()).toBeGreaterThanOrEqual(started);
    await svc.terminateWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId: 'ts-store' }, reason: 'done' });
    const times = (await svc.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: 'ts-store' } })).history!.events!.map((e) => timestampMs(e.eventTime));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  } finally {
    await second.connection.close();
    await second.server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
