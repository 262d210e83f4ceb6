import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateStage, type WorkflowHandle, type WorkflowUpdateHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { ChangeRequestView } from '../../domain/change-request';
import {
  changeRequest,
  changeRequestWorkflowId,
  decide,
  recordRetrospective,
  retrospectiveEscalationKey,
  slaEscalationKey,
  submit,
  view,
  type ChangeRequestStart,
} from '../../workflows/change-request';
import { escalation, escalationView, escalationWorkflowId, resolveEscalation } from '../../workflows/escalation';
import {
  evidence,
  fields,
  people,
  quietRuntime,
  recordingNotifier,
  replayHistories,
  shippedPolicy,
  workflowBundle,
} from '../helpers/change-requests';
import { backends, createTestDatabase, silentLog, type TestDb } from '../helpers/db';
import { afterUpdate, resetTo, whenHolds } from '../helpers/reset';

const HOUR = 3_600_000;
const executable = path.resolve(__dirname, '../../bin/clearway-devserver');
const taskQueue = 'cr-sla';
let env: TestWorkflowEnvironment;
let db: TestDb;
let worker: Worker;
let running: Promise<void>;
const notifier = recordingNotifier();

beforeAll(async () => {
  quietRuntime();
  [env, db] = await Promise.all([
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: executable } } }),
    createTestDatabase(backends()[0]),
  ]);
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ prisma: db.prisma, log: silentLog, notifier }),
  });
  running = worker.run();
});

// Escalations outlive their requests by design, and under time skipping a running one keeps firing its ladder's
// timers while later tests advance the clock, so its history would grow with the suite's wall time. Each test's runs
// are ended as it finishes and their histories kept for the final replay.
const kept = new Map<string, { workflowId: string; history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> }>();
afterEach(async () => {
  for await (const run of env.client.workflow.list()) {
    if (kept.has(run.runId)) continue;
    const handle = env.client.workflow.getHandle(run.workflowId, run.runId);
    if (run.status.name === 'RUNNING') await handle.terminate('test finished');
    kept.set(run.runId, { workflowId: run.workflowId, history: await handle.fetchHistory() });
  }
});
afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await env?.teardown();
  await db?.close();
});

async function submitted(overrides: Partial<ChangeRequestStart> = {}, queue = taskQueue) {
  const id = randomUUID();
  const { policy, version } = shippedPolicy();
  const handle = await env.client.workflow.start(changeRequest, {
    taskQueue: queue,
    workflowId: changeRequestWorkflowId(id),
    args: [
      {
        id,
        requester: people.requester,
        fields: fields(),
        evidence: evidence('documentation', 'test-evidence', 'rollback-plan'),
        policy,
        policyVersion: version,
        ...overrides,
      },
    ],
  });
  await handle.executeUpdate(submit, { args: [{ actor: people.requester }] });
  return { id, handle };
}

const sentFor = (id: string) => notifier.sent.filter((n) => n.subjectId === id);

/** Replays the current histories of these workflows through the bundle; resolves with how many replayed. */
async function replayNow(workflowIds: string[]): Promise<number> {
  return replayHistories(
    await Promise.all(
      workflowIds.map(async (workflowId) => ({
        workflowId,
        history: await env.client.workflow.getHandle(workflowId).fetchHistory(),
      })),
    ),
  );
}

/** The projected view once `ok` holds (polled in real time; the last one is returned either way after 30 s). */
async function viewOnceWritten(id: string, ok: (v: ChangeRequestView) => boolean): Promise<ChangeRequestView> {
  const projected = async () => (await db.prisma.changeRequest.findUnique({ where: { id } }))?.view as ChangeRequestView | undefined;
  const v = await whenHolds(projected, (p) => p !== undefined && ok(p), 30_000);
  if (!v) throw new Error(`change request ${id} was never projected`);
  return v;
}

