import type { Command } from 'commander';
import { configFrom, loggerFor, type CliContext } from '../common';
import { openDatabase } from '../database';

/** `clearway migrate`: applies the committed migrations to the configured (or embedded) database. */
export function configureMigrateCommand(program: Command, ctx: CliContext, done: (code: number) => void): void {
  program
    .command('migrate')
    .description('apply pending database migrations')
    .action(async () => {
      const config = configFrom(ctx);
      const db = await openDatabase(config, loggerFor(config, 'one-shot'), 'always');
      await db.close();
      ctx.stdout(`database is up to date (${config.DATABASE_URL ? 'DATABASE_URL' : `embedded, ${config.DATA_DIR}`})\n`);
      done(0);
    });
}
