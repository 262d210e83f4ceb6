import type { Command } from 'commander';
import { configFrom, loggerFor, type CliContext } from '../common';
import { openDatabase, type Database } from '../database';
import { addUser, cliActor, listUsers, revokeUser, rolesFromList } from '../users';

/** `clearway users add|list|revoke`: manage who may call the API. */
export function configureUsersCommand(program: Command, ctx: CliContext, done: (code: number) => void): void {
  const users = program.command('users').description('manage API users and their bearer tokens');

  users
    .command('add')
    .description('create a user and print its bearer token (shown once)')
    .requiredOption('--name <name>', 'unique user name')
    .requiredOption('--roles <roles>', 'comma-separated roles, e.g. ccb-chair,ccb-member')
    .action(async (opts: { name: string; roles: string }) => {
      const roles = rolesFromList(opts.roles);
      await withDatabase(ctx, async (db) => {
        const user = await addUser(db.prisma, { name: opts.name, roles, actor: cliActor() });
        ctx.stdout(`Created user ${user.name} with roles ${user.roles.join(',')}.\n`);
        ctx.stdout(`Bearer token (shown only now; store it safely): ${user.token}\n`);
      });
      done(0);
    });

  users
    .command('list')
    .description('list users (tokens are never shown again)')
    .action(async () => {
      await withDatabase(ctx, async (db) => {
        const rows = await listUsers(db.prisma);
        if (rows.length === 0)
          return ctx.stdout('no users yet; add one with: clearway users add --name NAME --roles ROLES\n');
        const table = rows.map((u) => [
          u.name,
          u.roles.join(','),
          u.createdAt.toISOString(),
          u.revokedAt ? 'revoked' : 'active',
        ]);
        ctx.stdout(formatTable(['NAME', 'ROLES', 'CREATED', 'STATUS'], table));
      });
      done(0);
    });

  users
    .command('revoke')
    .description("revoke a user's bearer token")
    .argument('<name>', 'user name')
    .action(async (name: string) => {
      await withDatabase(ctx, async (db) => {
        const { alreadyRevoked } = await revokeUser(db.prisma, { name, actor: cliActor() });
        ctx.stdout(alreadyRevoked ? `user ${name} was already revoked\n` : `revoked user ${name}\n`);
      });
      done(0);
    });
}

async function withDatabase(ctx: CliContext, fn: (db: Database) => Promise<void>): Promise<void> {
  const config = configFrom(ctx);
  const db = await openDatabase(config, loggerFor(config, 'one-shot'), 'embedded-only');
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

function formatTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}
