import { configFrom, type CliContext } from './common';
import type { ServiceSelection } from './services';

/**
 * Runs the long-running services, loading them on demand: Temporal's worker and the embedded server
 * take a second to load, which one-shot commands such as `--version` or `users add` should not pay.
 */
export async function runServices(ctx: CliContext, selection: ServiceSelection): Promise<number> {
  configFrom(ctx); // a bad value fails here, before anything heavy loads
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const services = require('./services') as typeof import('./services');
  return services.runServices(ctx, selection);
}
