import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { defaultPayloadConverter } from '@temporalio/common';
import request from 'supertest';
import { createRolloutActivities, type RollbackRunner } from '../../activities/rollout';
import { buildApp } from '../../api/app';
import { reviewRoutes } from '../../api/routes/reviews';
import { rolloutRoutes } from '../../api/routes/rollouts';
import { addUser } from '../../cli/users';
import type { Actor } from '../../domain/actor';
import type { Measurement } from '../../domain/gate';
import { RolloutPlan, type RolloutPlanInput } from '../../domain/rollout-plan';
import {
  advanceRollout,
  closeStewardshipReview,
  evaluateRollout,
  holdRollout,
  measure,
  resumeRollout,
  reviewInfo,
  rollbackRollout,
  rollout,
  rolloutView,
  rolloutWorkflowId,
  reviewSettled,
  type RolloutStart,
} from '../../workflows/rollout';
import { backends, createTestDatabase, silentLog, type TestDb } from '../helpers/db';
import { afterUpdate, resetTo, whenHolds } from '../helpers/reset';

const H = 3_600_000;
const executable = path.resolve(__dirname, '../../bin/clearway-devserver');
const people = {
  lena: { id: 'lena', roles: ['rollout-lead'] },
  carl: { id: 'carl', roles: ['ccb-chair'] },
  dora: { id: 'dora', roles: ['data-steward'] },
} as const satisfies Record<string, Actor>;

const criteria: RolloutPlanInput['phases'][number]['exitCriteria'] = [
  { metric: 'declaration-error-rate', comparator: '<=', threshold: 2, window: 'P7D', minimumSample: 100 },
  { metric: 'stress-test-passed', comparator: '==', threshold: 1, window: 'P30D', aggregate: 'latest' },
];
const basePlan: RolloutPlanInput = {
  phases: [
    {
      name: 'pilot',
      cohort: { sites: ['rotterdam-1'] },
      minimumSoak: 'P1D',
      exitCriteria: criteria,
      rollback: [{ name: 'route pilot to legacy', action: 'switch-routing', target: 'legacy-gateway' }],
    },
    {
      name: 'full',
      cohort: { declarationTypes: ['IM', 'EX'] },
      minimumSoak: 'P1D',
      exitCriteria: criteria,
      rollback: [{ name: 'disable v3 client', action: 'disable-integration', target: 'declaration-api-v3' }],
    },
  ],
};

let env: TestWorkflowEnvironment;
let db: TestDb;
let bundle: WorkflowBundle;
let queue = 0;
const started: string[] = [];
const stepsRun: string[] = [];
const failingSteps = new Set<string>();
const runner: RollbackRunner = async (step) => {
  stepsRun.push(step.name);
  if (failingSteps.has(step.name)) throw new Error(`gateway refused ${step.target}`);
  return { outcome: 'done', detail: `ran ${step.action}` };
};

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  [db, env, bundle] = await Promise.all([
    createTestDatabase(backends()[0]),
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: executable } } }),
    bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'workflows.ts'), logger: new DefaultLogger('ERROR') }),
  ]);
});
afterAll(async () => {
  await env?.teardown();
  await db?.close();
});

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type Recorded = { workflowId: string; history: History };
const histories: Recorded[] = [];

/** Every run of a workflow, oldest first, following each run back to the one it continued from. */
async function runsOf(workflowId: string): Promise<History[]> {
  const runs = [await env.client.workflow.getHandle(workflowId).fetchHistory()];
  for (;;) {
    const previous = runs[0].events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!previous) return runs;
    runs.unshift(await env.client.workflow.getHandle(workflowId, previous).fetchHistory());
  }
}

/** What a run of a rollout started with. */
function inputOf(run: History): RolloutStart {
  const payload = run.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return defaultPayloadConverter.fromPayload<RolloutStart>(payload!);
}

// Histories are fetched as each test ends: skipped time adds up and closed runs would leave retention.
async function collectHistories(): Promise<void> {
  const fresh = started.splice(0);
  const reviews = await db.prisma.stewardshipReview.findMany({
    where: { rolloutId: { in: fresh.filter((w) => w.startsWith('rollout-')).map((w) => w.slice('rollout-'.length)) } },
  });
  for (const workflowId of [...fresh, ...reviews.map((r) => r.id)]) {
    for (const history of await runsOf(workflowId)) histories.push({ workflowId, history });
  }
}

