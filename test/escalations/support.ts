import path from 'node:path';
import { QueryNotRegisteredError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import {
  DefaultLogger,
  Runtime,
  Worker,
  bundleWorkflowCode,
  makeTelemetryFilterString,
  type WorkflowBundle,
} from '@temporalio/worker';
import { createEscalationActivities } from '../../activities/escalation';
import type { Notification, Notifier } from '../../activities/notifier';
import type { Actor } from '../../domain/actor';
import type { EscalationView } from '../../domain/escalation';
import type { EscalationPolicy } from '../../domain/escalation-policy';
import type { Role } from '../../domain/roles';
import type { PrismaClient } from '../../generated/prisma/client';
import { loadEscalationPolicy, policyVersion } from '../../policies/load';
import { escalationView, type EscalationStart } from '../../workflows/escalation';
import { CostRouting } from '../../domain/cost-routing';

/** A notifier that keeps what it was asked to send. */
export function recordingNotifier(): Notifier & { sent: Notification[] } {
  const sent: Notification[] = [];
  return {
    sent,
    async notify(n) {
      sent.push(n);
      return 'logged';
    },
  };
}

let runtimeInstalled = false;
let bundle: Promise<WorkflowBundle> | undefined;

/** Keeps the SDK's own logs to errors; call before anything creates a connection or a worker. */
export function quietRuntime(): void {
  if (!runtimeInstalled) {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
    });
    runtimeInstalled = true;
  }
}

/** The workflows under test (the escalation and a parent that starts it as a child), bundled once per file. */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'workflows.ts'),
    logger: new DefaultLogger('ERROR'),
  });
  return bundle;
}

/** The shipped escalation policy, as the activities load it. */
export function shippedPolicy(): { policy: EscalationPolicy; version: string } {
  const loaded = loadEscalationPolicy();
  if (!loaded.ok) throw new Error(loaded.error);
  return { policy: loaded.policy, version: loaded.version };
}

/** The shipped policy with its cost routing replaced, versioned as a file with that content would be. */
export function withCostRouting(routing: Partial<CostRouting>): { policy: EscalationPolicy; version: string } {
  const policy = { ...shippedPolicy().policy, costRouting: CostRouting.parse(routing) };
  return { policy, version: policyVersion(policy) };
}

/** Activities over a real database with a recording notifier. */
export function activitiesFor(prisma: PrismaClient, notifier: Notifier) {
  return createEscalationActivities({ prisma, clock: () => new Date(), notifier });
}

/** A worker on its own task queue running the bundled workflows against real activities. */
export async function workerFor(
  connection: Parameters<typeof Worker.create>[0]['connection'],
  taskQueue: string,
  activities: ReturnType<typeof activitiesFor>,
): Promise<Worker> {
  return Worker.create({ connection, taskQueue, workflowBundle: await workflowBundle(), activities });
}

/** Replays the given histories with the bundle; returns how many replayed. */
export async function replay(histories: { workflowId: string; history: History }[]): Promise<number> {
  let n = 0;
  const options = { workflowBundle: await workflowBundle(), replayName: 'escalations' };
  for await (const result of Worker.runReplayHistories(options, histories)) {
    if (result.error) throw new Error(`history of ${result.workflowId} does not replay: ${result.error.message}`);
    n++;
  }
  return n;
}

/** An actor as the API would pass it. */
export function actor(id: string, ...roles: Role[]): Actor {
  return { id, roles };
}

/** A start input with defaults; the key is unique per call unless given. */
export function startInput(over: Partial<EscalationStart> = {}): EscalationStart {
  return {
    key: `k-${process.pid}-${Math.random().toString(36).slice(2, 10)}`,
    severity: 'normal',
    title: 'Declarations rejected by the single window',
    owner: { user: 'owner-1' },
    by: 'reporter-1',
    ...over,
  };
}

/** Polls the workflow's view (real time) until `ok` holds; the last view is returned either way on timeout. */
export async function viewWhen(
  handle: WorkflowHandle,
  ok: (v: EscalationView) => boolean,
  timeoutMs = 30_000,
): Promise<EscalationView> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await handle.query(escalationView).catch((e: unknown) => {
      // A child starts with its parent's next task, and the query handler exists once the policy has been read.
      const early = e instanceof QueryNotRegisteredError || e instanceof WorkflowNotFoundError;
      if (early && Date.now() < until) return null;
      throw e;
    });
    if (v !== null && (ok(v) || Date.now() > until)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
