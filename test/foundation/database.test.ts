import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { hashToken } from '../../api/auth';
import { createPrisma, migrateDatabase, pendingMigrations } from '../../cli/database';
import { openEmbeddedPostgres } from '../../cli/embedded-postgres';
import { addUser, revokeUser } from '../../cli/users';
import { ClearwayError } from '../../errors';
import {
  backends,
  createEmptyPostgres,
  createTestDatabase,
  freshEmbeddedDataDir,
  postgresAvailable,
  serveEmbedded,
  silentLog,
  type TestDb,
} from '../helpers/db';

// These start real clearway processes and databases; on a busy machine that takes minutes, not seconds.
jest.setTimeout(180_000);

const COMMITTED_MIGRATIONS = fs
  .readdirSync(path.resolve(__dirname, '../../prisma/migrations'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

async function sql(url: string, text: string, params: unknown[] = []) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

describe.each(backends())('database on %s', (backend) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDatabase(backend);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('migrations: when applied to a fresh database, every committed migration and the foundation tables are present', async () => {
    const tables = await sql(db.url, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['AuditEvent', 'IdempotencyKey', 'User', '_prisma_migrations']),
    );
    const applied = await sql(db.url, `SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL`);
    expect(applied.rows.map((r) => r.migration_name).sort()).toEqual(COMMITTED_MIGRATIONS);
    expect(COMMITTED_MIGRATIONS).toEqual(
      expect.arrayContaining(['20251125090000_init', '20251125090100_audit_append_only']),
    );
    expect(await pendingMigrations(db.url)).toEqual([]);
  });

  it('migrations: when applied again, nothing changes and it succeeds', async () => {
    await expect(migrateDatabase(db.url, silentLog)).resolves.toBeUndefined();
    const applied = await sql(db.url, `SELECT count(*)::int AS n FROM _prisma_migrations`);
    expect(applied.rows[0].n).toBe(COMMITTED_MIGRATIONS.length);
  });

  it.each([
    ['UPDATE', `UPDATE "AuditEvent" SET actor = 'mallory' WHERE id = $1`],
    ['DELETE', `DELETE FROM "AuditEvent" WHERE id = $1`],
  ])('audit: when a row is changed with %s, the database refuses and the row stays', async (op, statement) => {
    const event = await db.prisma.auditEvent.create({
      data: { actor: 'alice', action: 'TEST', subjectType: 'test', subjectId: op, payload: { n: 1 } },
    });
    await expect(sql(db.url, statement, [event.id.toString()])).rejects.toThrow(
      `AuditEvent is append-only: ${op} refused`,
    );
    const again = await db.prisma.auditEvent.findUniqueOrThrow({ where: { id: event.id } });
    expect(again.actor).toBe('alice');
  });

  it('audit: when the table is truncated, the database refuses', async () => {
    await db.prisma.auditEvent.create({ data: { actor: 'a', action: 'TEST', subjectType: 'test', subjectId: 't' } });
    await expect(sql(db.url, `TRUNCATE "AuditEvent"`)).rejects.toThrow('AuditEvent is append-only: TRUNCATE refused');
    expect(await db.prisma.auditEvent.count()).toBeGreaterThan(0);
  });

  it('audit: when Prisma deletes events, the call fails and nothing is removed', async () => {
    await db.prisma.auditEvent.create({ data: { actor: 'a', action: 'TEST', subjectType: 'test', subjectId: 'p' } });
    const before = await db.prisma.auditEvent.count();
    await expect(db.prisma.auditEvent.deleteMany({})).rejects.toThrow();
    expect(await db.prisma.auditEvent.count()).toBe(before);
  });

  it('users: when a user is added, only the token hash is stored and the creation is audited', async () => {
    const user = await addUser(db.prisma, { name: `u-${backend}`, roles: ['ccb-chair'], actor: 'cli:test' });
    const row = await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row.tokenHash).toBe(hashToken(user.token));
    expect(JSON.stringify(row)).not.toContain(user.token);
    const audit = await db.prisma.auditEvent.findMany({ where: { subjectType: 'user', subjectId: user.id } });
    expect(audit.map((a) => [a.action, a.actor])).toEqual([['USER_CREATED', 'cli:test']]);
  });

  it('users: when the name is taken, adding fails with DUPLICATE_NAME and writes nothing', async () => {
    await addUser(db.prisma, { name: 'taken', roles: ['admin'], actor: 'cli:test' });
    const events = await db.prisma.auditEvent.count();
    const failure = addUser(db.prisma, { name: 'taken', roles: ['legal'], actor: 'cli:test' });
    await expect(failure).rejects.toMatchObject({ code: 'DUPLICATE_NAME' });
    await expect(failure).rejects.toBeInstanceOf(ClearwayError);
    expect(await db.prisma.auditEvent.count()).toBe(events);
  });

  it('users: when a user is revoked twice, the second revoke changes nothing', async () => {
    const user = await addUser(db.prisma, { name: 'leaver', roles: ['finance'], actor: 'cli:test' });
    expect(await revokeUser(db.prisma, { name: 'leaver', actor: 'cli:test' })).toEqual({ alreadyRevoked: false });
    expect(await revokeUser(db.prisma, { name: 'leaver', actor: 'cli:test' })).toEqual({ alreadyRevoked: true });
    const audit = await db.prisma.auditEvent.findMany({ where: { subjectId: user.id }, orderBy: { id: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['USER_CREATED', 'USER_REVOKED']);
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).revokedAt).not.toBeNull();
  });

  it('pool: when many queries and transactions run at once, all complete', async () => {
    const writes = Array.from({ length: 40 }, (_, i) =>
      db.prisma.$transaction(async (tx) => {
        await tx.auditEvent.create({
          data: { actor: 'load', action: 'TEST', subjectType: 'pool', subjectId: String(i) },
        });
        return tx.auditEvent.count({ where: { subjectType: 'pool' } });
      }),
    );
    await Promise.all(writes);
    expect(await db.prisma.auditEvent.count({ where: { subjectType: 'pool' } })).toBe(40);
  });
});

