import type { Command } from 'commander';
import type { CliContext } from '../common';
import { runServices } from '../run-services';

/** `clearway api`: the HTTP API alone, talking to Temporal at TEMPORAL_ADDRESS. */
export function configureApiCommand(program: Command, ctx: CliContext, done: (code: number) => void): void {
  program
    .command('api')
    .description('run the HTTP API only (Temporal at TEMPORAL_ADDRESS, or 127.0.0.1:TEMPORAL_PORT)')
    .action(async () => {
      done(await runServices(ctx, { api: true, worker: false, embeddedTemporal: false, migrate: 'embedded-only' }));
    });
}
