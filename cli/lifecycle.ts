import type { Logger } from '../log';

/** Something started that must be stopped on the way out. */
export interface Component {
  name: string;
  stop(): Promise<void>;
}

/** Everything a shutdown must finish within, as the issue promises Ctrl-C does. */
export const SHUTDOWN_BUDGET_MS = 10_000;

/**
 * Keeps started components and stops them in reverse order, so the API drains before the worker stops
 * and the database closes last.
 */
export class Lifecycle {
  private readonly components: Component[] = [];
  private stopping: Promise<boolean> | undefined;

  constructor(private readonly log: Logger) {}

  /** Registers a started component; one that finished starting after shutdown began is stopped at once. */
  add(component: Component): void {
    if (this.stopping) {
      void component.stop().catch((err: unknown) => this.log.error({ err, component: component.name }, 'stop failed'));
      return;
    }
    this.components.push(component);
  }

  /** True once shutdown has begun. */
  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** Stops every component; resolves true when all stopped cleanly within the budget. */
  stop(budgetMs = SHUTDOWN_BUDGET_MS): Promise<boolean> {
    this.stopping ??= this.stopAll(budgetMs);
    return this.stopping;
  }

  /** Resolves with the exit code once SIGINT or SIGTERM arrived and everything stopped. */
  untilSignal(): Promise<number> {
    return new Promise((resolve) => {
      const onSignal = (signal: NodeJS.Signals) => {
        if (this.stopping) {
          this.log.warn({ signal }, 'second signal: exiting now');
          process.exit(130);
        }
        this.log.info({ signal }, 'shutting down');
        void this.stop().then((clean) => resolve(clean ? 0 : 1));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
  }

  private async stopAll(budgetMs: number): Promise<boolean> {
    const deadline = Date.now() + budgetMs;
    let clean = true;
    for (const c of [...this.components].reverse()) {
      const left = deadline - Date.now();
      const outcome = await Promise.race([
        c.stop().then(
          () => 'stopped' as const,
          (err: unknown) => {
            this.log.error({ err, component: c.name }, 'component failed to stop');
            return 'failed' as const;
          },
        ),
        new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), Math.max(left, 0)).unref()),
      ]);
      if (outcome !== 'stopped') clean = false;
      if (outcome === 'timeout') {
        this.log.error({ component: c.name }, 'shutdown budget exhausted; exiting without waiting for the rest');
        break;
      }
      this.log.debug({ component: c.name }, 'stopped');
    }
    return clean;
  }
}
