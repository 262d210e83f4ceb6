import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection, ScheduleOverlapPolicy, type ScheduleHandle } from '@temporalio/client';
import { InternalConnectionOptionsSymbol, type InternalConnectionOptions } from '@temporalio/client/lib/connection';
import { long, temporal } from '../../devserver/proto';
import { startHarness, type Harness } from './harness';
import { chained, completesOnSignal, echo, failing, unblock } from './workflows';

const HOUR = 3_600_000;
const calendarDefaults = {
  second: [{ start: 0, end: 0, step: 1 }],
  minute: [{ start: 0, end: 0, step: 1 }],
  hour: [{ start: 0, end: 0, step: 1 }],
  dayOfMonth: [{ start: 1, end: 31, step: 1 }],
  month: [{ start: 'JANUARY', end: 'DECEMBER', step: 1 }],
  dayOfWeek: [{ start: 'SUNDAY', end: 'SATURDAY', step: 1 }],
  year: [],
  comment: '',
};
let seq = 0;
const id = (what: string) => `${what}-${process.pid}-${++seq}`;

async function until<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await read();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  return read();
}

describe('schedules (real time)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ searchAttributes: { CustomKeywordField: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('create: specs come back in the canonical form a real server gives (defaults, cron compiled)', async () => {
    const handle = await h.client.schedule.create({
      scheduleId: id('canonical'),
      spec: { calendars: [{ hour: { start: 2, end: 7, step: 1 } }], cronExpressions: ['0 12 * * MON-WED,FRI'], intervals: [{ every: '1h', offset: '5m' }] },
      action: { type: 'startWorkflow', workflowType: echo, args: ['x'], taskQueue: 'nowhere', memo: { note: 'm' } },
      memo: { owner: 'ops' },
    });
    const d = await handle.describe();
    expect(d.spec.calendars).toEqual([
      { ...calendarDefaults, hour: [{ start: 2, end: 7, step: 1 }] },
      {
        ...calendarDefaults,
        hour: [{ start: 12, end: 12, step: 1 }],
        dayOfWeek: [
          { start: 'MONDAY', end: 'WEDNESDAY', step: 1 },
          { start: 'FRIDAY', end: 'FRIDAY', step: 1 },
        ],
      },
    ]);
    expect(d.spec.intervals).toEqual([{ every: HOUR, offset: 5 * 60_000 }]);
    expect(d.action).toMatchObject({ type: 'startWorkflow', workflowType: 'echo', args: ['x'], memo: { note: 'm' } });
    expect(d.memo).toEqual({ owner: 'ops' });
    expect(d.state).toMatchObject({ paused: false });
    // The next times follow the spec: the interval's hh:05 and the calendar's hours, in order.
    expect(d.info.nextActionTimes.length).toBe(10);
    const times = d.info.nextActionTimes.map((t) => t.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times.every((t) => t % HOUR === 5 * 60_000 || t % HOUR === 0)).toBe(true);
    await handle.delete();
  });

  it('create: the same id twice is ALREADY_EXISTS; a missing schedule is NOT_FOUND; a stale conflict token FAILED_PRECONDITION', async () => {
    const scheduleId = id('twice');
    const options = { scheduleId, spec: {}, action: { type: 'startWorkflow' as const, workflowType: echo, args: ['x'] as [string], taskQueue: 'nowhere' } };
    const handle = await h.client.schedule.create(options);
    await expect(h.client.schedule.create(options)).rejects.toMatchObject({ name: 'ScheduleAlreadyRunning' });
    const svc = h.connection.workflowService;
    await expect(svc.describeSchedule({ namespace: 'default', scheduleId: 'no-such-schedule' })).rejects.toMatchObject({ code: 5 });
    await expect(
      svc.updateSchedule({ namespace: 'default', scheduleId, schedule: (await handle.describe()).raw.schedule, conflictToken: Buffer.from('stale') }),
    ).rejects.toMatchObject({ code: 9, details: 'mismatched conflict token' });
    await handle.delete();
    await expect(handle.describe()).rejects.toMatchObject({ name: 'ScheduleNotFoundError' });
  });

  it('create: a spec out of range is INVALID_ARGUMENT and nothing is created', async () => {
    const svc = h.connection.workflowService;
    const scheduleId = id('bad');
    const schedule = {
      spec: { cronString: ['0 42 * * *'] },
      action: { startWorkflow: { workflowId: 'w', workflowType: { name: 'echo' }, taskQueue: { name: 'q' } } },
    };
    await expect(svc.createSchedule({ namespace: 'default', scheduleId, schedule, requestId: 'r1' })).rejects.toMatchObject({ code: 3 });
    await expect(svc.describeSchedule({ namespace: 'default', scheduleId })).rejects.toMatchObject({ code: 5 });
  });

  it('pause, unpause, update and search attributes: each shows in describe, and list filters by query', async () => {
    const scheduleId = id('edit');
    const handle = await h.client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '5h' }] },
      action: { type: 'startWorkflow', workflowType: echo, args: ['a'], taskQueue: 'nowhere' },
      searchAttributes: { CustomKeywordField: ['blue'] },
    });
    await handle.pause('maintenance');
    expect((await handle.describe()).state).toMatchObject({ paused: true, note: 'maintenance' });
    expect((await handle.describe()).info.nextActionTimes).toEqual([]);
    await handle.unpause('back');
    expect((await handle.describe()).state).toMatchObject({ paused: false, note: 'back' });
    await handle.update((x) => ({ ...x, spec: { intervals: [{ every: '3h' }] }, searchAttributes: { CustomKeywordField: ['green'] } }));
    const d = await handle.describe();
    expect(d.spec.intervals).toEqual([{ every: 3 * HOUR }]);
    expect(d.action).toMatchObject({ args: ['a'] });
    expect(d.searchAttributes).toEqual({ CustomKeywordField: ['green'] });
    const listed = async (query: string) => {
      const ids: string[] = [];
      for await (const s of h.client.schedule.list({ query })) ids.push(s.scheduleId);
      return ids;
    };
    expect(await listed('CustomKeywordField = "green"')).toEqual([scheduleId]);
    expect(await listed('CustomKeywordField = "blue"')).toEqual([]);
    await handle.pause();
    expect(await listed(`TemporalSchedulePaused = true`)).toContain(scheduleId);
    await handle.delete();
  });

  it('list: pages through every schedule of the namespace', async () => {
    const group = id('page');
    const handles: ScheduleHandle[] = [];
    for (let i = 0; i < 13; i++) {
      handles.push(
        await h.client.schedule.create({
          scheduleId: `${group}-${String(i).padStart(2, '0')}`,
          spec: {},
          action: { type: 'startWorkflow', workflowType: echo, args: ['x'], taskQueue: 'nowhere' },
        }),
      );
    }
    const seen: string[] = [];
    for await (const s of h.client.schedule.list({ pageSize: 5 })) if (s.scheduleId.startsWith(group)) seen.push(s.scheduleId);
    expect(seen).toEqual(handles.map((x) => x.scheduleId));
    for (const x of handles) await x.delete();
  });

  it('trigger: starts the workflow now, with the scheduled-by attribute; a second trigger is skipped while it runs', async () => {
    await h.withWorker(async (taskQueue) => {
      const handle = await h.client.schedule.create({
        scheduleId: id('trigger'),
        spec: {},
        action: { type: 'startWorkflow', workflowType: completesOnSignal, workflowId: id('triggered'), taskQueue },
      });
      await handle.trigger(ScheduleOverlapPolicy.SKIP);
      const first = await until(() => handle.describe(), (d) => d.info.runningActions.length === 1);
      const started = first.info.runningActions[0].workflow;
      expect(started.workflowId).toMatch(/^triggered-.*-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const wf = h.client.workflow.getHandle(started.workflowId);
      expect((await wf.describe()).searchAttributes).toMatchObject({ TemporalScheduledById: [handle.scheduleId] });
      await handle.trigger(ScheduleOverlapPolicy.SKIP);
      expect((await handle.describe()).info).toMatchObject({ numActionsSkippedOverlap: 1, numActionsTaken: 1 });
      await wf.signal(unblock, 'go');
      await wf.result();
      const done = await until(() => handle.describe(), (d) => d.info.runningActions.length === 0);
      expect(done.info.recentActions).toHaveLength(1);
      await handle.delete();
    });
  });

  it('pause on failure: when a workflow it started fails, the schedule pauses itself and says why', async () => {
    await h.withWorker(async (taskQueue) => {
      const handle = await h.client.schedule.create({
        scheduleId: id('fragile'),
        spec: { intervals: [{ every: '1h' }] },
        policies: { pauseOnFailure: true },
        action: { type: 'startWorkflow', workflowType: failing, args: ['broken on purpose'], workflowId: id('fragile-wf'), taskQueue },
      });
      await handle.trigger();
      const paused = await until(() => handle.describe(), (d) => d.state.paused);
      expect(paused.state.note).toMatch(/^paused due to workflow failure: fragile-wf-/);
      expect(paused.info.nextActionTimes).toEqual([]);
      await handle.delete();
    });
  });

  it('last result: each start gets the last completion result and any failure since; overlapping starts get neither', async () => {
    await h.withWorker(async (taskQueue) => {
      const handle = await h.client.schedule.create({
        scheduleId: id('chain'),
        spec: {},
        action: { type: 'startWorkflow', workflowType: chained, workflowId: id('chained'), taskQueue },
      });
      const outcomes: (number | string)[] = [];
      const run = async (overlap: ScheduleOverlapPolicy) => {
        const taken = (await handle.describe()).info.numActionsTaken;
        await handle.trigger(overlap);
        const d = await until(() => handle.describe(), (v) => v.info.numActionsTaken === taken + 1);
        const started = d.info.recentActions.at(-1)!.action.workflow.workflowId;
        const failed = (e: Error) => (e.cause instanceof Error ? e.cause.message : e.message);
        outcomes.push(await h.client.workflow.getHandle(started).result().catch(failed));
        // The next start's id carries another second.
        await new Promise((r) => setTimeout(r, 1100));
      };
      for (let i = 0; i < 4; i++) await run(ScheduleOverlapPolicy.SKIP);
      await run(ScheduleOverlapPolicy.ALLOW_ALL);
      expect(outcomes).toEqual([1, 2, 'the third run fails', 12, 1]);
      await handle.delete();
    });
  });

  it('buffer one: an action that overlaps waits for the running workflow, then starts', async () => {
    await h.withWorker(async (taskQueue) => {
      const handle = await h.client.schedule.create({
        scheduleId: id('buffer'),
        spec: {},
        policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE },
        action: { type: 'startWorkflow', workflowType: completesOnSignal, workflowId: id('buffered'), taskQueue },
      });
      // A trigger from the SDK allows overlap unless told otherwise.
      const trigger = () => handle.trigger(ScheduleOverlapPolicy.BUFFER_ONE);
      await trigger();
      const first = (await until(() => handle.describe(), (d) => d.info.runningActions.length === 1)).info.runningActions[0].workflow;
      await new Promise((r) => setTimeout(r, 1100)); // the second action's id carries another second
      await trigger();
      await trigger();
      const waiting = await handle.describe();
      expect(waiting.info).toMatchObject({ numActionsTaken: 1 });
      expect(Number(waiting.raw.info?.bufferSize)).toBe(1);
      expect(Number(waiting.raw.info?.bufferDropped)).toBe(1);
      await h.client.workflow.getHandle(first.workflowId).signal(unblock, 'go');
      const next = await until(
        () => handle.describe(),
        (d) => d.info.runningActions.length === 1 && d.info.runningActions[0].workflow.workflowId !== first.workflowId,
      );
      expect(next.info).toMatchObject({ numActionsTaken: 2 });
      await h.client.workflow.getHandle(next.info.runningActions[0].workflow.workflowId).signal(unblock, 'go');
      await handle.delete();
    });
  });

  it('backfill: starts one workflow per time the spec names in the range, allowing overlap when asked', async () => {
    await h.withWorker(async (taskQueue) => {
      const handle = await h.client.schedule.create({
        scheduleId: id('backfill'),
        spec: { intervals: [{ every: '1h' }] },
        action: { type: 'startWorkflow', workflowType: echo, args: ['b'], workflowId: id('filled'), taskQueue },
      });
      const start = new Date(Date.UTC(2026, 0, 1, 0, 30));
      await handle.backfill({ start, end: new Date(start.getTime() + 3 * HOUR), overlap: ScheduleOverlapPolicy.ALLOW_ALL });
      const d = await handle.describe();
      expect(d.info.numActionsTaken).toBe(3);
      expect(d.info.recentActions.map((a) => a.scheduledAt.toISOString())).toEqual([
        '2026-01-01T01:00:00.000Z',
        '2026-01-01T02:00:00.000Z',
        '2026-01-01T03:00:00.000Z',
      ]);
      for (const a of d.info.recentActions) expect(await h.client.workflow.getHandle(a.action.workflow.workflowId).result()).toBe('b');
      await handle.delete();
    });
  });

  it('backfill: a range naming more than 10,000 times is INVALID_ARGUMENT and starts nothing', async () => {
    const handle = await h.client.schedule.create({
      scheduleId: id('huge-backfill'),
      spec: { intervals: [{ every: '1s' }] },
      action: { type: 'startWorkflow', workflowType: echo, args: ['x'], taskQueue: 'nowhere' },
    });
    const start = new Date(Date.UTC(2026, 0, 1));
    const refused = await handle.backfill({ start, end: new Date(start.getTime() + 24 * HOUR) }).catch((err: Error) => err);
    expect(refused).toMatchObject({ name: 'ServiceError', cause: { code: 3, details: expect.stringMatching(/at most 10000 times/) } });
    expect((await handle.describe()).info.numActionsTaken).toBe(0);
    await handle.delete();
  });

  it('matching times: lists the times the spec names in a range', async () => {
    const scheduleId = id('matching');
    const handle = await h.client.schedule.create({
      scheduleId,
      spec: { calendars: [{ hour: [9, 17], dayOfWeek: 'MONDAY' }] },
      action: { type: 'startWorkflow', workflowType: echo, args: ['x'], taskQueue: 'nowhere' },
    });
    const res = await h.connection.workflowService.listScheduleMatchingTimes({
      namespace: 'default',
      scheduleId,
      startTime: { seconds: long(Date.UTC(2026, 10, 30) / 1000) },
      endTime: { seconds: long(Date.UTC(2026, 11, 8) / 1000) },
    });
    expect(res.startTime.map((t) => new Date(Number(t.seconds) * 1000).toISOString())).toEqual([
      '2026-11-30T09:00:00.000Z',
      '2026-11-30T17:00:00.000Z',
      '2026-12-07T09:00:00.000Z',
      '2026-12-07T17:00:00.000Z',
    ]);
    await handle.delete();
  });
});

