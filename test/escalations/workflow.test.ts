import path from 'node:path';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import {
  acknowledgeEscalation,
  addEscalationCost,
  escalateEscalation,
  escalation,
  escalationWorkflowId,
  reassignEscalation,
  reopenEscalation,
  reportEscalation,
  reportReceipt,
  resolveEscalation,
  type EscalationStart,
} from '../../workflows/escalation';
import { backends, createTestDatabase, type TestDb } from '../helpers/db';
import { afterUpdate, resetTo, whenHolds } from '../helpers/reset';
import {
  activitiesFor,
  actor,
  quietRuntime,
  recordingNotifier,
  replay,
  startInput,
  withCostRouting,
  viewWhen,
  workerFor,
} from './support';
import { parentOfEscalation } from './workflows';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const executable = path.resolve(__dirname, '../../bin/clearway-devserver');
const started = new Set<string>();
const histories: { workflowId: string; history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> }[] = [];
let env: TestWorkflowEnvironment;
let db: TestDb;
let queue = 0;

beforeAll(async () => {
  quietRuntime();
  [env, db] = await Promise.all([
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: executable } } }),
    createTestDatabase(backends()[0]),
  ]);
});
// Time skipping waits for every outstanding workflow task, so a workflow left open without a worker would hold the
// clock still for the tests after it. Histories are kept as each test ends: skipped time expires closed runs.
afterEach(async () => {
  const ids = [...started];
  started.clear();
  await Promise.all(
    ids.map((id) =>
      env.client.workflow
        .getHandle(id)
        .terminate('test finished')
        .catch(() => undefined),
    ),
  );
  for (const workflowId of ids) {
    // A run that closed on its own may already be past retention in skipped time; the others must be there.
    const history = await env.client.workflow
      .getHandle(workflowId)
      .fetchHistory()
      .catch((e: unknown) => {
        if (e instanceof Error && /not found/i.test(e.message)) return null;
        throw e;
      });
    if (history) histories.push({ workflowId, history });
  }
});
afterAll(async () => {
  await env?.teardown();
  await db?.close();
});

type Run = { worker: Worker; taskQueue: string; notifier: ReturnType<typeof recordingNotifier> };

async function newWorker(): Promise<Run> {
  const notifier = recordingNotifier();
  const taskQueue = `esc-wf-${++queue}`;
  return {
    worker: await workerFor(env.nativeConnection, taskQueue, activitiesFor(db.prisma, notifier)),
    taskQueue,
    notifier,
  };
}

async function start(
  run: Run,
  over: Partial<EscalationStart> = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof escalation>> {
  const input = startInput(over);
  const workflowId = escalationWorkflowId(input.key);
  started.add(workflowId);
  return env.client.workflow.start(escalation, { taskQueue: run.taskQueue, workflowId, args: [input] });
}

async function refusal(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure)
      return e.cause.type ?? undefined;
    throw e;
  }
  return undefined;
}

const owner = actor('owner-1');
const stranger = actor('stranger-1', 'ccb-member');
const specialist = actor('spec-1', 'integration-specialist');
const ops = actor('ops-1', 'operations');

