import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import {
  changeRequest,
  changeRequestWorkflowId,
  decide,
  submit,
  view,
  type ChangeRequestStart,
} from '../../workflows/change-request';
import {
  evidence,
  fields,
  people,
  quietRuntime,
  recordingNotifier,
  replayEveryHistory,
  shippedPolicy,
  workflowBundle,
} from '../helpers/change-requests';
import { backends, createTestDatabase, silentLog, type TestDb } from '../helpers/db';

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

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await env?.teardown();
  await db?.close();
});

async function submitted(overrides: Partial<ChangeRequestStart> = {}) {
  const id = randomUUID();
  const { policy, version } = shippedPolicy();
  const handle = await env.client.workflow.start(changeRequest, {
    taskQueue,
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

  it('replay: when every history this suite produced is replayed, each replays without nondeterminism', async () => {
    expect(await replayEveryHistory(env.client)).toBeGreaterThanOrEqual(3);
  });
});
