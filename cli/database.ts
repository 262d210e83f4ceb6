import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';
import type { Config } from '../config';
import { ClearwayError } from '../errors';
import type { Logger } from '../log';
import { openEmbeddedPostgres } from './embedded-postgres';

export { PrismaClient } from '../generated/prisma/client';

const ROOT = path.resolve(__dirname, '..');

/** An open database: the Prisma client, the URL it uses and how to release both. */
export interface Database {
  readonly prisma: PrismaClient;
  readonly url: string;
  /** True when the database is the embedded PGlite. */
  readonly embedded: boolean;
  close(): Promise<void>;
}

/** When to apply pending migrations while opening. */
export type MigratePolicy = 'always' | 'never' | 'embedded-only';

/**
 * Opens the configured Postgres, or the embedded PGlite when DATABASE_URL is unset, and applies
 * migrations per `migrate`. The embedded database is private to Clearway, so it is always brought
 * up to date; a configured one is migrated only by `start` and `migrate`.
 */
export async function openDatabase(config: Config, log: Logger, migrate: MigratePolicy): Promise<Database> {
  const embedded = config.DATABASE_URL ? null : await openEmbeddedPostgres(config.DATA_DIR, log);
  const url = config.DATABASE_URL ?? embedded!.url;
  try {
    const pending = await pendingMigrations(url);
    const wanted = migrate === 'always' || (migrate === 'embedded-only' && embedded !== null);
    if (wanted && pending.length > 0) await migrateDatabase(url, log);
    const prisma = createPrisma(url, { embedded: embedded !== null });
    return {
      prisma,
      url,
      embedded: embedded !== null,
      async close() {
        await prisma.$disconnect();
        await embedded?.stop();
      },
    };
  } catch (e) {
    await embedded?.stop();
    throw e;
  }
}

/**
 * A Prisma client over the pg driver adapter. The embedded database serves one session at a time,
 * so its pool holds a single connection and lets it go when idle for other processes to use.
 */
export function createPrisma(url: string, opts: { embedded: boolean }): PrismaClient {
  const pool = opts.embedded
    ? { connectionString: url, max: 1, idleTimeoutMillis: 250 }
    : { connectionString: url, max: 10 };
  // With one connection, interactive transactions queue behind each other: give them time to get
  // their turn instead of Prisma's 2 s default, which a busy machine exceeds.
  const transactionOptions = opts.embedded ? { maxWait: 60_000, timeout: 60_000 } : { maxWait: 10_000, timeout: 30_000 };
  return new PrismaClient({ adapter: new PrismaPg(pool), transactionOptions });
}

/**
 * Committed migrations the database has not finished applying; also proves the database answers.
 * Asking costs one query where `prisma migrate deploy` costs seconds, so that runs only when needed.
 */
export async function pendingMigrations(url: string): Promise<string[]> {
  const committed = fs
    .readdirSync(path.join(ROOT, 'prisma', 'migrations'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 15_000 });
  try {
    await client.connect();
  } catch (e) {
    const where = new URL(url);
    throw new ClearwayError(
      'DATABASE_UNAVAILABLE',
      `cannot connect to the database at ${where.hostname}:${where.port || 5432}${where.pathname}: ${(e as Error).message}`,
    );
  }
  try {
    const table = await client.query(`SELECT to_regclass('public._prisma_migrations') AS t`);
    if (table.rows[0].t === null) return committed;
    const done = await client.query(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    const applied = new Set(done.rows.map((r: { migration_name: string }) => r.migration_name));
    return committed.filter((name) => !applied.has(name));
  } finally {
    await client.end();
  }
}

const MIGRATED = /All migrations have been successfully applied\.|No pending migrations to apply\./;

/**
 * Applies committed migrations with `prisma migrate deploy`; its output is logged only on failure.
 * The WebAssembly schema engine leaves a 10-second timer pending after it finishes, which keeps the
 * CLI process alive; once it has reported success there is nothing left to wait for, so it is ended.
 */
export async function migrateDatabase(url: string, log: Logger): Promise<void> {
  const started = Date.now();
  const cli = require.resolve('prisma/build/index.js', { paths: [ROOT] });
  const child = spawn(process.execPath, [cli, 'migrate', 'deploy'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: '1', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ok = await new Promise<boolean>((resolve) => {
    const timeout = setTimeout(() => {
      output += '\nError: prisma migrate deploy did not finish within 120 s';
      child.kill('SIGKILL');
    }, 120_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (MIGRATED.test(output)) {
        clearTimeout(timeout);
        child.kill('SIGTERM');
        resolve(true);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (e) => {
      output += `\nError: ${e.message}`;
      clearTimeout(timeout);
      resolve(false);
    });
    child.on('close', () => {
      clearTimeout(timeout);
      resolve(MIGRATED.test(output));
    });
  });
  if (!ok) {
    log.error({ output }, 'prisma migrate deploy failed');
    const reason = output.split('\n').find((l) => /^Error/.test(l.trim())) ?? 'see the log for details';
    throw new ClearwayError('MIGRATION_FAILED', `database migration failed: ${reason.trim()}`);
  }
  const found = /(\d+) migrations? found/.exec(output)?.[1];
  log.info({ ms: Date.now() - started, migrations: found ? Number(found) : undefined }, 'database migrated');
}