describe('escalation ladder (time skipping)', () => {
  test('ladder: when nobody acknowledges, the issue climbs every 4 hours, names who failed and notifies the new level', async () => {
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      const h = await start(run);
      await viewWhen(h, (v) => v.occurrences === 1);
      await env.sleep(4 * HOUR + MINUTE);
      const v2 = await viewWhen(h, (v) => v.level === 2);
      expect(v2.level).toBe(2);
      expect(v2.breaches[0]).toMatchObject({
        level: 1,
        window: 'acknowledge',
        failedToRespond: { user: 'owner-1' },
        outcome: 'climbed',
      });
      expect(v2.responsible).toEqual({ role: 'integration-specialist' });
      await env.sleep(8 * HOUR);
      const v4 = await viewWhen(h, (v) => v.level === 4);
      expect(v4.breaches.map((b) => b.failedToRespond)).toEqual([
        { user: 'owner-1' },
        { role: 'integration-specialist' },
        { role: 'data-steward' },
      ]);
      const kinds = run.notifier.sent.filter((n) => n.subjectId === h.workflowId).map((n) => `${n.kind}>${n.to}`);
      expect(run.notifier.sent.some((n) => n.subjectId === h.workflowId && n.data?.page)).toBe(false);
      expect(kinds).toEqual(
        expect.arrayContaining([
          'escalation.opened>user:owner-1',
          'escalation.climbed>role:integration-specialist',
          'escalation.climbed>role:data-steward',
          'escalation.climbed>role:operations',
        ]),
      );
      const row = await db.prisma.escalation.findUniqueOrThrow({ where: { id: h.workflowId } });
      expect(row).toMatchObject({ level: 4, responsible: 'role:operations', slaBreachedAt: null });
      const breaches = await db.prisma.escalationBreach.findMany({
        where: { escalationId: h.workflowId },
        orderBy: { index: 'asc' },
      });
      expect(breaches.map((b) => b.failedToRespond)).toEqual([
        'user:owner-1',
        'role:integration-specialist',
        'role:data-steward',
      ]);
    });
  });

  test('ladder: when the top level does not answer, it is re-notified once, then an SLA breach is recorded and reminders keep coming', async () => {
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      const h = await start(run, { severity: 'critical' });
      await viewWhen(h, (v) => v.occurrences === 1);
      // critical: 15 min per level to acknowledge, three levels, the top repeats twice before breaching.
      await env.sleep(30 * MINUTE + MINUTE);
      await viewWhen(h, (v) => v.level === 3);
      await env.sleep(45 * MINUTE);
      const v = await viewWhen(h, (x) => x.slaBreachedAt !== null);
      expect(v.breaches.map((b) => b.outcome)).toEqual(['climbed', 'climbed', 'repeated', 'repeated', 'top-level']);
      await env.sleep(15 * MINUTE);
      const again = await viewWhen(h, (x) => x.breaches.filter((b) => b.outcome === 'top-level').length === 2);
      expect(again.breaches.filter((b) => b.outcome === 'top-level')).toHaveLength(2);
      const sent = run.notifier.sent.filter((n) => n.subjectId === h.workflowId);
      expect(sent.filter((n) => n.kind === 'escalation.sla-breached').length).toBeGreaterThanOrEqual(2);
      // The critical ladder pages from its first notification on.
      expect(sent.find((n) => n.kind === 'escalation.opened')?.data).toMatchObject({ page: true, level: 1 });
      expect(sent.every((n) => n.data?.page === true)).toBe(true);
      expect(
        sent.filter((n) => n.kind === 'escalation.reminder' && n.to === 'role:operations').length,
      ).toBeGreaterThanOrEqual(2);
      const audit = await db.prisma.auditEvent.count({
        where: { subjectId: h.workflowId, action: 'ESCALATION_SLA_BREACHED' },
      });
      expect(audit).toBeGreaterThanOrEqual(2);
    });
  });

  test('ladder: when the owner acknowledges, the acknowledge window stops and only the 24-hour resolve window climbs', async () => {
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      const h = await start(run);
      await viewWhen(h, (v) => v.occurrences === 1);
      await env.sleep(HOUR);
      const acked = await h.executeUpdate(acknowledgeEscalation, { args: [{ actor: owner }] });
      expect(acked.status).toBe('acknowledged');
      await env.sleep(6 * HOUR);
      expect((await viewWhen(h, () => true)).level).toBe(1);
      await env.sleep(18 * HOUR);
      const v = await viewWhen(h, (x) => x.level === 2);
      expect(v.breaches[0]).toMatchObject({ window: 'resolve', failedToRespond: { user: 'owner-1' } });
      const step = await db.prisma.escalationStep.findUniqueOrThrow({
        where: { escalationId_index: { escalationId: h.workflowId, index: 0 } },
      });
      expect(Number(step.timeToAcknowledgeMs)).toBeGreaterThanOrEqual(HOUR);
      expect(Number(step.timeToAcknowledgeMs)).toBeLessThan(HOUR + 5 * MINUTE);
    });
  });

  test('restart: when the worker stops mid-ladder and a new one starts, the ladder continues where it was', async () => {
    const first = await newWorker();
    let h!: WorkflowHandle<typeof escalation>;
    await first.worker.runUntil(async () => {
      h = await start(first);
      await env.sleep(4 * HOUR + MINUTE);
      await viewWhen(h, (v) => v.level === 2);
    });
    expect(first.worker.getState()).toBe('STOPPED');
    const second = await workerFor(env.nativeConnection, first.taskQueue, activitiesFor(db.prisma, first.notifier));
    await second.runUntil(async () => {
      await env.sleep(4 * HOUR);
      const v = await viewWhen(h, (x) => x.level === 3);
      expect(v.level).toBe(3);
      expect(v.breaches.map((b) => b.level)).toEqual([1, 2]);
    });
    const rows = await db.prisma.auditEvent.findMany({
      where: { subjectId: h.workflowId, action: 'ESCALATION_CLIMBED' },
    });
    expect(rows).toHaveLength(2);
  });
});