describe('embedded database', () => {
  const dirs: string[] = [];
  const freshDataDir = async () => {
    const dir = await freshEmbeddedDataDir();
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('embedded: when the serving process restarts, users and audit events are still there', async () => {
    const dir = await freshDataDir();
    const first = await serveEmbedded(dir);
    let prisma = createPrisma(first.url, { embedded: true });
    const user = await addUser(prisma, { name: 'keeper', roles: ['operator'], actor: 'cli:test' });
    await prisma.$disconnect();
    await first.stop();

    const second = await serveEmbedded(dir);
    prisma = createPrisma(second.url, { embedded: true });
    try {
      expect(second.pid).not.toBe(first.pid);
      expect((await prisma.user.findUniqueOrThrow({ where: { name: 'keeper' } })).tokenHash).toBe(
        hashToken(user.token),
      );
      expect(await prisma.auditEvent.count({ where: { subjectId: user.id } })).toBe(1);
    } finally {
      await prisma.$disconnect();
      await second.stop();
    }
  });

  it('embedded: when another process serves the data dir, opening it connects there and both sides can query', async () => {
    const dir = await freshDataDir();
    const owner = await serveEmbedded(dir);
    const guest = await openEmbeddedPostgres(dir, silentLog);
    const ownerPrisma = createPrisma(owner.url, { embedded: true });
    const guestPrisma = createPrisma(guest.url, { embedded: true });
    try {
      expect(owner.owner).toBe(true);
      expect(guest.owner).toBe(false);
      expect(guest.url).toBe(owner.url);
      // Each pool holds the single session while busy; the other waits its turn instead of failing.
      const results = await Promise.all(
        Array.from(
          { length: 10 },
          (_, i) => (i % 2 ? ownerPrisma : guestPrisma).$queryRaw<{ n: number }[]>`SELECT ${i}::int AS n`,
        ),
      );
      expect(results.map((r) => r[0].n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      await Promise.all([ownerPrisma.$disconnect(), guestPrisma.$disconnect()]);
      await guest.stop();
      await owner.stop();
    }
  });

  it('embedded: when two raw connections are open at once, the second waits for the first instead of failing', async () => {
    const server = await serveEmbedded(await freshDataDir());
    const first = new Client({ connectionString: server.url });
    const second = new Client({ connectionString: server.url });
    try {
      await first.connect();
      await first.query('BEGIN');
      await first.query('CREATE TABLE gate_probe (n int)');
      const secondDone = second.connect().then(() => second.query('SELECT count(*)::int AS n FROM gate_probe'));
      let settled = false;
      void secondDone.then(() => (settled = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false);
      await first.query('INSERT INTO gate_probe VALUES (1)');
      await first.query('COMMIT');
      await first.end();
      expect((await secondDone).rows[0].n).toBe(1);
    } finally {
      await second.end().catch(() => {});
      await server.stop();
    }
  });

  it('embedded: when the lock names a process that is gone, the next opener takes over and removes it on stop', async () => {
    const dir = await freshDataDir();
    const lock = path.join(dir, 'pglite.lock');
    fs.writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 12345, port: 1 }));
    const server = await serveEmbedded(dir);
    expect(server.owner).toBe(true);
    expect(JSON.parse(fs.readFileSync(lock, 'utf8')).pid).toBe(server.pid);
    await server.stop();
    expect(fs.existsSync(lock)).toBe(false);
  });
});

(postgresAvailable ? describe : describe.skip)('database on postgres (setup)', () => {
  it('setup: when a fresh database is made, it starts empty and migrating it succeeds', async () => {
    const db = await createEmptyPostgres();
    try {
      const before = await sql(
        db.url,
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`,
      );
      expect(before.rows[0].n).toBe(0);
      expect(await pendingMigrations(db.url)).toEqual(COMMITTED_MIGRATIONS);
      await migrateDatabase(db.url, silentLog);
      expect(await pendingMigrations(db.url)).toEqual([]);
      const audit = await sql(db.url, `SELECT to_regclass('public."AuditEvent"') AS t`);
      expect(audit.rows[0].t).not.toBeNull();
    } finally {
      await db.drop();
    }
  });
});
