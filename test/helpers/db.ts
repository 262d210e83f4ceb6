import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createPrisma, migrateDatabase, type PrismaClient } from '../../cli/database';
import { createLogger } from '../../log';

/** The two databases every database test runs against. */
export type Backend = 'postgres' | 'pglite';

/** A migrated database made for one suite, dropped by close(). */
export interface TestDb {
  backend: Backend;
  url: string;
  prisma: PrismaClient;
  /** PGlite only: the DATA_DIR holding its files. */
  dataDir?: string;
  close(): Promise<void>;
}

export const PG_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
export const silentLog = createLogger({ level: 'silent', pretty: false });

// Jest cannot declare tests asynchronously, so whether Postgres answers is asked synchronously, once.
const probe = spawnSync(
  process.execPath,
  [
    '-e',
    `const { Client } = require('pg');
     const c = new Client({ connectionString: ${JSON.stringify(PG_ADMIN_URL)}, connectionTimeoutMillis: 3000 });
     c.connect().then(() => c.query('select 1')).then(() => c.end()).then(() => process.exit(0), () => process.exit(1));`,
  ],
  { cwd: path.resolve(__dirname, '../..'), timeout: 10_000 },
);

/** True when a Postgres server answers on 127.0.0.1:5432. */
export const postgresAvailable = probe.status === 0;

let warned = false;
let counter = 0;

/** The backends to run; Postgres is left out, with one clear message, only when no server answers. */
export function backends(): Backend[] {
  if (postgresAvailable) return ['postgres', 'pglite'];
  if (!warned) {
    warned = true;
    console.warn(`No Postgres answers at ${PG_ADMIN_URL}: the Postgres variants of the database tests are skipped.`);
  }
  return ['pglite'];
}

/** A new database of `backend` with every migration applied. */
export async function createTestDatabase(backend: Backend): Promise<TestDb> {
  if (backend === 'postgres') return createPostgres();
  const dataDir = await freshEmbeddedDataDir();
  const server = await serveEmbedded(dataDir);
  const prisma = createPrisma(server.url, { embedded: true });
  return {
    backend,
    url: server.url,
    prisma,
    dataDir,
    async close() {
      await prisma.$disconnect();
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A new DATA_DIR holding a migrated, empty embedded database that no process serves yet. */
export async function freshEmbeddedDataDir(): Promise<string> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-t-'));
  fs.cpSync(await migratedTemplate(), dataDir, { recursive: true });
  return dataDir;
}

/** An embedded database served by a child process, as `clearway start` serves it. */
export interface EmbeddedServer {
  url: string;
  owner: boolean;
  pid: number;
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '../..');

/** Opens DATA_DIR `dataDir` the way Clearway does, from a separate process (see embedded-main.ts). */
export function serveEmbedded(dataDir: string): Promise<EmbeddedServer> {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin/run-ts'), path.join(__dirname, 'embedded-main.ts'), dataDir],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n')[0];
      if (!out.includes('\n')) return;
      const info = JSON.parse(line) as { url: string; owner: boolean; pid: number };
      resolve({
        ...info,
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          const code = await exited;
          if (code !== 0) throw new Error(`embedded database process exited with ${code}: ${err.trim()}`);
        },
      });
    });
    child.once('exit', (code) => reject(new Error(`embedded database process exited with ${code}: ${err.trim()}`)));
  });
}

// Creating a PGlite cluster (initdb) takes seconds; a migrated copy is made once per migration set and
// copied for each test database.
async function migratedTemplate(): Promise<string> {
  const migrations = path.join(ROOT, 'prisma', 'migrations');
  const hash = createHash('sha256');
  for (const name of fs.readdirSync(migrations).sort()) {
    const sqlFile = path.join(migrations, name, 'migration.sql');
    if (fs.existsSync(sqlFile)) hash.update(name).update(fs.readFileSync(sqlFile));
  }
  // The package is exports-restricted, so its version is read from the file directly.
  hash.update(fs.readFileSync(path.join(ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json')));
  const template = path.join(os.tmpdir(), `clearway-pglite-template-${hash.digest('hex').slice(0, 16)}`);
  if (fs.existsSync(template)) return template;
  const staging = fs.mkdtempSync(`${template}-staging-`);
  const server = await serveEmbedded(staging);
  try {
    await migrateDatabase(server.url, silentLog);
  } finally {
    await server.stop();
  }
  try {
    fs.renameSync(staging, template);
  } catch {
    // Another Jest worker finished its template first; theirs is as good.
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return template;
}

/** An empty Postgres database (no migrations), for tests of the migration path itself. */
export async function createEmptyPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  // The random part keeps a reused pid from meeting a database an interrupted run left behind.
  const name = `clearway_t_${process.pid}_${counter++}_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE "${name}"`);
  return {
    url: `postgresql://postgres@127.0.0.1:5432/${name}`,
    drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

async function createPostgres(): Promise<TestDb> {
  const db = await createEmptyPostgres();
  try {
    await migrateDatabase(db.url, silentLog);
  } catch (e) {
    await db.drop();
    throw e;
  }
  const prisma = createPrisma(db.url, { embedded: false });
  return {
    backend: 'postgres',
    url: db.url,
    prisma,
    async close() {
      await prisma.$disconnect();
      await db.drop();
    },
  };
}

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