describe('escalation updates (validators)', () => {
  test('acknowledge: when someone not answering for the level tries, it is rejected with ROLE_REQUIRED; twice is INVALID_STATE', async () => {
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      const h = await start(run);
      expect(await refusal(h.executeUpdate(acknowledgeEscalation, { args: [{ actor: stranger }] }))).toBe(
        'ROLE_REQUIRED',
      );
      await h.executeUpdate(acknowledgeEscalation, { args: [{ actor: owner }] });
      expect(await refusal(h.executeUpdate(acknowledgeEscalation, { args: [{ actor: owner }] }))).toBe('INVALID_STATE');
      expect(
        await refusal(
          h.executeUpdate(acknowledgeEscalation, { args: [{ actor: { id: 'x', roles: ['wizard'] } as never }] }),
        ),
      ).toBe('VALIDATION_FAILED');
    });
  });

  test('resolve: when the note is blank it is rejected with VALIDATION_FAILED; with a note the time to resolve is recorded', async () => {
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      const h = await start(run);
      expect(await refusal(h.executeUpdate(resolveEscalation, { args: [{ actor: owner, note: '  ' }] }))).toBe(
        'VALIDATION_FAILED',
      );
      expect(await refusal(h.executeUpdate(resolveEscalation, { args: [{ actor: stranger, note: 'fixed' }] }))).toBe(
        'ROLE_REQUIRED',
      );
      const v = await h.executeUpdate(resolveEscalation, { args: [{ actor: owner, note: 'mapping corrected' }] });
      expect(v).toMatchObject({ status: 'resolved', resolution: { note: 'mapping corrected', by: 'owner-1' } });
      const row = await db.prisma.escalation.findUniqueOrThrow({ where: { id: h.workflowId } });
      expect(row.status).toBe('resolved');
      const step = await db.prisma.escalationStep.findFirstOrThrow({ where: { escalationId: h.workflowId } });
      expect(step.timeToResolveMs).not.toBeNull();
    });
  });

  test('reassign: when the target lacks the level role it is rejected with ROLE_REQUIRED; a holder becomes the assignee', async () => {
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      const h = await start(run);
      await viewWhen(h, (v) => v.occurrences === 1);
      await h.executeUpdate(escalateEscalation, { args: [{ actor: owner, reason: 'needs a specialist' }] });
      const wrong = { actor: specialist, to: actor('steward-1', 'data-steward') };
      expect(await refusal(h.executeUpdate(reassignEscalation, { args: [wrong] }))).toBe('ROLE_REQUIRED');
      expect(
        await refusal(
          h.executeUpdate(reassignEscalation, {
            args: [{ actor: stranger, to: actor('spec-2', 'integration-specialist') }],
          }),
        ),
      ).toBe('ROLE_REQUIRED');
      const v = await h.executeUpdate(reassignEscalation, {
        args: [{ actor: specialist, to: actor('spec-2', 'integration-specialist') }],
      });
      expect(v.responsible).toEqual({ user: 'spec-2' });
      expect(run.notifier.sent.some((n) => n.kind === 'escalation.reassigned' && n.to === 'user:spec-2')).toBe(true);
    });
  });

  test('escalate: when no reason is given it is rejected with VALIDATION_FAILED; at the top level it is INVALID_STATE', async () => {
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      const h = await start(run);
      expect(await refusal(h.executeUpdate(escalateEscalation, { args: [{ actor: owner, reason: '' }] }))).toBe(
        'VALIDATION_FAILED',
      );
      expect(await refusal(h.executeUpdate(escalateEscalation, { args: [{ actor: stranger, reason: 'x' }] }))).toBe(
        'ROLE_REQUIRED',
      );
      const v = await h.executeUpdate(escalateEscalation, {
        args: [{ actor: owner, reason: 'customs outage', toLevel: 4 }],
      });
      expect(v.level).toBe(4);
      expect(await refusal(h.executeUpdate(escalateEscalation, { args: [{ actor: ops, reason: 'more' }] }))).toBe(
        'INVALID_STATE',
      );
    });
  });

  test('reopen: when the reason is missing or the window has passed it is rejected; within the window it reopens', async () => {
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      const h = await start(run, { severity: 'critical' });
      await h.executeUpdate(resolveEscalation, { args: [{ actor: owner, note: 'restarted the adapter' }] });
      expect(await refusal(h.executeUpdate(reopenEscalation, { args: [{ actor: owner, reason: '' }] }))).toBe(
        'VALIDATION_FAILED',
      );
      expect(await refusal(h.executeUpdate(reopenEscalation, { args: [{ actor: stranger, reason: 'again' }] }))).toBe(
        'ROLE_REQUIRED',
      );
      const v = await h.executeUpdate(reopenEscalation, { args: [{ actor: owner, reason: 'failing again' }] });
      expect(v).toMatchObject({ status: 'open', reopenCount: 1 });
      await h.executeUpdate(resolveEscalation, { args: [{ actor: owner, note: 'root cause fixed' }] });
      // critical reopens within 3 days; the workflow then completes with its final view.
      const result = await h.result();
      expect(result).toMatchObject({ status: 'resolved', reopenCount: 1 });
    });
  });

  test('reopen: when the reopen window has passed, the workflow has completed and the update is refused', async () => {
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      const h = await start(run, { severity: 'critical' });
      await h.executeUpdate(resolveEscalation, { args: [{ actor: owner, note: 'done' }] });
      await h.result();
      await expect(h.executeUpdate(reopenEscalation, { args: [{ actor: owner, reason: 'late' }] })).rejects.toThrow();
    });
  });
});

