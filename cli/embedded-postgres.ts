import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ClearwayError } from '../errors';
import type { Logger } from '../log';

/** A Postgres wire endpoint backed by PGlite files under DATA_DIR. */
export interface EmbeddedPostgres {
  /** postgresql:// URL any Postgres client (pg, Prisma, psql) can use. */
  readonly url: string;
  /** True when this process opened the files; false when it talks to another process's server. */
  readonly owner: boolean;
  stop(): Promise<void>;
}

interface LockFile {
  pid: number;
  port: number | null;
}

const LOCK_WAIT_MS = 30_000;

/**
 * Opens the embedded database in `dataDir`. PGlite is a single-process database, so the first process
 * owns the files and serves them on a local port recorded in `pglite.lock`; later processes (for
 * example `clearway users add` while `clearway start` runs) connect to that port instead.
 */
export async function openEmbeddedPostgres(dataDir: string, log: Logger): Promise<EmbeddedPostgres> {
  const dir = path.resolve(dataDir);
  fs.mkdirSync(dir, { recursive: true });
  const lockPath = path.join(dir, 'pglite.lock');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    let fd: number;
    try {
      fd = fs.openSync(lockPath, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const lock = readLock(lockPath);
      if (!lock || !isAlive(lock.pid)) {
        fs.rmSync(lockPath, { force: true });
        continue;
      }
      if (lock.port !== null && (await answers(lock.port))) {
        log.debug({ port: lock.port, ownerPid: lock.pid }, 'using the embedded database served by another process');
        return { url: urlFor(lock.port), owner: false, stop: async () => {} };
      }
      if (Date.now() > deadline) {
        throw new ClearwayError(
          'DATABASE_UNAVAILABLE',
          `the embedded database in ${dir} is held by process ${lock.pid}, which does not answer`,
        );
      }
      await sleep(200);
      continue;
    }
    fs.writeSync(fd, JSON.stringify({ pid: process.pid, port: null } satisfies LockFile));
    fs.closeSync(fd);
    try {
      return await serve(dir, lockPath, log);
    } catch (e) {
      fs.rmSync(lockPath, { force: true });
      throw e;
    }
  }
}

async function serve(dir: string, lockPath: string, log: Logger): Promise<EmbeddedPostgres> {
  const started = Date.now();
  // Loaded here, not at the top: a process that only connects to another's server never needs them.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  const { PGLiteSocketServer } = require('@electric-sql/pglite-socket') as typeof import('@electric-sql/pglite-socket');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const db = await PGlite.create(path.join(dir, 'pglite'));
  // pglite-socket interleaves the protocol messages of concurrent connections over PGlite's single
  // session, which breaks unnamed prepared statements; so it serves one connection, and the gate in
  // front of it queues every further connection until the current session closes.
  const backend = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await backend.start();
  const backendPort = Number(backend.getServerConn().split(':').pop());
  const gate = new SessionGate(backendPort, () => backend.getStats().activeConnections === 0);
  const port = await gate.listen();
  fs.writeFileSync(lockPath, JSON.stringify({ pid: process.pid, port } satisfies LockFile));
  log.info({ dataDir: dir, port, ms: Date.now() - started }, 'embedded database ready');
  // Should the process end without stop() (an uncaught error, process.exit elsewhere), the lock
  // must not outlive it pointing at a port nobody serves.
  const releaseLock = () => {
    if (readLock(lockPath)?.pid === process.pid) fs.rmSync(lockPath, { force: true });
  };
  process.once('exit', releaseLock);
  let stopped = false;
  return {
    url: urlFor(port),
    owner: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await gate.close();
        await backend.stop();
        await db.close();
      } finally {
        process.removeListener('exit', releaseLock);
        fs.rmSync(lockPath, { force: true });
      }
    },
  };
}

/** Lets one client session at a time through to the backend; the others wait, connected but unread. */
class SessionGate {
  private readonly server = net.createServer((socket) => this.enqueue(socket));
  private readonly waiting: net.Socket[] = [];
  private readonly open = new Set<net.Socket>();
  private busy = false;
  private closed = false;

  constructor(
    private readonly backendPort: number,
    private readonly backendIdle: () => boolean,
  ) {}

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as net.AddressInfo).port));
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of [...this.waiting, ...this.open]) s.destroy();
    this.waiting.length = 0;
    await done;
  }

  private enqueue(client: net.Socket): void {
    client.pause();
    client.on('error', () => client.destroy());
    client.once('close', () => {
      const i = this.waiting.indexOf(client);
      if (i >= 0) this.waiting.splice(i, 1);
    });
    this.waiting.push(client);
    this.pump();
  }

  private pump(): void {
    if (this.busy || this.closed) return;
    const client = this.waiting.shift();
    if (!client) return;
    if (client.destroyed) return this.pump();
    this.busy = true;
    const backend = net.connect(this.backendPort, '127.0.0.1');
    this.open.add(client).add(backend);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      client.destroy();
      backend.destroy();
      this.open.delete(client);
      this.open.delete(backend);
      void this.whenBackendIdle().then(() => {
        this.busy = false;
        this.pump();
      });
    };
    backend.on('error', finish);
    client.on('close', finish);
    backend.on('close', finish);
    // PGlite keeps a socket open after the client's Terminate message, where Postgres closes it;
    // clients then wait for a close that never comes, so the gate ends the session itself.
    const scanner = new TerminateScanner();
    backend.once('connect', () => {
      client.on('data', (chunk: Buffer) => {
        if (scanner.push(chunk)) return finish();
        if (!backend.write(chunk)) client.pause();
      });
      backend.on('drain', () => client.resume());
      backend.pipe(client);
      client.resume();
    });
  }

  // The backend drops its handler a tick after the socket closes; connecting earlier is refused.
  private async whenBackendIdle(): Promise<void> {
    for (let i = 0; i < 400 && !this.backendIdle(); i++) await sleep(5);
  }
}

const TERMINATE = 0x58;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/** Follows the frontend side of the Postgres protocol far enough to notice a Terminate message. */
class TerminateScanner {
  private header = Buffer.alloc(0);
  private skip = 0;
  private started = false;

  /** Feeds client bytes; true once a Terminate message has been seen. */
  push(chunk: Buffer): boolean {
    let data = chunk;
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length);
        this.skip -= n;
        data = data.subarray(n);
      }
      if (data.length === 0) return false;
      this.header = Buffer.concat([this.header, data]);
      data = Buffer.alloc(0);
      if (!this.started) {
        // Startup-phase messages have no type byte: int32 length, int32 code.
        if (this.header.length < 8) return false;
        const length = this.header.readInt32BE(0);
        const code = this.header.readInt32BE(4);
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) this.started = true;
        data = this.header.subarray(8);
        this.header = Buffer.alloc(0);
        this.skip = length - 8;
        continue;
      }
      if (this.header.length < 5) return false;
      if (this.header[0] === TERMINATE) return true;
      const length = this.header.readInt32BE(1);
      data = this.header.subarray(5);
      this.header = Buffer.alloc(0);
      this.skip = length - 4;
    }
  }
}

function urlFor(port: number): string {
  return `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable`;
}

function readLock(file: string): LockFile | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as LockFile;
    return typeof parsed.pid === 'number' ? parsed : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(1000, () => done(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
