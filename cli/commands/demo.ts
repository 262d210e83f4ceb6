import type { Command } from 'commander';
import { configFrom, loggerFor, type CliContext } from '../common';
import { openDatabase } from '../database';
import { apiCaller, createDemoUsers, seedDemoRequests } from '../demo';

/** `clearway demo`: users with printed tokens and change requests in several states, against a running Clearway. */
export function configureDemoCommand(program: Command, ctx: CliContext, done: (code: number) => void): void {
  program
    .command('demo')
    .description('create demo users (tokens printed) and change requests in several states; needs `clearway start`')
    .option('--prefix <prefix>', 'prefix of the demo user names', 'demo')
    .option('--url <url>', 'base URL of the running API (default http://HOST:PORT)')
    .action(async (opts: { prefix: string; url?: string }) => {
      const config = configFrom(ctx);
      const baseUrl = (opts.url ?? `http://${config.HOST}:${config.PORT}`).replace(/\/+$/, '');
      const call = apiCaller(baseUrl);
      const db = await openDatabase(config, loggerFor(config, 'one-shot'), 'embedded-only');
      let users;
      try {
        users = await createDemoUsers(db.prisma, opts.prefix);
      } finally {
        // The embedded database serves one session at a time: the running API needs it back.
        await db.close();
      }
      const requests = await seedDemoRequests(call, users);
      ctx.stdout('Demo users (tokens are shown only now):\n');
      for (const user of Object.values(users)) {
        ctx.stdout(`  ${user.name.padEnd(24)} ${user.roles.join(',').padEnd(24)} ${user.token}\n`);
      }
      ctx.stdout('\nChange requests:\n');
      for (const cr of requests) {
        ctx.stdout(
          `  ${cr.status.padEnd(18)} ${cr.id}  ${cr.title}${cr.awaiting ? ` (awaiting its ${cr.awaiting})` : ''}\n`,
        );
      }
      ctx.stdout(`\nTry: curl -H "Authorization: Bearer <token>" ${baseUrl}/api/v1/inbox\n`);
      done(0);
    });
}