describe('escalation costs', () => {
  test('add-cost: when a stranger books or the amount or currency is bad, it is rejected', async () => {
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      const h = await start(run);
      const cost = { actor: owner, amount: 100, currency: 'USD', note: 'demurrage' };
      expect(await refusal(h.executeUpdate(addEscalationCost, { args: [{ ...cost, actor: stranger }] }))).toBe(
        'ROLE_REQUIRED',
      );
      expect(await refusal(h.executeUpdate(addEscalationCost, { args: [{ ...cost, currency: 'EUR' }] }))).toBe(
        'VALIDATION_FAILED',
      );
      expect(await refusal(h.executeUpdate(addEscalationCost, { args: [{ ...cost, amount: 0.001 }] }))).toBe(
        'VALIDATION_FAILED',
      );
      expect(await refusal(h.executeUpdate(addEscalationCost, { args: [{ ...cost, note: '' }] }))).toBe(
        'VALIDATION_FAILED',
      );
    });
  });

  test('add-cost: when a cycle sums to $9,999.99 it goes to finance; $0.01 more on another issue sends the cycle to operations', async () => {
    // A currency no other test books keeps this cycle's ledger to this test.
    const routing = { currency: 'CAD', threshold: 10_000 };
    const policy = withCostRouting(routing);
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      const a = await start(run, { policy });
      const b = await start(run, { policy });
      const finance = actor('fin-1', 'finance');
      const first = await a.executeUpdate(addEscalationCost, {
        args: [{ actor: finance, amount: 4_999.99, currency: 'CAD', note: 'storage' }],
      });
      expect(first.costRoute).toBe('finance');
      const second = await b.executeUpdate(addEscalationCost, {
        args: [{ actor: finance, amount: 5_000, currency: 'CAD', note: 'penalty' }],
      });
      expect(second.costRoute).toBe('finance');
      const third = await a.executeUpdate(addEscalationCost, {
        args: [{ actor: finance, amount: 0.01, currency: 'CAD', note: 'fee' }],
      });
      expect(third.costRoute).toBe('operations');
      const routed = run.notifier.sent
        .filter((n) => n.kind === 'escalation.cost-routed')
        .map((n) => `${n.subjectId}>${n.to}`);
      expect(routed).toEqual([
        `${a.workflowId}>role:finance`,
        `${b.workflowId}>role:finance`,
        `${a.workflowId}>role:operations`,
      ]);
    });
  });

  test('reset: when an escalation is reset to before a cost was booked, the new run re-projects it without the cost', async () => {
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      const h = await start(run);
      await h.executeUpdate(acknowledgeEscalation, { args: [{ actor: owner }] });
      await h.executeUpdate(addEscalationCost, { args: [{ actor: owner, amount: 100, currency: 'USD', note: 'demurrage' }] });
      expect(await db.prisma.costEntry.count({ where: { escalationId: h.workflowId } })).toBe(1);
      const ended = (await h.describe()).runId;

      const runId = await resetTo(env.client, h.workflowId, ended, afterUpdate(0));
      const row = await whenHolds(() => db.prisma.escalation.findUniqueOrThrow({ where: { id: h.workflowId } }), (r) => r.runId === runId);
      expect(row).toMatchObject({ runId, supersededRuns: [ended], status: 'acknowledged', costCents: 0n });
      expect(await db.prisma.costEntry.count({ where: { escalationId: h.workflowId } })).toBe(0);
      const reset = await db.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: h.workflowId, action: 'ESCALATION_RESET' } });
      expect(reset.payload).toMatchObject({ runId, endedRunId: ended, status: 'acknowledged' });
      // The reset run is the one the suite keeps and replays.
      expect((await h.describe()).runId).toBe(runId);
    });
  });

  test('add-cost: when one cost of exactly $10,000 is booked in a fresh cycle, it goes to operations', async () => {
    const policy = withCostRouting({ currency: 'AUD' });
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      const h = await start(run, { policy });
      const v = await h.executeUpdate(addEscalationCost, {
        args: [{ actor: owner, amount: 10_000, currency: 'AUD', note: 'rework' }],
      });
      expect(v.costRoute).toBe('operations');
      const entries = await db.prisma.costEntry.findMany({ where: { escalationId: h.workflowId } });
      expect(entries.map((e) => Number(e.amountCents))).toEqual([1_000_000]);
    });
  });
});