describe('schedules (time skipping)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ timeSkipping: true });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('interval: as time passes, the schedule starts a workflow at each time, and describe counts them', async () => {
    await h.withWorker(async (taskQueue) => {
      const handle = await h.client.schedule.create({
        scheduleId: id('hourly'),
        spec: { intervals: [{ every: '1h' }] },
        action: { type: 'startWorkflow', workflowType: echo, args: ['tick'], workflowId: id('tick'), taskQueue },
      });
      // As TestWorkflowEnvironment connects: with the SDK's TestService client.
      const options: InternalConnectionOptions = { address: h.server.address, [InternalConnectionOptionsSymbol]: { supportsTestService: true } };
      const testing = await Connection.connect(options);
      // To half past the third full hour from now: exactly three hourly times pass, whatever minute this runs in.
      const { time } = await testing.testService!.getCurrentTime({});
      const now = Number(time!.seconds) * 1000 + Math.floor((time!.nanos ?? 0) / 1e6);
      const target = Math.ceil(now / HOUR) * HOUR + 2.5 * HOUR;
      await testing.testService!.unlockTimeSkippingWithSleep({ duration: { seconds: long(Math.ceil((target - now) / 1000)) } });
      await testing.close();
      const d = await until(() => handle.describe(), (x) => x.info.numActionsTaken === 3 && x.info.runningActions.length === 0);
      expect(d.info.numActionsTaken).toBe(3);
      const times = d.info.recentActions.map((a) => a.scheduledAt.getTime());
      expect(times.every((t) => t % HOUR === 0)).toBe(true);
      for (const a of d.info.recentActions) expect(await h.client.workflow.getHandle(a.action.workflow.workflowId).result()).toBe('tick');
      await handle.delete();
    });
  });
});

