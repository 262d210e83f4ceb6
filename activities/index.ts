import type { PrismaClient } from '../generated/prisma/client';
import type { Logger } from '../log';
import { createChangeRequestActivities } from './change-request';
import { createLogNotifier, type Notifier } from './notifier';
import { createRolloutActivities } from './rollout';

/** What activities are given: real clients in production and in tests, stubs only for the outside world. */
export interface ActivityDeps {
  prisma: PrismaClient;
  log: Logger;
  /** Tells people about the processes; a log-only notifier unless given. */
  notifier?: Notifier;
  clock?: () => Date;
}

/** Every activity the worker registers, built over injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createChangeRequestActivities({
      prisma: deps.prisma,
      clock: deps.clock ?? (() => new Date()),
      notifier: deps.notifier ?? createLogNotifier(deps.log),
    }),
    ...createRolloutActivities({ prisma: deps.prisma, log: deps.log, clock: deps.clock ?? (() => new Date()) }),
  };
}

/** The activities' types, as workflows import them with `proxyActivities`. */
export type Activities = ReturnType<typeof createActivities>;