describe('change-request workflow: decision SLA and reminders (time skipping)', () => {
  it('sla: when nobody decides within 48 hours, pending roles are reminded at 24 and 40 hours and the breach is recorded', async () => {
    const { id, handle } = await submitted();
    await handle.executeUpdate(decide, { args: [{ actor: people.chair, role: 'ccb-chair', decision: 'approve' }] });
    await env.sleep(47 * HOUR);
    expect(sentFor(id).filter((n) => n.kind === 'cr.sla-breached')).toEqual([]);
    const reminders = sentFor(id).filter((n) => n.kind === 'cr.reminder');
    // Notifications go out concurrently, so their order is not asserted.
    expect(reminders.map((n) => n.to).sort()).toEqual([
      'role:data-steward',
      'role:data-steward',
      'role:integration-specialist',
      'role:integration-specialist',
    ]);
    expect(new Set(reminders.map((n) => n.dedupeKey)).size).toBe(4);

    await env.sleep(2 * HOUR);
    const breached = await handle.query(view);
    expect(breached.status).toBe('under_review');
    expect(breached.slaBreachedAt).not.toBeNull();
    expect(Date.parse(breached.slaBreachedAt!)).toBeGreaterThanOrEqual(Date.parse(breached.slaDueAt!));
    expect(
      sentFor(id)
        .filter((n) => n.kind === 'cr.sla-breached')
        .map((n) => n.to)
        .sort(),
    ).toEqual(['role:data-steward', 'role:integration-specialist', 'user:u-requester']);
    const audit = await db.prisma.auditEvent.findFirstOrThrow({
      where: { subjectId: id, action: 'CHANGE_REQUEST_SLA_BREACHED' },
    });
    expect(audit).toMatchObject({ actor: 'system:clearway' });
    expect(audit.payload).toMatchObject({ onBreach: { action: 'escalate', ladder: 'normal' } });

    // A breach escalates; it does not close the round, so the board can still decide.
    await handle.executeUpdate(decide, {
      args: [{ actor: people.specialist, role: 'integration-specialist', decision: 'approve' }],
    });
    await handle.executeUpdate(decide, { args: [{ actor: people.steward, role: 'data-steward', decision: 'approve' }] });
    expect(await handle.result()).toMatchObject({ status: 'approved' });
  });

  it('sla: when the board decides before the first reminder, nobody is reminded and no breach is recorded', async () => {
    const { id, handle } = await submitted();
    for (const [actor, role] of [
      [people.chair, 'ccb-chair'],
      [people.specialist, 'integration-specialist'],
      [people.steward, 'data-steward'],
    ] as const) {
      await handle.executeUpdate(decide, { args: [{ actor, role, decision: 'approve' }] });
    }
    expect(await handle.result()).toMatchObject({ status: 'approved' });
    await env.sleep(50 * HOUR);
    expect(sentFor(id).map((n) => n.kind)).not.toEqual(expect.arrayContaining(['cr.reminder']));
    expect(sentFor(id).map((n) => n.kind)).not.toEqual(expect.arrayContaining(['cr.sla-breached']));
  });

  it('sla: when the class expires on breach, the request ends expired once the SLA passes', async () => {
    const { policy } = shippedPolicy();
    const expiring = {
      ...policy,
      classes: { ...policy.classes, normal: { ...policy.classes.normal, onBreach: { action: 'expire' as const } } },
    };
    const { id, handle } = await submitted({ policy: expiring, policyVersion: 'sha256:expiring-test-policy' });
    expect(await handle.result()).toMatchObject({ status: 'expired', policyVersion: 'sha256:expiring-test-policy' });
    const row = await db.prisma.changeRequest.findUniqueOrThrow({ where: { id } });
    expect(row.status).toBe('expired');
    expect(sentFor(id).map((n) => n.kind)).toEqual(expect.arrayContaining(['cr.sla-breached', 'cr.expired']));
  });

  it('sla: when the last vote comes while an expiring breach is being written, it is refused: one outcome, expired', async () => {
    const { policy } = shippedPolicy();
    const expiring = {
      ...policy,
      classes: { ...policy.classes, normal: { ...policy.classes.normal, onBreach: { action: 'expire' as const } } },
    };
    // A worker of its own whose projection write of the breach waits until the test lets it go.
    let entered!: () => void;
    const breachWriting = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const activities = createActivities({ prisma: db.prisma, log: silentLog, notifier });
    const slowQueue = 'cr-sla-slow-breach';
    const slow = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: slowQueue,
      workflowBundle: await workflowBundle(),
      activities: {
        ...activities,
        async recordChangeRequest(write: Parameters<typeof activities.recordChangeRequest>[0]) {
          if (write.events.some((e) => e.type === 'SLA_BREACHED')) {
            entered();
            await released;
          }
          return activities.recordChangeRequest(write);
        },
      },
    });
    await slow.runUntil(async () => {
      const { id, handle } = await submitted({ policy: expiring, policyVersion: 'sha256:expiring-test-policy' }, slowQueue);
      for (const [actor, role] of [
        [people.chair, 'ccb-chair'],
        [people.specialist, 'integration-specialist'],
      ] as const) {
        await handle.executeUpdate(decide, { args: [{ actor, role, decision: 'approve' }] });
      }
      // Time runs to the deadline; the breach's write then holds the clock until it is let go.
      void env.sleep(49 * HOUR);
      await breachWriting;
      let late: WorkflowUpdateHandle<ChangeRequestView>;
      try {
        // Accepted or refused is settled while the write is held; an accepted vote would then wait for the write.
        late = await handle.startUpdate(decide, {
          args: [{ actor: people.steward, role: 'data-steward', decision: 'approve' }],
          waitForStage: WorkflowUpdateStage.ACCEPTED,
        });
      } finally {
        release();
      }
      await expect(late.result()).rejects.toMatchObject({ cause: { type: 'INVALID_STATE' } });
      expect(await handle.result()).toMatchObject({ status: 'expired' });
      const events = (await db.prisma.auditEvent.findMany({ where: { subjectId: id }, orderBy: { id: 'asc' } })).map((e) => e.action);
      expect(events).toEqual(expect.arrayContaining(['CHANGE_REQUEST_SLA_BREACHED', 'CHANGE_REQUEST_EXPIRED']));
      expect(events).not.toContain('CHANGE_REQUEST_APPROVED');
    });
  });

  it('sla: when the decision SLA passes, an escalation starts as a child on the policy ladder and each names the other', async () => {
    const { id, handle } = await submitted();
    await env.sleep(49 * HOUR);
    const cr = await viewOnceWritten(id, (v) => v.escalationId !== null);
    const escalationId = escalationWorkflowId(slaEscalationKey(changeRequestWorkflowId(id), 1));
    expect(cr).toMatchObject({ status: 'under_review', escalationId });
    expect(cr.escalations).toEqual([
      expect.objectContaining({ round: 1, escalationId, ladder: 'normal', status: 'open', resolution: null }),
    ]);

    const child = env.client.workflow.getHandle<typeof escalation>(escalationId);
    const esc = await child.query(escalationView);
    expect(esc).toMatchObject({
      severity: 'normal',
      owner: { role: 'ccb-chair' },
      responsible: { role: 'ccb-chair' },
      subject: { type: 'change-request', id },
      source: { kind: 'workflow', ref: changeRequestWorkflowId(id) },
    });
    expect((await child.describe()).parentExecution?.workflowId).toBe(changeRequestWorkflowId(id));
    expect(sentFor(id).filter((n) => n.kind === 'cr.escalated').map((n) => n.to)).toEqual(['user:u-requester']);
    const audit = await db.prisma.auditEvent.findFirstOrThrow({
      where: { subjectId: id, action: 'CHANGE_REQUEST_ESCALATION_STARTED' },
    });
    expect(audit.payload).toMatchObject({ escalationId, round: 1, ladder: 'normal' });

    // Resolving the escalation answers for the delay; it is recorded on the request, which still needs its votes.
    await child.executeUpdate(resolveEscalation, {
      args: [{ actor: people.chair, note: 'chased the reviewers; they decide tomorrow' }],
    });
    const settled = await viewOnceWritten(id, (v) => v.escalations[0]?.status === 'resolved');
    expect(settled).toMatchObject({ status: 'under_review', closedAt: null, votes: [] });
    expect(settled.pendingRoles).toEqual(['ccb-chair', 'integration-specialist', 'data-steward']);
    expect(settled.escalations[0].resolution).toMatchObject({ by: people.chair.id });
    const row = await db.prisma.escalation.findUniqueOrThrow({ where: { id: escalationId } });
    expect([row.subjectType, row.subjectId, row.status]).toEqual(['change-request', id, 'resolved']);

    // The board decides; the request closes and the escalation, abandoned by design, runs on for its reopen window.
    for (const [actor, role] of [
      [people.chair, 'ccb-chair'],
      [people.specialist, 'integration-specialist'],
      [people.steward, 'data-steward'],
    ] as const) {
      await handle.executeUpdate(decide, { args: [{ actor, role, decision: 'approve' }] });
    }
    // result() gives up the client's lock on the clock; once the request has closed, nothing else holds one, and
    // time would jump to the escalation's reopen deadline before describe() could look. An extra lock keeps it still.
    const testService = env.connection.testService!;
    await testService.lockTimeSkipping({});
    try {
      expect(await handle.result()).toMatchObject({ status: 'approved' });
      expect((await child.describe()).status.name).toBe('RUNNING');
    } finally {
      await testService.unlockTimeSkipping({});
    }
    expect(await db.prisma.escalation.count({ where: { subjectType: 'change-request', subjectId: id } })).toBe(1);
    // Replayed now: skipped time can take a closed run past retention before the suite's final replay.
    expect(await replayNow([changeRequestWorkflowId(id), escalationId])).toBe(2);
  });

  it('sla: when an escalation with the round key already runs, the request links to it instead of starting another', async () => {
    const { id } = await submitted();
    const key = slaEscalationKey(changeRequestWorkflowId(id), 1);
    await env.client.workflow.start(escalation, {
      taskQueue,
      workflowId: escalationWorkflowId(key),
      args: [{ key, severity: 'normal', title: 'Raised by hand', owner: { role: 'ccb-chair' }, by: 'u-chair' }],
    });
    await env.sleep(49 * HOUR);
    const cr = await viewOnceWritten(id, (v) => v.escalationId !== null);
    expect(cr.escalationId).toBe(escalationWorkflowId(key));
    expect(await db.prisma.escalation.count({ where: { key } })).toBe(1);
  });

  it('sla: when the request is reset to before its breach, the new run links the running escalation and hears it settle', async () => {
    const { id, handle } = await submitted();
    await env.sleep(49 * HOUR);
    await viewOnceWritten(id, (v) => v.escalationId !== null);
    const escalationId = escalationWorkflowId(slaEscalationKey(changeRequestWorkflowId(id), 1));

    // The workflow task right after submit's update completed: under review, its SLA timer running, no child yet.
    const runId = await resetTo(env.client, handle.workflowId, handle.firstExecutionRunId, afterUpdate(0));
    const reset = env.client.workflow.getHandle(handle.workflowId, runId);
    const current = () => reset.query(view);
    expect((await whenHolds(current, (v) => v.escalationId !== null)).escalationId).toBe(escalationId);

    // The escalation was started by the run the reset ended; its outcome still reaches the request.
    await env.client.workflow.getHandle(escalationId).executeUpdate(resolveEscalation, {
      args: [{ actor: people.chair, note: 'reviewers chased after the reset' }],
    });
    expect((await whenHolds(current, (v) => v.escalations[0]?.status === 'resolved')).escalations[0]?.status).toBe('resolved');
    expect(await replayNow([changeRequestWorkflowId(id), escalationId])).toBe(2);
  });

  it('retrospective: when the review is not recorded, the chair is reminded at 3 and 4 days and at 5 days it escalates', async () => {
    const { id, handle } = await submitted({
      fields: fields({ class: 'emergency' }),
      evidence: evidence('rollback-plan'),
    });
    await handle.executeUpdate(decide, { args: [{ actor: people.chair, role: 'ccb-chair', decision: 'approve' }] });
    const approved = await handle.executeUpdate(decide, {
      args: [{ actor: people.member, role: 'ccb-member', decision: 'approve' }],
    });
    const dueAt = approved.retrospectiveDueAt!;
    await env.sleep(4 * 24 * HOUR + HOUR);
    const reminders = sentFor(id).filter((n) => n.kind === 'cr.retrospective-reminder');
    expect(reminders.map((n) => n.to)).toEqual(['role:ccb-chair', 'role:ccb-chair']);
    expect((await handle.query(view)).retrospective).toMatchObject({ status: 'pending', overdueAt: null });

    await env.sleep(24 * HOUR);
    const escalationId = escalationWorkflowId(retrospectiveEscalationKey(changeRequestWorkflowId(id)));
    const overdue = await viewOnceWritten(id, (v) => v.escalationId === escalationId);
    expect(overdue.retrospective).toMatchObject({ status: 'pending', dueAt });
    expect(Date.parse(overdue.retrospective!.overdueAt!)).toBeGreaterThanOrEqual(Date.parse(dueAt));
    expect(overdue.escalations).toEqual([
      expect.objectContaining({ cause: 'retrospective', escalationId, ladder: 'normal', status: 'open' }),
    ]);
    const child = env.client.workflow.getHandle<typeof escalation>(escalationId);
    expect(await child.query(escalationView)).toMatchObject({
      severity: 'normal',
      owner: { role: 'ccb-chair' },
      subject: { type: 'change-request', id },
    });
    expect(sentFor(id).filter((n) => n.kind === 'cr.retrospective-overdue').map((n) => n.to).sort()).toEqual([
      'role:ccb-chair',
      'user:u-requester',
    ]);

    // Recording the review, late, ends the request's workflow; the escalation answers for the delay on its own.
    const testService = env.connection.testService!;
    await testService.lockTimeSkipping({});
    try {
      await handle.executeUpdate(recordRetrospective, {
        args: [{ actor: people.chair, outcome: 'ratified', notes: 'The fix was right; reviewed late.' }],
      });
      expect(await handle.result()).toMatchObject({ status: 'approved' });
    } finally {
      await testService.unlockTimeSkipping({});
    }
    expect(await replayNow([changeRequestWorkflowId(id), escalationId])).toBe(2);
  });

  it('retrospective: when the review is recorded before the first reminder, nobody is reminded and the workflow ends', async () => {
    const { id, handle } = await submitted({ fields: fields({ class: 'emergency' }), evidence: evidence('rollback-plan') });
    await handle.executeUpdate(decide, { args: [{ actor: people.chair, role: 'ccb-chair', decision: 'approve' }] });
    await handle.executeUpdate(decide, { args: [{ actor: people.steward, role: 'data-steward', decision: 'approve' }] });
    await env.sleep(24 * HOUR);
    await handle.executeUpdate(recordRetrospective, {
      args: [{ actor: people.chair, outcome: 'ratified', notes: 'Held overnight; nothing to follow up.' }],
    });
    expect(await handle.result()).toMatchObject({ status: 'approved' });
    const chased = ['cr.retrospective-reminder', 'cr.retrospective-overdue', 'cr.escalated'];
    expect(sentFor(id).filter((n) => chased.includes(n.kind))).toEqual([]);
  });

  it('replay: when every history this suite produced is replayed, each replays without nondeterminism', async () => {
    // Seven request runs (one request was reset) and four escalations; the request approved while its escalation
    // ran on may have passed retention in skipped time before its test ended (that test replays it itself).
    expect(kept.size).toBeGreaterThanOrEqual(10);
    expect(await replayHistories([...kept.values()])).toBe(kept.size);
  });
});