describe('escalation costs booked at the same time', () => {
  test('add-cost: when four escalations each book $3,000 at once, every booking sees the ones before it and the one reaching $10,000 goes to operations', async () => {
    // A currency no other test books keeps this cycle's ledger to this test.
    const policy = withCostRouting({ currency: 'NZD', threshold: 10_000 });
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      const handles = await Promise.all([1, 2, 3, 4].map(() => start(run, { policy })));
      await Promise.all(handles.map((h) => viewWhen(h, (v) => v.occurrences === 1)));
      const finance = actor('fin-2', 'finance');
      const views = await Promise.all(
        handles.map((h) =>
          h.executeUpdate(addEscalationCost, {
            args: [{ actor: finance, amount: 3_000, currency: 'NZD', note: 'storage at the port' }],
          }),
        ),
      );
      const entries = await db.prisma.costEntry.findMany({ where: { currency: 'NZD' } });
      // Serialized in the ledger: the running totals are distinct, whatever order the bookings took.
      expect(entries.map((e) => Number(e.cycleTotalCents)).sort((a, b) => a - b)).toEqual([
        300_000, 600_000, 900_000, 1_200_000,
      ]);
      const routes = views.map((v) => v.costRoute).sort();
      expect(routes).toEqual(['finance', 'finance', 'finance', 'operations']);
      const atTop = entries.find((e) => Number(e.cycleTotalCents) === 1_200_000)!;
      const topView = views.find((v) => v.id === atTop.escalationId)!;
      expect(topView.costRoute).toBe('operations');
    });
  });
});

