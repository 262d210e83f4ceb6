import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Worker } from '@temporalio/worker';
import type { Actor } from '../../domain/actor';
import type { ChangeRequestView } from '../../domain/change-request';
import { readableHistory } from '../../api/routes/change-requests/history';
import { loadChangeControlPolicy } from '../../policies/load';
import {
  CHANGE_REQUEST_WORKFLOW,
  addEvidence,
  changeRequest,
  changeRequestWorkflowId,
  decide,
  edit,
  recordRetrospective,
  submit,
  view,
  withdraw,
  type ChangeRequestStart,
  type DecideInput,
} from '../../workflows/change-request';
import {
  evidence,
  fields,
  people,
  recordingNotifier,
  replayEveryHistory,
  replayHistories,
  shippedPolicy,
  startTemporal,
  type TemporalFixture,
} from '../helpers/change-requests';
import { backends, createTestDatabase, type TestDb } from '../helpers/db';
import { afterUpdate, isTaskCompleted, resetTo, whenHolds } from '../helpers/reset';

const EventType = temporal.api.enums.v1.EventType;
const FULL = evidence('documentation', 'test-evidence', 'rollback-plan');

let t: TemporalFixture;
let db: TestDb;
let worker: Worker;
let taskQueue: string;
let running: Promise<void>;
const notifier = recordingNotifier();

beforeAll(async () => {
  [t, db] = await Promise.all([startTemporal(), createTestDatabase(backends()[0])]);
  ({ worker, taskQueue } = await t.worker(db.prisma, notifier));
  running = worker.run();
});

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await t?.close();
  await db?.close();
});

async function open(
  overrides: Partial<ChangeRequestStart> = {},
): Promise<{ id: string; handle: WorkflowHandle<typeof changeRequest> }> {
  const id = randomUUID();
  const { policy, version } = shippedPolicy();
  const input: ChangeRequestStart = {
    id,
    requester: people.requester,
    fields: fields(),
    evidence: FULL,
    policy,
    policyVersion: version,
    ...overrides,
  };
  const handle = await t.client.workflow.start(changeRequest, {
    taskQueue,
    workflowId: changeRequestWorkflowId(id),
    args: [input],
  });
  return { id, handle };
}

const vote = (actor: Actor, role: DecideInput['role'], decision: DecideInput['decision'] = 'approve', reason?: string) =>
  ({ actor, role, decision, ...(reason ? { reason } : {}) }) satisfies DecideInput;

async function refusal(promise: Promise<unknown>): Promise<{ type: string | undefined | null; message: string }> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (error as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return { type: (cause as ApplicationFailure).type, message: (cause as ApplicationFailure).message };
}

async function updateEvents(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    .length;
}

async function underReview(overrides: Partial<ChangeRequestStart> = {}) {
  const opened = await open(overrides);
  await opened.handle.executeUpdate(submit, { args: [{ actor: overrides.requester ?? people.requester }] });
  return opened;
}


