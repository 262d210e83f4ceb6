import type { PrismaClient } from '../generated/prisma/client';
import type { Logger } from '../log';
import os from 'node:os';
import path from 'node:path';
import { createChangeRequestActivities } from './change-request';
import { createCutoverActivities } from './cutover';
import type { EscalationPolicy } from '../domain/escalation-policy';
import { createEscalationActivities } from './escalation';
import { createLogNotifier, type Notifier } from './notifier';
import { createReconcileActivities } from './reconcile';
import { createRolloutActivities } from './rollout';

/** What activities are given: real clients in production and in tests, stubs only for the outside world. */
export interface ActivityDeps {
  prisma: PrismaClient;
  log: Logger;
  /** Tells people about the processes; a log-only notifier unless given. */
  notifier?: Notifier;
  clock?: () => Date;
  /** Scratch space for reconciliation spills; the system temporary directory unless given. */
  reconcileWorkDir?: string;
  /** For cutover plans that read windows from tables of the Clearway database. */
  databaseUrl?: string;
  /** The escalation policy new escalations start under; the shipped one unless given. */
  escalationPolicy?: { policy: EscalationPolicy; version: string };
}

/** Every activity the worker registers, built over injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createChangeRequestActivities({
      prisma: deps.prisma,
      clock: deps.clock ?? (() => new Date()),
      notifier: deps.notifier ?? createLogNotifier(deps.log),
    }),
    ...createEscalationActivities({
      prisma: deps.prisma,
      clock: deps.clock ?? (() => new Date()),
      notifier: deps.notifier ?? createLogNotifier(deps.log),
      policy: deps.escalationPolicy,
    }),
    ...createRolloutActivities({ prisma: deps.prisma, log: deps.log, clock: deps.clock ?? (() => new Date()) }),
    ...createCutoverActivities({ prisma: deps.prisma }),
    ...createReconcileActivities({
      prisma: deps.prisma,
      log: deps.log.child({ component: 'reconcile' }),
      workDir: deps.reconcileWorkDir ?? path.join(os.tmpdir(), 'clearway-reconcile'),
      databaseUrl: deps.databaseUrl,
    }),
  };
}

/** The activities' types, as workflows import them with `proxyActivities`. */
export type Activities = ReturnType<typeof createActivities>;
