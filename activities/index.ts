import type { PrismaClient } from '../generated/prisma/client';
import type { Logger } from '../log';

/** What activities are given: real clients in production and in tests, stubs only for the outside world. */
export interface ActivityDeps {
  prisma: PrismaClient;
  log: Logger;
}

/** Every activity the worker registers, built over injected dependencies. */
export function createActivities(_deps: ActivityDeps) {
  return {};
}

/** The activities' types, as workflows import them with `proxyActivities`. */
export type Activities = ReturnType<typeof createActivities>;
