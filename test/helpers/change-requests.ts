import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  bundleWorkflowCode,
  makeTelemetryFilterString,
  type WorkflowBundle,
} from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { Notification, Notifier } from '../../activities/notifier';
import { startDevServer, type DevServer } from '../../devserver';
import type { Actor } from '../../domain/actor';
import type { ChangeRequestFields, EvidenceInput } from '../../domain/change-request';
import type { EvidenceKind } from '../../domain/change-request-policy';
import type { PrismaClient } from '../../generated/prisma/client';
import { loadChangeControlPolicy } from '../../policies/load';
import type { ChangeRequestStart } from '../../workflows/change-request';
import { silentLog } from './db';

/** Board members and requesters used across the change-request suites; ids are stable user ids. */
export const people = {
  requester: { id: 'u-requester', roles: ['integration-specialist'] },
  chairRequester: { id: 'u-chair-requester', roles: ['ccb-chair'] },
  chair: { id: 'u-chair', roles: ['ccb-chair'] },
  specialist: { id: 'u-specialist', roles: ['integration-specialist'] },
  steward: { id: 'u-steward', roles: ['data-steward'] },
  member: { id: 'u-member', roles: ['ccb-member'] },
  security: { id: 'u-security', roles: ['security-officer'] },
  twoHats: { id: 'u-two-hats', roles: ['ccb-chair', 'data-steward'] },
  finance: { id: 'u-finance', roles: ['finance'] },
} satisfies Record<string, Actor>;

/** A valid description of a change, with any field replaced. */
export function fields(overrides: Partial<ChangeRequestFields> = {}): ChangeRequestFields {
  return {
    title: 'Switch the broker link to declaration API v2',
    description: 'Move submissions from v1 to v2 of the customs declaration API.',
    class: 'normal',
    risk: 'medium',
    affectedSystems: ['broker-link', 'erp'],
    touches: [],
    ...overrides,
  };
}

/** One evidence item per kind. */
export function evidence(...kinds: EvidenceKind[]): EvidenceInput[] {
  return kinds.map((kind) => ({ kind, title: `${kind} for the change`, uri: `https://docs.example.com/${kind}` }));
}

/** The shipped policy and its version. */
export function shippedPolicy(): { policy: ChangeRequestStart['policy']; version: string } {
  const loaded = loadChangeControlPolicy();
  if (!loaded.ok) throw new Error(loaded.error);
  return { policy: loaded.policy, version: loaded.version };
}

/** A notifier that keeps what it was asked to send; the outside world is the only thing these suites stub. */
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

/** The production workflows bundled once per test file. */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../../workflows/index.ts'),
    logger: new DefaultLogger('ERROR'),
  });
  return bundle;
}

/** Quiets the SDK's process-wide runtime once: retries and refusals are exercised on purpose. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
}

/** An embedded Temporal server with a client and a factory for workers running the real activities. */
export interface TemporalFixture {
  server: DevServer;
  client: Client;
  nativeConnection: NativeConnection;
  /** A worker on a fresh task queue over the real activities and `notifier`. */
  worker(prisma: PrismaClient, notifier: Notifier): Promise<{ worker: Worker; taskQueue: string }>;
  close(): Promise<void>;
}

/** Starts the embedded server on a free port and connects the SDK to it. */
export async function startTemporal(): Promise<TemporalFixture> {
  quietRuntime();
  const server = await startDevServer({ port: 0, logLevel: 'silent' });
  const connection = await Connection.connect({ address: server.address });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const client = new Client({ connection });
  let n = 0;
  return {
    server,
    client,
    nativeConnection,
    async worker(prisma, notifier) {
      const taskQueue = `cr-${process.pid}-${++n}`;
      const worker = await Worker.create({
        connection: nativeConnection,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: createActivities({ prisma, log: silentLog, notifier }),
      });
      return { worker, taskQueue };
    },
    async close() {
      await connection.close();
      await nativeConnection.close();
      await server.stop();
    },
  };
}

/** Replays every history `client` can list through the bundled workflows; resolves with how many replayed. */
export async function replayEveryHistory(client: Client): Promise<number> {
  return replayHistories(client.workflow.list().intoHistories());
}

/** Replays `histories` through the bundled workflows; resolves with how many replayed, throwing on the first that does not. */
export async function replayHistories(histories: Parameters<typeof Worker.runReplayHistories>[1]): Promise<number> {
  let replayed = 0;
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: await workflowBundle(), replayName: 'change-requests' },
    histories,
  )) {
    if (result.error) throw new Error(`history of ${result.workflowId} does not replay: ${result.error.message}`);
    replayed++;
  }
  return replayed;
}