describe('escalation starts', () => {
  test('dedupe: when the same key is reported twice by signal-with-start, one escalation counts two occurrences', async () => {
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      const input = startInput();
      const workflowId = escalationWorkflowId(input.key);
      started.add(workflowId);
      const report = (reportId: string) =>
        env.client.workflow.signalWithStart(escalation, {
          taskQueue: run.taskQueue,
          workflowId,
          args: [{ ...input, reportId, source: { kind: 'webhook', ref: 'monitor' } }],
          signal: reportEscalation,
          signalArgs: [{ by: 'monitor', reportId }],
        });
      const h1 = await report('r-1');
      expect((await viewWhen(h1, (v) => v.occurrences === 1)).occurrences).toBe(1);
      const h2 = await report('r-2');
      expect(h2.signaledRunId).toBe(h1.signaledRunId);
      const v = await viewWhen(h2, (x) => x.occurrences === 2);
      expect(v).toMatchObject({ occurrences: 2, source: { kind: 'webhook', ref: 'monitor' } });
      // The sender delivers r-2 again: it is the same report, so it is not counted a second time.
      await report('r-2');
      await report('r-3');
      const after = await viewWhen(h2, (x) => x.occurrences === 3);
      expect(after.occurrences).toBe(3);
      const receipt = (id: string) => h2.query(reportReceipt, id);
      expect(await receipt('r-1')).toMatchObject({ outcome: 'started', written: true });
      expect(await receipt('r-2')).toMatchObject({ outcome: 'counted' });
      expect(await receipt('r-9')).toBeNull();
      // A receipt says when its report is in the projection; the audit trail is read after that.
      for (let i = 0; i < 600 && !(await receipt('r-3'))?.written; i++) await new Promise((r) => setTimeout(r, 50));
      const occurred = await db.prisma.auditEvent.count({
        where: { subjectId: workflowId, action: 'ESCALATION_OCCURRED' },
      });
      expect(occurred).toBe(2);
      await expect(
        env.client.workflow.start(escalation, { taskQueue: run.taskQueue, workflowId, args: [input] }),
      ).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    });
  });

  test('subject: when an escalation is started about a change request, its view and projection name it', async () => {
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      const h = await start(run, { subject: { type: 'change-request', id: 'cr-subject-1' } });
      const v = await viewWhen(h, (x) => x.occurrences === 1);
      expect(v.subject).toEqual({ type: 'change-request', id: 'cr-subject-1' });
      await h.executeUpdate(acknowledgeEscalation, { args: [{ actor: owner }] });
      const row = await db.prisma.escalation.findUniqueOrThrow({ where: { id: h.workflowId } });
      expect([row.subjectType, row.subjectId]).toEqual(['change-request', 'cr-subject-1']);
    });
  });

  test('child: when a parent starts an escalation as a child, the parent hears the resolution by signal', async () => {
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      const input = startInput({ by: 'workflow:cr-1' });
      const parentId = `parent-${input.key}`;
      started.add(parentId).add(escalationWorkflowId(input.key));
      const parent = await env.client.workflow.start(parentOfEscalation, {
        taskQueue: run.taskQueue,
        workflowId: parentId,
        args: [input],
      });
      const child = env.client.workflow.getHandle<typeof escalation>(escalationWorkflowId(input.key));
      const v = await viewWhen(child, (x) => x.occurrences === 1);
      expect(v.source).toEqual({ kind: 'workflow', ref: parentId });
      await child.executeUpdate(resolveEscalation, { args: [{ actor: owner, note: 'fixed upstream' }] });
      expect(await parent.result()).toMatchObject({ escalationId: child.workflowId, status: 'resolved' });
    });
  });
});

