import type { Command } from 'commander';
import type { CliContext } from '../common';
import { runServices } from '../run-services';

/** `clearway start`: everything in one process: database, Temporal, worker and API. */
export function configureStartCommand(program: Command, ctx: CliContext, done: (code: number) => void): void {
  program
    .command('start')
    .description('run everything in one process: migrations, database, Temporal, worker and API')
    .action(async () => {
      done(await runServices(ctx, { api: true, worker: true, embeddedTemporal: true, migrate: 'always' }));
    });
}