describe('change-request workflow', () => {
  it('decide: when every required role approves, the request is approved, projected and the workflow ends', async () => {
    const { id, handle } = await underReview();
    const first = await handle.executeUpdate(decide, { args: [vote(people.chair, 'ccb-chair')] });
    expect(first.status).toBe('under_review');
    expect(first.pendingRoles).toEqual(['integration-specialist', 'data-steward']);
    await handle.executeUpdate(decide, { args: [vote(people.specialist, 'integration-specialist')] });
    const last = await handle.executeUpdate(decide, { args: [vote(people.steward, 'data-steward')] });

    expect(last.status).toBe('approved');
    expect(last.votes.map((v) => v.role)).toEqual(['ccb-chair', 'integration-specialist', 'data-steward']);
    expect(await handle.result()).toMatchObject({ id, status: 'approved', round: 1 });
    const row = await db.prisma.changeRequest.findUniqueOrThrow({ where: { id }, include: { decisions: true } });
    expect(row).toMatchObject({ status: 'approved', round: 1, pendingRoles: [], workflowId: `cr-${id}` });
    expect(row.decisions.map((d) => d.by).sort()).toEqual(['u-chair', 'u-specialist', 'u-steward']);
    const actions = await db.prisma.auditEvent.findMany({ where: { subjectId: id }, orderBy: { id: 'asc' } });
    expect(actions.map((a) => a.action)).toEqual([
      'CHANGE_REQUEST_OPENED',
      ...FULL.map(() => 'CHANGE_REQUEST_EVIDENCE_ADDED'),
      'CHANGE_REQUEST_SUBMITTED',
      'CHANGE_REQUEST_DECISION_RECORDED',
      'CHANGE_REQUEST_DECISION_RECORDED',
      'CHANGE_REQUEST_DECISION_RECORDED',
      'CHANGE_REQUEST_APPROVED',
    ]);
    const told = notifier.sent.filter((n) => n.subjectId === id).map((n) => `${n.kind}->${n.to}`);
    expect(told).toEqual(
      expect.arrayContaining([
        'cr.submitted->role:ccb-chair',
        'cr.submitted->role:data-steward',
        'cr.approved->user:u-requester',
      ]),
    );
  });

  it('decide: when an emergency change gets the chair plus one optional approver, the quorum of two approves it', async () => {
    const { handle } = await underReview({ fields: fields({ class: 'emergency' }), evidence: evidence('rollback-plan') });
    const afterChair = await handle.executeUpdate(decide, { args: [vote(people.chair, 'ccb-chair')] });
    expect(afterChair.pendingRoles).toEqual(['integration-specialist', 'data-steward', 'security-officer', 'ccb-member']);
    const done = await handle.executeUpdate(decide, { args: [vote(people.member, 'ccb-member')] });
    expect(done.status).toBe('approved');
    expect(done.retrospectiveDueAt).not.toBeNull();
  });

  it('retrospective: when an emergency change is approved, its workflow stays open until the chair records the review', async () => {
    const { id, handle } = await underReview({ fields: fields({ class: 'emergency' }), evidence: evidence('rollback-plan') });
    await handle.executeUpdate(decide, { args: [vote(people.chair, 'ccb-chair')] });
    const approved = await handle.executeUpdate(decide, { args: [vote(people.member, 'ccb-member')] });
    expect(approved.retrospective).toEqual({
      dueAt: approved.retrospectiveDueAt,
      owner: 'ccb-chair',
      status: 'pending',
      overdueAt: null,
      review: null,
    });
    expect((await handle.describe()).status.name).toBe('RUNNING');
    const row = await db.prisma.changeRequest.findUniqueOrThrow({ where: { id } });
    expect([row.status, row.retrospectiveRole, row.retrospectiveDueAt?.toISOString()]).toEqual([
      'approved',
      'ccb-chair',
      approved.retrospectiveDueAt,
    ]);
    const told = async () => notifier.sent.filter((n) => n.subjectId === id).map((n) => `${n.kind}->${n.to}`);
    expect(await whenHolds(told, (t) => t.includes('cr.retrospective-due->role:ccb-chair'))).toContain(
      'cr.retrospective-due->role:ccb-chair',
    );

    // Refusals are checked before anything is written: the requester, a user without the role, a blank note.
    const before = await updateEvents(handle);
    const review = (actor: Actor, notes = 'The hotfix held; a normal change makes it permanent.') =>
      handle.executeUpdate(recordRetrospective, { args: [{ actor, outcome: 'follow_up_required', notes }] });
    const chairRequester: Actor = { id: people.requester.id, roles: ['ccb-chair'] };
    expect((await refusal(review(chairRequester))).type).toBe('SELF_APPROVAL_FORBIDDEN');
    expect((await refusal(review(people.steward))).type).toBe('ROLE_REQUIRED');
    expect((await refusal(review(people.chair, ' '))).type).toBe('VALIDATION_FAILED');
    expect(await updateEvents(handle)).toBe(before);

    const recorded = await review(people.twoHats);
    expect(recorded).toMatchObject({
      status: 'approved',
      retrospective: { status: 'recorded', review: { outcome: 'follow_up_required', by: people.twoHats.id } },
    });
    expect(await handle.result()).toMatchObject({ id, status: 'approved' });
    const after = await db.prisma.changeRequest.findUniqueOrThrow({ where: { id } });
    expect([after.retrospectiveRole, after.retrospectiveDueAt?.toISOString()]).toEqual([null, approved.retrospectiveDueAt]);
    const audit = await db.prisma.auditEvent.findFirstOrThrow({
      where: { subjectId: id, action: 'CHANGE_REQUEST_RETROSPECTIVE_RECORDED' },
    });
    expect([audit.actor, audit.payload]).toEqual([
      people.twoHats.id,
      expect.objectContaining({ outcome: 'follow_up_required', dueAt: approved.retrospectiveDueAt }),
    ]);
    expect(await whenHolds(told, (t) => t.includes('cr.retrospective-recorded->user:u-requester'))).toContain(
      'cr.retrospective-recorded->user:u-requester',
    );
  });

  it('retrospective: when an emergency approval recorded before reviews were tracked is replayed, it ends at the approval', async () => {
    // Recorded by the release before this one: the workflow completed right after the approving vote.
    const file = path.join(__dirname, 'fixtures', 'emergency-approved-before-retrospectives.json');
    const history = temporal.api.history.v1.History.fromObject(JSON.parse(fs.readFileSync(file, 'utf8')));
    const last = history.events?.at(-1);
    expect(last?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    expect(await replayHistories([{ workflowId: 'cr-recorded-before-retrospectives', history }])).toBe(1);
  });

  it('retrospective: when a normal change is approved, no review is owed and the workflow ends at the approval', async () => {
    const { handle } = await underReview();
    for (const [actor, role] of [
      [people.chair, 'ccb-chair'],
      [people.specialist, 'integration-specialist'],
      [people.steward, 'data-steward'],
    ] as const) {
      await handle.executeUpdate(decide, { args: [vote(actor, role)] });
    }
    expect(await handle.result()).toMatchObject({ status: 'approved' });
    const history = await handle.fetchHistory();
    const markers = (history.events ?? []).filter((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED);
    expect(JSON.stringify(markers)).not.toContain('cr-retrospective-review');
  });

  it('decide: when a board member rejects with a reason, the request is rejected and the workflow ends', async () => {
    const { handle } = await underReview();
    await handle.executeUpdate(decide, { args: [vote(people.chair, 'ccb-chair')] });
    const rejected = await handle.executeUpdate(decide, {
      args: [vote(people.steward, 'data-steward', 'reject', 'tariff mapping drops preferential origin codes')],
    });
    expect(rejected.status).toBe('rejected');
    expect(await handle.result()).toMatchObject({ status: 'rejected' });
  });

  it('decide: when a rejection carries no reason, the update is refused with VALIDATION_FAILED and nothing is written', async () => {
    const { id, handle } = await underReview();
    const before = await updateEvents(handle);
    const audits = await db.prisma.auditEvent.count({ where: { subjectId: id } });
    expect(await refusal(handle.executeUpdate(decide, { args: [vote(people.chair, 'ccb-chair', 'reject')] }))).toEqual({
      type: 'VALIDATION_FAILED',
      message: 'reason: a reason is required to reject or request changes',
    });
    expect(await updateEvents(handle)).toBe(before);
    expect(await db.prisma.auditEvent.count({ where: { subjectId: id } })).toBe(audits);
    expect((await handle.query(view)).votes).toEqual([]);
  });

  it('decide: when changes are requested and the request is resubmitted, a new round starts with no votes', async () => {
    const { id, handle } = await underReview();
    await handle.executeUpdate(decide, { args: [vote(people.chair, 'ccb-chair')] });
    const sentBack = await handle.executeUpdate(decide, {
      args: [vote(people.specialist, 'integration-specialist', 'request_changes', 'add the v2 error-code mapping')],
    });
    expect(sentBack.status).toBe('changes_requested');
    const edited = await handle.executeUpdate(edit, {
      args: [{ actor: people.requester, patch: { description: 'Now maps every v2 error code.' } }],
    });
    expect(edited.description).toBe('Now maps every v2 error code.');
    const round2 = await handle.executeUpdate(submit, { args: [{ actor: people.requester }] });
    expect(round2).toMatchObject({ status: 'under_review', round: 2, votes: [] });
    expect(round2.pendingRoles).toEqual(['ccb-chair', 'integration-specialist', 'data-steward']);
    expect(round2.pastRounds.map((r) => r.votes.length)).toEqual([2]);
    // The chair voted in round 1; that vote no longer counts, so the chair votes again.
    const again = await handle.executeUpdate(decide, { args: [vote(people.chair, 'ccb-chair')] });
    expect(again.votes).toHaveLength(1);
    const decisions = await db.prisma.decision.findMany({ where: { changeRequestId: id }, orderBy: { id: 'asc' } });
    expect(decisions.map((d) => [d.round, d.by])).toEqual([
      [1, 'u-chair'],
      [1, 'u-specialist'],
      [2, 'u-chair'],
    ]);
  });

  it('withdraw: when someone other than the requester withdraws, the update is refused with ROLE_REQUIRED', async () => {
    const { handle } = await open();
    expect((await refusal(handle.executeUpdate(withdraw, { args: [{ actor: people.chair }] }))).type).toBe(
      'ROLE_REQUIRED',
    );
  });

  it('withdraw: when the requester withdraws under review, the request is withdrawn and the workflow ends', async () => {
    const { id, handle } = await underReview();
    const withdrawn = await handle.executeUpdate(withdraw, { args: [{ actor: people.requester, reason: 'superseded' }] });
    expect(withdrawn.status).toBe('withdrawn');
    expect(await handle.result()).toMatchObject({ status: 'withdrawn' });
    expect((await db.prisma.changeRequest.findUniqueOrThrow({ where: { id } })).status).toBe('withdrawn');
  });

  it('decide: when the requester votes on their own change, the update is refused with SELF_APPROVAL_FORBIDDEN', async () => {
    const { handle } = await underReview({ requester: people.chairRequester });
    const refused = await refusal(
      handle.executeUpdate(decide, { args: [vote(people.chairRequester, 'ccb-chair')] }),
    );
    expect(refused.type).toBe('SELF_APPROVAL_FORBIDDEN');
  });

  it('decide: when a user votes in a role they do not hold, the update is refused with ROLE_REQUIRED', async () => {
    const { handle } = await underReview();
    expect((await refusal(handle.executeUpdate(decide, { args: [vote(people.finance, 'ccb-chair')] }))).type).toBe(
      'ROLE_REQUIRED',
    );
  });

  it('decide: when a user holding two roles votes a second time in the round, the update is refused with ALREADY_DECIDED', async () => {
    const { handle } = await underReview();
    await handle.executeUpdate(decide, { args: [vote(people.twoHats, 'ccb-chair')] });
    const refused = await refusal(handle.executeUpdate(decide, { args: [vote(people.twoHats, 'data-steward')] }));
    expect(refused.type).toBe('ALREADY_DECIDED');
    expect((await handle.query(view)).pendingRoles).toContain('data-steward');
  });

  it('decide: when the request is still a draft, the update is refused with INVALID_STATE', async () => {
    const { handle } = await open();
    expect((await refusal(handle.executeUpdate(decide, { args: [vote(people.chair, 'ccb-chair')] }))).type).toBe(
      'INVALID_STATE',
    );
  });

  it('edit: when the request is under review, the update is refused with INVALID_STATE', async () => {
    const { handle } = await underReview();
    const refused = await refusal(
      handle.executeUpdate(edit, { args: [{ actor: people.requester, patch: { title: 'Sneaky edit' } }] }),
    );
    expect(refused.type).toBe('INVALID_STATE');
    expect((await handle.query(view)).title).toBe(fields().title);
  });

  it('submit: when required evidence is missing, the update is refused with EVIDENCE_MISSING naming the kinds', async () => {
    const { handle } = await open({ evidence: evidence('documentation'), fields: fields({ touches: ['personal-data'] }) });
    const refused = await refusal(handle.executeUpdate(submit, { args: [{ actor: people.requester }] }));
    expect(refused.type).toBe('EVIDENCE_MISSING');
    expect(refused.message).toMatch(/test-evidence, rollback-plan, security-signoff$/);
    expect((await handle.query(view)).status).toBe('draft');
  });

  it('addEvidence: when a reviewer of the class adds the missing sign-off, the requester can submit', async () => {
    const { id, handle } = await open({ fields: fields({ touches: ['security-data'] }) });
    const refused = await refusal(
      handle.executeUpdate(addEvidence, {
        args: [{ actor: people.finance, evidence: evidence('security-signoff')[0] }],
      }),
    );
    expect(refused.type).toBe('ROLE_REQUIRED');
    await handle.executeUpdate(addEvidence, {
      args: [{ actor: people.security, evidence: evidence('security-signoff')[0] }],
    });
    const submitted = await handle.executeUpdate(submit, { args: [{ actor: people.requester }] });
    expect(submitted.pendingRoles).toContain('security-officer');
    const rows = await db.prisma.evidence.findMany({ where: { changeRequestId: id }, orderBy: { seq: 'asc' } });
    expect(rows.map((r) => [r.seq, r.kind, r.addedBy])).toEqual([
      [0, 'documentation', 'u-requester'],
      [1, 'test-evidence', 'u-requester'],
      [2, 'rollback-plan', 'u-requester'],
      [3, 'security-signoff', 'u-security'],
    ]);
  });

  it('policy: when the policy file changes after a request started, the request keeps its version and rules', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-policy-'));
    const file = path.join(dir, 'change-control.yaml');
    const shipped = fs.readFileSync(path.resolve(__dirname, '../../policies/change-control.yaml'), 'utf8');
    fs.writeFileSync(file, shipped);
    const before = loadChangeControlPolicy(file);
    if (!before.ok) throw new Error(before.error);
    const first = await underReview({ policy: before.policy, policyVersion: before.version });

    const relaxed = shipped
      .replace('requiredRoles: [ccb-chair, integration-specialist, data-steward]', 'requiredRoles: [ccb-chair]')
      .replace('quorum: 3', 'quorum: 1');
    expect(relaxed).not.toBe(shipped);
    fs.writeFileSync(file, relaxed);
    const after = loadChangeControlPolicy(file);
    if (!after.ok) throw new Error(after.error);
    expect(after.version).not.toBe(before.version);
    const second = await underReview({ policy: after.policy, policyVersion: after.version });

    const firstView: ChangeRequestView = await first.handle.executeUpdate(decide, {
      args: [vote(people.chair, 'ccb-chair')],
    });
    const secondView = await second.handle.executeUpdate(decide, { args: [vote(people.chair, 'ccb-chair')] });
    expect(firstView).toMatchObject({ policyVersion: before.version, status: 'under_review' });
    expect(firstView.pendingRoles).toEqual(['integration-specialist', 'data-steward']);
    expect(secondView).toMatchObject({ policyVersion: after.version, status: 'approved' });
    const row = await db.prisma.changeRequest.findUniqueOrThrow({ where: { id: first.id } });
    expect(row.policyVersion).toBe(before.version);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('start: when the workflow type is started by name, it runs the same workflow', async () => {
    const id = randomUUID();
    const { policy, version } = shippedPolicy();
    const handle = await t.client.workflow.start(CHANGE_REQUEST_WORKFLOW, {
      taskQueue,
      workflowId: changeRequestWorkflowId(id),
      args: [{ id, requester: people.requester, fields: fields(), policy, policyVersion: version }],
    });
    expect(await handle.query(view)).toMatchObject({ id, status: 'draft', evidence: [] });
  });

  it('start: when an update is waiting before the first workflow task, its write follows the opening write', async () => {
    const idle = await t.worker(db.prisma, notifier);
    const id = randomUUID();
    const { policy, version } = shippedPolicy();
    const handle = await t.client.workflow.start(changeRequest, {
      taskQueue: idle.taskQueue,
      workflowId: changeRequestWorkflowId(id),
      args: [{ id, requester: people.requester, fields: fields(), evidence: FULL, policy, policyVersion: version }],
    });
    const submitting = handle.executeUpdate(submit, { args: [{ actor: people.requester }] });
    // Let the update reach the server while no worker polls, so it arrives with the first workflow task.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const submittedView = await idle.worker.runUntil(submitting);
    expect(submittedView.status).toBe('under_review');
    const row = await db.prisma.changeRequest.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: 'under_review', revision: 2 });
    const actions = await db.prisma.auditEvent.findMany({ where: { subjectId: id }, orderBy: { id: 'asc' } });
    expect(actions.map((a) => a.action)[0]).toBe('CHANGE_REQUEST_OPENED');
    expect(actions.map((a) => a.action).at(-1)).toBe('CHANGE_REQUEST_SUBMITTED');
  });

  it('reset: when a request is reset to before its votes, the new run re-projects it at once, and again after a second reset', async () => {
    const { id, handle } = await underReview();
    await handle.executeUpdate(decide, { args: [vote(people.chair, 'ccb-chair')] });
    await handle.executeUpdate(decide, { args: [vote(people.specialist, 'integration-specialist')] });
    const ended = (await handle.describe()).runId;

    // Back to the workflow task after submit: under review, nobody has voted.
    const first = await resetTo(t.client, handle.workflowId, ended, afterUpdate(0));
    const reprojected = await whenHolds(() => db.prisma.changeRequest.findUniqueOrThrow({ where: { id } }), (r) => r.runId === first);
    expect(reprojected).toMatchObject({ status: 'under_review', voters: [], supersededRuns: [ended] });
    expect((reprojected.view as unknown as ChangeRequestView).votes).toEqual([]);
    expect(await db.prisma.decision.count({ where: { changeRequestId: id } })).toBe(0);
    expect(await db.prisma.evidence.count({ where: { changeRequestId: id } })).toBe(3);
    const audit = await db.prisma.auditEvent.findMany({ where: { subjectId: id }, orderBy: { id: 'asc' } });
    // The audit trail keeps what the ended run recorded and says where the request went back to.
    expect(audit.filter((a) => a.action === 'CHANGE_REQUEST_DECISION_RECORDED')).toHaveLength(2);
    expect(audit.at(-1)).toMatchObject({
      action: 'CHANGE_REQUEST_RESET',
      payload: expect.objectContaining({ runId: first, endedRunId: ended, status: 'under_review', round: 1 }),
    });

    const resetHandle = t.client.workflow.getHandle<typeof changeRequest>(handle.workflowId, first);
    const story = readableHistory((await resetHandle.fetchHistory()).events ?? []);
    expect(story.filter((e) => e.type === 'RESET')).toEqual([
      expect.objectContaining({ what: `reset to here from run ${ended}: back to the review` }),
    ]);
    expect(story.filter((e) => e.type === 'DECISION_RECORDED')).toEqual([]);
    await resetHandle.executeUpdate(decide, { args: [vote(people.chair, 'ccb-chair')] });
    expect(await db.prisma.decision.findMany({ where: { changeRequestId: id }, select: { by: true, decision: true } })).toEqual([
      { by: people.chair.id, decision: 'approve' },
    ]);
    expect(await db.prisma.changeRequest.findUniqueOrThrow({ where: { id } })).toMatchObject({ voters: [people.chair.id], runId: first });

    // A second reset, to the last workflow task, past the first re-projection and the chair's vote: under review with
    // that vote.
    const second = await resetTo(t.client, handle.workflowId, first, (events) => events.filter(isTaskCompleted).at(-1)!);
    const again = await whenHolds(() => db.prisma.changeRequest.findUniqueOrThrow({ where: { id } }), (r) => r.runId === second);
    expect(again).toMatchObject({ status: 'under_review', voters: [people.chair.id], supersededRuns: [ended, first] });
    expect(await db.prisma.decision.count({ where: { changeRequestId: id } })).toBe(1);
    await t.client.workflow.getHandle(handle.workflowId, second).terminate('reset test done');
  });

  it('replay: when every history this suite produced is replayed, each replays without nondeterminism', async () => {
    expect(await replayEveryHistory(t.client)).toBeGreaterThanOrEqual(15);
  });
});
