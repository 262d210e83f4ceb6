import type { Command } from 'commander';
import type { CliContext } from '../common';
import { runServices } from '../run-services';

/** `clearway worker`: a Temporal worker alone; run more of them to scale out on a real cluster. */
export function configureWorkerCommand(program: Command, ctx: CliContext, done: (code: number) => void): void {
  program
    .command('worker')
    .description('run a Temporal worker only (Temporal at TEMPORAL_ADDRESS, or 127.0.0.1:TEMPORAL_PORT)')
    .action(async () => {
      done(await runServices(ctx, { api: false, worker: true, embeddedTemporal: false, migrate: 'embedded-only' }));
    });
}
