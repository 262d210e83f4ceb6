import path from 'node:path';
import { buildApp } from '../api/app';
import { startDevServerThread } from '../devserver';
import { version } from '../package.json';
import type { CliContext } from './common';
import { configFrom, loggerFor } from './common';
import { openDatabase, type MigratePolicy } from './database';
import { listen } from './http-server';
import { Lifecycle } from './lifecycle';
import { changeControlSetup } from './change-control';
import { connectTemporal } from './temporal';
import { startTracing } from './tracing';
import { workerMetricsAddress } from './worker-metrics';

/** Which long-running parts a command runs in this process. */
export interface ServiceSelection {
  api: boolean;
  worker: boolean;
  /** Start the embedded Temporal server when TEMPORAL_ADDRESS is unset. */
  embeddedTemporal: boolean;
  migrate: MigratePolicy;
}

/**
 * Starts the selected parts in dependency order (database, Temporal, worker, API), then runs until
 * SIGINT/SIGTERM and stops them in reverse; resolves with the process exit code.
 */
export async function runServices(ctx: CliContext, selection: ServiceSelection): Promise<number> {
  const config = configFrom(ctx);
  const log = loggerFor(config, 'service');
  const life = new Lifecycle(log);
  const signalled = life.untilSignal();
  // A bad policy stops start-up before anything runs, with one line naming the file, path and problem.
  const changeControl = changeControlSetup(ctx.env, log, {
    changeControl: config.CHANGE_CONTROL_POLICY,
    escalation: config.ESCALATION_POLICY,
  });
  try {
    // Off unless an OTLP endpoint is configured; stopped last, so the spans of everything stopping are exported.
    const tracing = startTracing(config, log);
    if (tracing) life.add({ name: 'tracing', stop: () => tracing.stop() });
    const db = await openDatabase(config, log, selection.migrate);
    life.add({ name: 'database', stop: () => db.close() });

    let address = config.TEMPORAL_ADDRESS ?? null;
    let unavailable: string | undefined;
    let temporalUiUrl = config.TEMPORAL_UI_URL;
    if (!address && selection.embeddedTemporal) {
      try {
        // On a thread of its own: the server's work then uses the second core instead of queueing
        // behind the API and the worker on this one.
        const server = await startDevServerThread({
          port: config.TEMPORAL_PORT,
          dbFilename: path.join(config.DATA_DIR, 'temporal.db'),
          namespaces: [config.TEMPORAL_NAMESPACE],
          logLevel: config.LOG_LEVEL,
          // The Temporal UI beside it (0 turns it off); a busy port costs the UI, never Temporal.
          uiPort: config.TEMPORAL_UI_PORT || undefined,
          uiOptional: true,
          log: log.child({ component: 'devserver' }),
        });
        life.add({ name: 'temporal-server', stop: () => server.stop() });
        address = server.address;
        const ui = server.uiPort === undefined ? undefined : `http://127.0.0.1:${server.uiPort}`;
        temporalUiUrl ??= ui;
        log.info({ address, ui }, 'embedded Temporal server started');
      } catch (e) {
        unavailable = `the embedded Temporal server did not start: ${(e as Error).message}`;
        log.warn(`${unavailable}; serving without Temporal until restarted`);
      }
    } else if (!address) {
      address = `127.0.0.1:${config.TEMPORAL_PORT}`;
    }

    const temporal = connectTemporal(config, log, {
      address,
      unavailable,
      worker: selection.worker,
      prisma: db.prisma,
      notifier: changeControl.notifier,
      reconcileWorkDir: path.join(config.DATA_DIR, 'reconcile'),
      databaseUrl: db.url,
      escalationPolicy: changeControl.escalation,
      tracing,
      workerMetricsAddress: selection.worker ? await workerMetricsAddress(config.WORKER_METRICS_ADDRESS) : undefined,
    });
    life.add({ name: 'temporal', stop: () => temporal.stop() });

    if (selection.api) {
      const app = buildApp({
        prisma: db.prisma,
        log,
        temporal: () => temporal.client(),
        checks: {
          database: async () => {
            await db.prisma.$queryRaw`SELECT 1`;
          },
          temporal: () => temporal.check(),
        },
        version,
        temporalUiUrl,
        // The worker of this process, if any, is scraped through the API's /metrics: one target for `clearway start`.
        metrics: { token: config.METRICS_TOKEN, workerMetrics: temporal.workerMetrics },
        tracer: tracing?.tracer,
        changeRequests: { ...changeControl.policy, taskQueue: config.TASK_QUEUE },
        // Uploads are staged on this machine's disk, where the embedded worker reads them.
        cutovers: { taskQueue: config.TASK_QUEUE, uploadDir: path.join(config.DATA_DIR, 'cutovers') },
        escalations: {
          taskQueue: config.TASK_QUEUE,
          policy: changeControl.escalation,
          webhookSecret: config.ESCALATION_WEBHOOK_SECRET,
        },
      });
      const server = await listen(app, config.HOST, config.PORT);
      life.add(server);
      log.info(
        { url: `http://${config.HOST}:${server.port}`, docs: `http://${config.HOST}:${server.port}/docs` },
        'API listening',
      );
    }
  } catch (e) {
    await life.stop();
    throw e;
  }
  return signalled;
}