describe('schedules (durable)', () => {
  it('restart: times missed while the server was down fire once it is back; a pause and the counts survive it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-schedules-'));
    const dbFilename = path.join(dir, 'server.db');
    const scheduleId = id('durable');
    let h = await startHarness({ dbFilename });
    const describe = () => h.client.schedule.getHandle(scheduleId).describe();
    try {
      await h.client.schedule.create({
        scheduleId,
        spec: { intervals: [{ every: '1s' }] },
        action: { type: 'startWorkflow', workflowType: echo, args: ['d'], workflowId: id('durable-wf'), taskQueue: 'durable-q' },
        policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL },
      });
      await until(describe, (d) => d.info.numActionsTaken >= 1);
      const downAt = Date.now();
      await h.close();
      await new Promise((r) => setTimeout(r, 1500));
      const upAt = Date.now();
      h = await startHarness({ dbFilename });
      const missedWhileDown = (d: Awaited<ReturnType<typeof describe>>) =>
        d.info.recentActions.filter((a) => a.scheduledAt.getTime() > downAt && a.scheduledAt.getTime() < upAt);
      expect(missedWhileDown(await until(describe, (d) => missedWhileDown(d).length > 0)).length).toBeGreaterThan(0);

      await h.client.schedule.getHandle(scheduleId).pause('before restart');
      const before = (await describe()).info;
      await h.close();
      h = await startHarness({ dbFilename });
      const after = await describe();
      expect(after.state).toMatchObject({ paused: true, note: 'before restart' });
      expect(after.info.numActionsTaken).toBe(before.numActionsTaken);
      expect(after.info.recentActions).toEqual(before.recentActions);
      await h.client.schedule.getHandle(scheduleId).unpause();
      const resumed = await until(describe, (d) => d.info.numActionsTaken > before.numActionsTaken);
      expect(resumed.info.numActionsTaken).toBeGreaterThan(before.numActionsTaken);
      await h.client.schedule.getHandle(scheduleId).delete();
    } finally {
      await h.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