describe('escalation continue-as-new', () => {
  test('continue-as-new: when a long top-level breach fills the history, the run continues as new with its state, reports and projection intact', async () => {
    const run = await newWorker();
    await run.worker.runUntil(async () => {
      // critical: three 15-minute levels, the top one repeating; a small history limit makes the hand-over early.
      const h = await start(run, { severity: 'critical', historyLimit: 120 });
      const firstRunId = h.firstExecutionRunId;
      await viewWhen(h, (v) => v.occurrences === 1);
      await h.signal(reportEscalation, { by: 'monitor', reportId: 'before-hand-over' });
      await h.executeUpdate(addEscalationCost, {
        args: [{ actor: ops, amount: 120, currency: 'USD', note: 'courier' }],
      });
      await env.sleep(4 * HOUR);
      const long = await viewWhen(h, (v) => v.breaches.filter((b) => b.outcome === 'top-level').length >= 8);
      const current = await env.client.workflow.getHandle(h.workflowId).describe();
      expect(current.runId).not.toBe(firstRunId);

      // The new run answers for the whole escalation: its state, the reports it saw, its writes.
      expect(long).toMatchObject({ occurrences: 2, level: 3, costs: [{ amountCents: 12_000 }] });
      expect(long.slaBreachedAt).not.toBeNull();
      expect(await h.query(reportReceipt, 'before-hand-over')).toMatchObject({ outcome: 'counted', written: true });
      await h.signal(reportEscalation, { by: 'monitor', reportId: 'before-hand-over' });
      const acked = await h.executeUpdate(acknowledgeEscalation, { args: [{ actor: ops }] });
      expect(acked).toMatchObject({ status: 'acknowledged', occurrences: 2 });
      const breaches = acked.breaches.filter((b) => b.outcome === 'top-level').length;
      const audited = await db.prisma.auditEvent.findMany({ where: { subjectId: h.workflowId } });
      expect(audited.filter((a) => a.action === 'ESCALATION_SLA_BREACHED')).toHaveLength(breaches);
      const keys = audited.map((a) => (a.payload as { eventKey: string }).eventKey);
      expect(new Set(keys).size).toBe(keys.length);
      const row = await db.prisma.escalation.findUniqueOrThrow({ where: { id: h.workflowId } });
      expect(row).toMatchObject({ status: 'acknowledged', occurrences: 2 });
      expect(row.seq).toBe(Math.max(...audited.map((a) => (a.payload as { seq: number }).seq)));

      // Every run but the last is kept here; afterEach keeps the last one.
      let runId: string | null | undefined = firstRunId;
      let runs = 0;
      while (runId && runId !== current.runId) {
        const history: History = await env.client.workflow.getHandle(h.workflowId, runId).fetchHistory();
        histories.push({ workflowId: h.workflowId, history });
        const last = history.events?.[history.events.length - 1];
        runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
        runs++;
      }
      expect(runId).toBe(current.runId);
      expect(runs).toBeGreaterThanOrEqual(1);
    });
  });
});

describe('escalation histories', () => {
  test('replay: when every history this file produced is replayed with the current code, none diverges', async () => {
    expect(histories.length).toBeGreaterThanOrEqual(17);
    expect(await replay(histories)).toBe(histories.length);
  });
});