async function withWorker<T>(fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `rollout-${process.pid}-${++queue}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: createRolloutActivities({
      prisma: db.prisma,
      log: silentLog,
      clock: () => new Date(),
      rollbackRunner: runner,
      changeRequestStatus: async (id) => (id.startsWith('cr-approved') ? 'approved' : 'under_review'),
    }),
  });
  const result = await worker.runUntil(fn(taskQueue));
  await collectHistories();
  return result;
}

async function start(
  taskQueue: string,
  planInput: RolloutPlanInput = basePlan,
  changeRequestId = 'cr-approved-1',
  historyLimit?: number,
) {
  const id = randomUUID();
  const plan = RolloutPlan.parse(planInput);
  const handle = await env.client.workflow.start(rollout, {
    taskQueue,
    workflowId: rolloutWorkflowId(id),
    args: [{ id, changeRequestId, plan, policyVersion: 'sha256:test', by: 'lena', historyLimit }],
  });
  started.push(handle.workflowId);
  return { id, handle };
}

async function rows(phase: string, errorRate: number, sample = 1000, stress = 1): Promise<Measurement[]> {
  const now = await env.currentTimeMs();
  const window = { windowStart: new Date(now - 2 * H).toISOString(), windowEnd: new Date(now - H).toISOString() };
  return [
    { phase, metric: 'declaration-error-rate', value: errorRate, sampleSize: sample, source: 'gateway', ...window },
    { phase, metric: 'stress-test-passed', value: stress, sampleSize: 1, source: 'qa', ...window },
  ];
}

async function measureAndJudge(handle: WorkflowHandle<typeof rollout>, phase: string, errorRate: number) {
  await handle.signal(measure, { by: 'feed', rows: await rows(phase, errorRate) });
  return handle.executeUpdate(evaluateRollout);
}

async function refusal(
  promise: Promise<unknown>,
): Promise<{ type: string | undefined; message: string; details: unknown }> {
  try {
    await promise;
  } catch (e) {
    if (!(e instanceof WorkflowUpdateFailedError)) throw e;
    const cause = e.cause as { type?: string; message: string; details?: unknown[] };
    return { type: cause.type, message: cause.message, details: cause.details?.[0] };
  }
  throw new Error('expected the update to be refused');
}

async function auditActions(id: string): Promise<string[]> {
  const events = await db.prisma.auditEvent.findMany({ where: { subjectId: id }, orderBy: { id: 'asc' } });
  return events.map((e) => e.action);
}

test('pilot -> full: when every gate passes after its soak, the rollout advances and completes', async () => {
  await withWorker(async (tq) => {
    const { id, handle } = await start(tq);
    expect((await measureAndJudge(handle, 'pilot', 1.2)).status).toBe('pass');
    await env.sleep(25 * H);
    expect((await handle.executeUpdate(advanceRollout, { args: [{ actor: people.lena }] })).phase).toBe('full');
    await measureAndJudge(handle, 'full', 0.8);
    await env.sleep(25 * H);
    expect((await handle.executeUpdate(advanceRollout, { args: [{ actor: people.lena }] })).status).toBe('completed');
    const done = await handle.result();
    expect(done.visits.map((v) => [v.phase, v.leftBecause])).toEqual([
      ['pilot', 'advanced'],
      ['full', 'completed'],
    ]);
    const row = await db.prisma.rollout.findUniqueOrThrow({ where: { id } });
    expect([row.status, row.phase]).toEqual(['completed', 'full']);
    expect(await db.prisma.rolloutPhase.count({ where: { rolloutId: id } })).toBe(2);
    expect(await db.prisma.measurement.count({ where: { rolloutId: id } })).toBe(4);
    expect(await db.prisma.gateEvaluation.count({ where: { rolloutId: id, trigger: 'advance' } })).toBe(2);
    expect(await auditActions(id)).toEqual(['ROLLOUT_STARTED', 'ROLLOUT_ADVANCED', 'ROLLOUT_COMPLETED']);
  });
});

test('refusals: before the soak SOAK_INCOMPLETE, on a failing gate GATE_NOT_MET with the criteria, and the chair overrides', async () => {
  await withWorker(async (tq) => {
    const { id, handle } = await start(tq);
    const early = await refusal(handle.executeUpdate(advanceRollout, { args: [{ actor: people.lena }] }));
    expect(early.type).toBe('SOAK_INCOMPLETE');
    await env.sleep(25 * H);
    await handle.signal(measure, { by: 'feed', rows: await rows('pilot', 1.5, 1000, 0) });
    const gate = await refusal(handle.executeUpdate(advanceRollout, { args: [{ actor: people.lena }] }));
    expect(gate.type).toBe('GATE_NOT_MET');
    expect(gate.message).toContain('stress-test-passed fail (0 does not meet == 1)');
    expect((gate.details as { failing: { metric: string }[] }).failing.map((c) => c.metric)).toEqual([
      'stress-test-passed',
    ]);
    const noReason = await refusal(
      handle.executeUpdate(advanceRollout, { args: [{ actor: people.carl, override: { reason: '' } }] }),
    );
    expect(noReason.type).toBe('VALIDATION_FAILED');
    const notChair = await refusal(
      handle.executeUpdate(advanceRollout, { args: [{ actor: people.lena, override: { reason: 'please' } }] }),
    );
    expect(notChair.type).toBe('ROLE_REQUIRED');
    const overridden = await handle.executeUpdate(advanceRollout, {
      args: [{ actor: people.carl, override: { reason: 'stress rig broken; load test passed on staging' } }],
    });
    expect(overridden.phase).toBe('full');
    const audit = await db.prisma.auditEvent.findFirstOrThrow({
      where: { subjectId: id, action: 'ROLLOUT_OVERRIDDEN' },
    });
    expect(audit.payload).toMatchObject({
      by: 'carl',
      reason: 'stress rig broken; load test passed on staging',
      overrode: ['GATE_NOT_MET'],
    });
    expect(await auditActions(id)).toEqual(['ROLLOUT_STARTED', 'ROLLOUT_ADVANCE_REFUSED', 'ROLLOUT_OVERRIDDEN']);
    await handle.terminate('test over');
  });
});

test('reset: when a rollout is reset to before it advanced, the new run re-projects it in its first phase and audits the reset', async () => {
  await withWorker(async (tq) => {
    const { id, handle } = await start(tq);
    expect((await measureAndJudge(handle, 'pilot', 1.2)).status).toBe('pass');
    await env.sleep(25 * H);
    expect((await handle.executeUpdate(advanceRollout, { args: [{ actor: people.lena }] })).phase).toBe('full');
    expect(await db.prisma.rolloutPhase.count({ where: { rolloutId: id } })).toBe(2);
    const ended = (await handle.describe()).runId;

    const runId = await resetTo(env.client, handle.workflowId, ended, afterUpdate(0));
    const row = await whenHolds(() => db.prisma.rollout.findUniqueOrThrow({ where: { id } }), (r) => r.runId === runId);
    expect(row).toMatchObject({ runId, supersededRuns: [ended], phase: 'pilot', status: 'active' });
    expect((await db.prisma.rolloutPhase.findMany({ where: { rolloutId: id } })).map((v) => [v.name, v.leftAt])).toEqual([['pilot', null]]);
    const reset = await db.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: id, action: 'ROLLOUT_RESET' } });
    expect(reset.payload).toMatchObject({ runId, endedRunId: ended, phase: 'pilot' });
    await env.client.workflow.getHandle(handle.workflowId, runId).terminate('test over');
  });
});

test('error spike: when the error rate passes 2%, a review opens, blocks advancing, escalates after 48 hours and rolls back', async () => {
  await withWorker(async (tq) => {
    const { id, handle } = await start(tq);
    await measureAndJudge(handle, 'pilot', 2.6);
    const [open] = (await handle.query(rolloutView)).openReviews;
    expect(open).toMatchObject({ phase: 'pilot', trigger: { value: 2.6 } });
    expect(Date.parse(open.dueAt) - Date.parse(open.openedAt)).toBe(48 * H);
    await env.sleep(25 * H);
    await measureAndJudge(handle, 'pilot', 1.0);
    const blocked = await refusal(handle.executeUpdate(advanceRollout, { args: [{ actor: people.lena }] }));
    expect(blocked.type).toBe('REVIEW_OPEN');

    await env.sleep(24 * H);
    const review = env.client.workflow.getHandle(open.id);
    const info = await review.query(reviewInfo);
    expect(info).toMatchObject({ status: 'open', overdue: true, escalationId: `esc-${open.id}-overdue` });
    const esc = env.client.workflow.getHandle(info.escalationId!);
    expect(await esc.query<unknown>('input')).toMatchObject({
      severity: 'normal',
      owner: { role: 'data-steward' },
      source: { kind: 'workflow', ref: open.id },
    });
    started.push(info.escalationId!);
    const stored = await db.prisma.stewardshipReview.findUniqueOrThrow({ where: { id: open.id } });
    expect(stored.overdueAt).not.toBeNull();

    const wrong = await refusal(
      review.executeUpdate(closeStewardshipReview, {
        args: [{ actor: people.lena, findings: 'x', decision: 'continue' }],
      }),
    );
    expect(wrong.type).toBe('ROLE_REQUIRED');
    await review.executeUpdate(closeStewardshipReview, {
      args: [{ actor: people.dora, findings: 'HS-code mapping wrong for 3 brokers', decision: 'rollback' }],
    });
    const done = await handle.result();
    expect(done.status).toBe('rolled-back');
    expect(done.reviews[0]).toMatchObject({ status: 'closed', decision: 'rollback', closedBy: 'dora' });
    expect(await auditActions(id)).toEqual([
      'ROLLOUT_STARTED',
      'ROLLOUT_REVIEW_OPENED',
      'ROLLOUT_REVIEW_OVERDUE',
      'ROLLOUT_REVIEW_CLOSED',
      'ROLLOUT_ROLLED_BACK',
      'ROLLOUT_ROLLBACK_STEP',
    ]);
    await esc.terminate('test over');
  });
});

test('rollback: when a lead rolls back to the start, every phase left runs its steps and a failing step is recorded as failed', async () => {
  await withWorker(async (tq) => {
    failingSteps.add('route pilot to legacy');
    const { id, handle } = await start(tq);
    await measureAndJudge(handle, 'pilot', 1.0);
    await env.sleep(25 * H);
    await handle.executeUpdate(advanceRollout, { args: [{ actor: people.lena }] });
    const held = await handle.executeUpdate(holdRollout, {
      args: [{ actor: people.lena, reason: 'broker complaints' }],
    });
    expect(held.status).toBe('held');
    const notWhileHeld = await refusal(handle.executeUpdate(advanceRollout, { args: [{ actor: people.lena }] }));
    expect(notWhileHeld.type).toBe('ROLLOUT_NOT_ACTIVE');
    expect((await handle.executeUpdate(resumeRollout, { args: [{ actor: people.lena }] })).status).toBe('active');
    await handle.executeUpdate(rollbackRollout, {
      args: [{ actor: people.lena, to: 'start', reason: 'duty mismatch' }],
    });
    const done = await handle.result();
    expect(done.status).toBe('rolled-back');
    const steps = await db.prisma.auditEvent.findMany({
      where: { subjectId: id, action: 'ROLLOUT_ROLLBACK_STEP' },
      orderBy: { id: 'asc' },
    });
    expect(steps.map((s) => s.payload)).toEqual([
      expect.objectContaining({
        phase: 'full',
        step: 'disable v3 client',
        outcome: expect.objectContaining({ outcome: 'done' }),
      }),
      expect.objectContaining({
        phase: 'pilot',
        step: 'route pilot to legacy',
        outcome: expect.objectContaining({ outcome: 'failed' }),
      }),
    ]);
    failingSteps.clear();
  });
});

test('blackout and inconclusive: inside a blackout BLACKOUT; with too little data the gate is inconclusive and GATE_NOT_MET', async () => {
  await withWorker(async (tq) => {
    const now = await env.currentTimeMs();
    const blackout = {
      name: 'tariff change',
      start: new Date(now + 30 * H).toISOString(),
      end: new Date(now + 40 * H).toISOString(),
    };
    const { handle } = await start(tq, { ...basePlan, blackouts: [blackout] });
    await handle.signal(measure, { by: 'feed', rows: await rows('pilot', 0.5, 20) });
    expect((await handle.executeUpdate(evaluateRollout)).status).toBe('inconclusive');
    await env.sleep(25 * H);
    const thin = await refusal(handle.executeUpdate(advanceRollout, { args: [{ actor: people.lena }] }));
    expect([thin.type, thin.message]).toEqual([
      'GATE_NOT_MET',
      expect.stringContaining('declaration-error-rate inconclusive (sample 20 is below the minimum of 100)'),
    ]);
    await env.sleep(7 * H);
    const dark = await refusal(
      handle.executeUpdate(advanceRollout, { args: [{ actor: people.carl, override: { reason: 'x' } }] }),
    );
    expect(dark.type).toBe('BLACKOUT');
    await handle.terminate('test over');
  });
});

test('continuous gate: when the soak is served during a blackout and the blackout then ends, readiness follows with no new input', async () => {
  await withWorker(async (tq) => {
    const now = await env.currentTimeMs();
    const blackout = {
      name: 'quarter close',
      start: new Date(now + 20 * H).toISOString(),
      end: new Date(now + 30 * H).toISOString(),
    };
    const { id, handle } = await start(tq, { ...basePlan, blackouts: [blackout] });
    expect((await measureAndJudge(handle, 'pilot', 1.2)).status).toBe('pass');
    expect((await handle.query(rolloutView)).readiness.blockers.map((b) => b.code)).toEqual(['SOAK_INCOMPLETE']);

    await env.sleep(25 * H);
    const dark = await db.prisma.rollout.findUniqueOrThrow({ where: { id } });
    expect([dark.gateStatus, dark.readyToAdvance]).toEqual(['pass', false]);
    expect((dark.view as { readiness: { blockers: { code: string }[] } }).readiness.blockers).toEqual([
      expect.objectContaining({ code: 'BLACKOUT', until: blackout.end }),
    ]);

    await env.sleep(6 * H);
    const light = await db.prisma.rollout.findUniqueOrThrow({ where: { id } });
    expect([light.gateStatus, light.readyToAdvance]).toEqual(['pass', true]);
    const timed = await db.prisma.gateEvaluation.findMany({ where: { rolloutId: id, trigger: 'timer' } });
    expect(timed.length).toBeGreaterThanOrEqual(2);
    expect(timed.every((e) => e.status === 'pass')).toBe(true);
    expect((await handle.executeUpdate(advanceRollout, { args: [{ actor: people.lena }] })).phase).toBe('full');
    await handle.terminate('test over');
  });
});

test('continuous gate: when the only error-rate measurement ages out of its window, the gate turns inconclusive with no new input', async () => {
  await withWorker(async (tq) => {
    const { id, handle } = await start(tq);
    const measured = await rows('pilot', 1.2);
    await handle.signal(measure, { by: 'feed', rows: measured });
    expect((await handle.executeUpdate(evaluateRollout)).status).toBe('pass');

    await env.sleep(7 * 24 * H);
    const gate = (await handle.query(rolloutView)).gate;
    expect(gate?.criteria.map((c) => [c.metric, c.status])).toEqual([
      ['declaration-error-rate', 'inconclusive'],
      ['stress-test-passed', 'pass'],
    ]);
    const timed = await db.prisma.gateEvaluation.findMany({
      where: { rolloutId: id, trigger: 'timer' },
      orderBy: { at: 'asc' },
    });
    // The soak being served is judged once; the next judgement is the moment the measurement leaves the window.
    expect(timed.map((e) => e.status)).toEqual(['pass', 'inconclusive']);
    expect(timed[1].at.getTime()).toBeGreaterThanOrEqual(Date.parse(measured[0].windowEnd) + 7 * 24 * H);
    const row = await db.prisma.rollout.findUniqueOrThrow({ where: { id } });
    expect([row.gateStatus, row.readyToAdvance]).toEqual(['inconclusive', false]);
    await handle.terminate('test over');
  });
});

test('measure signal: when a signalled batch has invalid rows, nothing of it is stored and the rejection names each row', async () => {
  await withWorker(async (tq) => {
    const { id, handle } = await start(tq);
    const [errorRate, stress] = await rows('pilot', 1.0);
    await handle.signal(measure, {
      by: 'feed',
      rows: [errorRate, { ...stress, sampleSize: -5 }, { ...errorRate, phase: 'nowhere' }],
    });
    expect((await handle.executeUpdate(evaluateRollout)).status).toBe('inconclusive');
    expect(await db.prisma.measurement.count({ where: { rolloutId: id } })).toBe(0);
    const rejected = await db.prisma.auditEvent.findFirstOrThrow({
      where: { subjectId: id, action: 'ROLLOUT_MEASUREMENTS_REJECTED' },
    });
    expect(rejected.payload).toMatchObject({
      by: 'feed',
      count: 3,
      reason: '2 of 3 measurements are invalid; nothing was recorded',
      problems: [
        expect.objectContaining({ index: 1, path: 'measurements.1.sampleSize' }),
        expect.objectContaining({ index: 2, path: 'measurements.2.phase' }),
      ],
    });

    expect((await measureAndJudge(handle, 'pilot', 1.0)).status).toBe('pass');
    expect(await db.prisma.measurement.count({ where: { rolloutId: id } })).toBe(2);
    await handle.terminate('test over');
  });
});

test('change request: when the change is not approved, the rollout does not start', async () => {
  await withWorker(async (tq) => {
    const { handle } = await start(tq, basePlan, 'cr-pending-9');
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(((error as WorkflowFailedError).cause as { type?: string }).type).toBe('CHANGE_NOT_APPROVED');
  });
});

/** The rollout's current run id. */
async function runId(handle: WorkflowHandle<typeof rollout>): Promise<string> {
  return (await handle.describe()).runId;
}

/** Feeds the phase measurements and judges the gate until the rollout has continued as new at least once more. */
async function untilContinued(handle: WorkflowHandle<typeof rollout>, phase: string, errorRate: number) {
  const before = await runId(handle);
  for (let round = 0; round < 40; round++) {
    await measureAndJudge(handle, phase, errorRate);
    if ((await runId(handle)) !== before) return;
  }
  throw new Error(`${handle.workflowId} never continued as new`);
}

// Reads until the workflow has applied what the test waits for; the bound only stops a hung run.
async function eventually<T>(read: () => Promise<T>, holds: (value: T) => boolean): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const value = await read();
    if (holds(value)) return value;
    if (attempt === 300) throw new Error(`never held; last read: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('continue-as-new: when measurements keep arriving past a small history bound, the rollout continues as new several times and loses none', async () => {
  await withWorker(async (tq) => {
    const { id, handle } = await start(tq, basePlan, 'cr-approved-1', 100);
    const batches = 24;
    const judgedBatches = () =>
      db.prisma.gateEvaluation.count({ where: { rolloutId: id, trigger: { startsWith: 'measurements:' } } });
    // Two bursts, each sent faster than it is applied: batches are still queued when a run hands over, and the
    // second burst reaches a later run, which numbers its batches on from the first run's.
    for (const burst of [0, 1]) {
      for (let i = 0; i < batches / 2; i++) {
        await handle.signal(measure, { by: 'feed', rows: await rows('pilot', 1 + (burst * 12 + i) / 100) });
      }
      // No update waits meanwhile (one judging the gate on request would have every queued batch applied first).
      await eventually(judgedBatches, (n) => n === ((burst + 1) * batches) / 2);
    }
    expect((await handle.executeUpdate(evaluateRollout)).status).toBe('pass');

    const runs = await runsOf(handle.workflowId);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    const carried = runs.slice(1).map((run) => inputOf(run).carried!);
    expect(carried.some((c) => c.inbox.length > 0)).toBe(true);
    expect(carried.map((c) => c.state.visits)).toEqual(
      carried.map(() => [expect.objectContaining({ phase: 'pilot' })]),
    );
    // Every batch stored under its own id and judged once; the phase's entry judged once, in the first run.
    expect(await db.prisma.measurement.count({ where: { rolloutId: id } })).toBe(2 * batches);
    expect(carried.map((c) => c.signalBatches)).toContain(batches / 2);
    const judgements = await db.prisma.gateEvaluation.findMany({ where: { rolloutId: id } });
    expect(judgements.filter((j) => j.trigger.startsWith('measurements:')).length).toBe(batches);
    expect(judgements.filter((j) => j.trigger === 'start' || j.trigger === 'phase-entered').length).toBe(1);
    // Revisions keep rising across runs: every write of every run reached the projection, none taken for a retry.
    const revisions = carried.map((c) => c.revision);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(new Set(revisions).size).toBe(revisions.length);
    const writes = runs
      .flatMap((run) => run.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'projectRollout').length;
    const row = await eventually(
      () => db.prisma.rollout.findUniqueOrThrow({ where: { id } }),
      (r) => r.revision === writes,
    );
    expect([row.status, row.phase, row.gateStatus]).toEqual(['active', 'pilot', 'pass']);
    await handle.terminate('test over');
  });
});

test('continue-as-new: when a review is open across a hand-over, the next run blocks advancing until the steward closes it, then advances and completes', async () => {
  await withWorker(async (tq) => {
    const { id, handle } = await start(tq, basePlan, 'cr-approved-1', 60);
    await measureAndJudge(handle, 'pilot', 2.6);
    const [open] = (await handle.query(rolloutView)).openReviews;
    expect(open).toMatchObject({ phase: 'pilot', status: 'open' });
    await untilContinued(handle, 'pilot', 1.0);
    await env.sleep(25 * H);
    expect((await handle.query(rolloutView)).openReviews.map((r) => r.id)).toEqual([open.id]);
    const blocked = await refusal(handle.executeUpdate(advanceRollout, { args: [{ actor: people.lena }] }));
    expect([blocked.type, blocked.details]).toEqual(['REVIEW_OPEN', { reviews: [open.id] }]);

    await env.client.workflow.getHandle(open.id).executeUpdate(closeStewardshipReview, {
      args: [{ actor: people.dora, findings: 'one broker sent test declarations', decision: 'continue' }],
    });
    const settled = await handle.executeUpdate(reviewSettled, { args: [{ id: open.id }] });
    expect(settled.reviews).toEqual([
      expect.objectContaining({ id: open.id, status: 'closed', decision: 'continue', closedBy: 'dora' }),
    ]);
    expect((await handle.executeUpdate(advanceRollout, { args: [{ actor: people.lena }] })).phase).toBe('full');

    // The new phase is judged on entry by the run that is current, and the rollout hands over again inside it.
    await untilContinued(handle, 'full', 0.8);
    await env.sleep(25 * H);
    expect((await handle.executeUpdate(advanceRollout, { args: [{ actor: people.lena }] })).status).toBe('completed');
    const done = await handle.result();
    expect(done.visits.map((v) => [v.phase, v.leftBecause])).toEqual([
      ['pilot', 'advanced'],
      ['full', 'completed'],
    ]);
    expect((await runsOf(handle.workflowId)).length).toBeGreaterThanOrEqual(3);
    const judgements = await db.prisma.gateEvaluation.findMany({ where: { rolloutId: id } });
    expect(judgements.filter((j) => j.trigger === 'start' || j.trigger === 'phase-entered').length).toBe(2);
    expect(await auditActions(id)).toEqual([
      'ROLLOUT_STARTED',
      'ROLLOUT_REVIEW_OPENED',
      'ROLLOUT_REVIEW_CLOSED',
      'ROLLOUT_ADVANCED',
      'ROLLOUT_COMPLETED',
    ]);
    const review = await db.prisma.stewardshipReview.findUniqueOrThrow({ where: { id: open.id } });
    expect([review.status, review.decision, review.closedBy]).toEqual(['closed', 'continue', 'dora']);
  });
});

test('continue-as-new: when a review opened before a hand-over goes overdue, the current run records the escalation, and a rollback decision rolls back', async () => {
  await withWorker(async (tq) => {
    const { id, handle } = await start(tq, basePlan, 'cr-approved-1', 60);
    await measureAndJudge(handle, 'pilot', 3.1);
    const [open] = (await handle.query(rolloutView)).openReviews;
    await untilContinued(handle, 'pilot', 1.0);

    await env.sleep(49 * H);
    const view = await eventually(
      () => handle.query(rolloutView),
      (v) => v.reviews[0]?.overdueAt !== null,
    );
    const escalationId = `esc-${open.id}-overdue`;
    expect(view.reviews[0]).toMatchObject({ id: open.id, status: 'open', escalationId });
    started.push(escalationId);
    const esc = env.client.workflow.getHandle(escalationId);
    expect(await esc.query<unknown>('input')).toMatchObject({ owner: { role: 'data-steward' } });
    const stored = await eventually(
      () => db.prisma.stewardshipReview.findUniqueOrThrow({ where: { id: open.id } }),
      (r) => r.overdueAt !== null,
    );
    expect(stored.escalationId).toBe(escalationId);

    await env.client.workflow.getHandle(open.id).executeUpdate(closeStewardshipReview, {
      args: [{ actor: people.dora, findings: 'HS codes mapped wrongly', decision: 'rollback' }],
    });
    const done = await handle.result();
    expect(done.status).toBe('rolled-back');
    expect(done.reviews[0]).toMatchObject({ status: 'closed', decision: 'rollback', closedBy: 'dora' });
    expect(await auditActions(id)).toEqual([
      'ROLLOUT_STARTED',
      'ROLLOUT_REVIEW_OPENED',
      'ROLLOUT_REVIEW_OVERDUE',
      'ROLLOUT_REVIEW_CLOSED',
      'ROLLOUT_ROLLED_BACK',
      'ROLLOUT_ROLLBACK_STEP',
    ]);
    await esc.terminate('test over');
  });
});

test('continue-as-new: the API reads the same before and after a hand-over, its history spans the runs, and updates reach the new run', async () => {
  await withWorker(async (tq) => {
    const app = buildApp(
      { prisma: db.prisma, log: silentLog, temporal: () => env.client, checks: {}, version: '0.0.0-test' },
      { routes: [...rolloutRoutes, ...reviewRoutes] },
    );
    const lead = await addUser(db.prisma, { name: `lead-${randomUUID()}`, roles: ['rollout-lead'], actor: 'test' });
    const get = async (path: string) => {
      const res = await request(app).get(`/api/v1${path}`).set('authorization', `Bearer ${lead.token}`);
      expect(res.status).toBe(200);
      return res.body;
    };
    const { id, handle } = await start(tq, basePlan, 'cr-approved-1', 60);
    await measureAndJudge(handle, 'pilot', 2.4);
    const before = await get(`/rollouts/${id}`);
    const listedBefore = await get(`/rollouts?limit=200`);
    const historyBefore = await get(`/rollouts/${id}/history`);
    expect(before.openReviews).toHaveLength(1);

    // Batches with bad rows lengthen the history without changing the rollout.
    const first = await runId(handle);
    const [bad] = await rows('pilot', 1.0, -1);
    for (let i = 0; i < 40 && (await runId(handle)) === first; i++) {
      await handle.signal(measure, { by: 'feed', rows: [bad] });
      await eventually(
        () => db.prisma.auditEvent.count({ where: { subjectId: id, action: 'ROLLOUT_MEASUREMENTS_REJECTED' } }),
        (n) => n === i + 1,
      );
    }
    expect(await runId(handle)).not.toBe(first);

    const after = await get(`/rollouts/${id}`);
    expect({ ...after, timeInPhaseMs: 0 }).toEqual({ ...before, timeInPhaseMs: 0 });
    const listedAfter = await get(`/rollouts?limit=200`);
    const mine = (list: { items: { id: string }[] }) => list.items.find((r) => r.id === id);
    expect(mine(listedAfter)).toEqual(mine(listedBefore));
    const historyAfter = await get(`/rollouts/${id}/history`);
    type Entry = { type: string; time: string; what: string; runId: string };
    const story = (h: { entries: Entry[] }) => h.entries.map((e) => `${e.type} ${e.time} ${e.what}`);
    expect(story(historyAfter).slice(0, historyBefore.entries.length)).toEqual(story(historyBefore));
    expect(historyAfter.entries.slice(historyBefore.entries.length).map((e: Entry) => e.type)).toEqual(
      expect.arrayContaining(['MEASUREMENTS_REJECTED']),
    );
    expect(new Set(historyAfter.entries.map((e: Entry) => e.runId)).size).toBeGreaterThanOrEqual(2);

    const held = await request(app)
      .post(`/api/v1/rollouts/${id}/hold`)
      .set('authorization', `Bearer ${lead.token}`)
      .send({ reason: 'quarter close' });
    expect([held.status, held.body.status, held.body.openReviews]).toEqual([200, 'held', before.openReviews]);
    expect((await get(`/rollouts/${id}`)).status).toBe('held');
    await handle.terminate('test over');
  });
});

test('replay: every history these tests produced replays with the current workflow code', async () => {
  expect(histories.length).toBeGreaterThanOrEqual(8);
  // Runs that continued as new are replayed too, each on its own.
  const continued = histories.filter(({ history }) =>
    history.events?.some((e) => e.workflowExecutionContinuedAsNewEventAttributes),
  );
  expect(continued.length).toBeGreaterThanOrEqual(8);
  let n = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    if (result.error) throw new Error(`history of ${result.workflowId} does not replay: ${result.error.message}`);
    n++;
  }
  expect(n).toBe(histories.length);
});
