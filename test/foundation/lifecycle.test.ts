import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, runClearway, startClearway, waitForHttp, type Running } from '../helpers/cli';
import { createEmptyPostgres, freshEmbeddedDataDir, postgresAvailable } from '../helpers/db';

// These start real clearway processes and databases; on a busy machine that takes minutes, not seconds.
jest.setTimeout(180_000);

const STOP_BUDGET_MS = 10_000;

async function stop(running: Running, signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  running.child.kill(signal);
  const { code } = await running.exited;
  return { code, ms: Date.now() - started };
}

describe('lifecycle', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('start: with no configuration it serves, accepts a token made by the CLI meanwhile, stops on SIGINT and keeps the user', async () => {
    const dataDir = await freshEmbeddedDataDir();
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const env = { DATA_DIR: dataDir, PORT: String(port), TEMPORAL_PORT: String(await freePort()) };
    const base = `http://127.0.0.1:${port}`;

    let running = startClearway(['start'], env);
    cleanups.push(() => void running.child.kill('SIGKILL'));
    await waitForHttp(`${base}/healthz`, (s) => s === 200, 60_000, running);
    const ready = await waitForHttp(`${base}/readyz`, (s) => s === 200, 60_000, running);
    expect(ready.body).toEqual({ status: 'ready', checks: { database: 'ok', temporal: 'ok' } });

    // `users add` in another process while start holds the embedded database.
    const added = await runClearway(['users', 'add', '--name', 'a', '--roles', 'ccb-chair'], { DATA_DIR: dataDir });
    expect(added.code).toBe(0);
    const token = added.stdout.trim().split(/\s+/).pop()!;
    const me = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ name: 'a', roles: ['ccb-chair'] });

    const stopped = await stop(running, 'SIGINT');
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(STOP_BUDGET_MS);
    expect(fs.existsSync(`${dataDir}/pglite.lock`)).toBe(false);

    running = startClearway(['start'], env);
    await waitForHttp(`${base}/healthz`, (s) => s === 200, 60_000, running);
    const again = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(200);
    const audit = await fetch(`${base}/api/v1/audit-events?subjectType=user`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const page = (await audit.json()) as { items: { action: string }[] };
    expect(page.items.map((e) => e.action)).toEqual(['USER_CREATED']);
    expect((await stop(running, 'SIGTERM')).code).toBe(0);
  });

  (postgresAvailable ? it : it.skip)(
    'start: when Temporal does not answer, the API still serves and readyz is 503 naming temporal until SIGTERM',
    async () => {
      const db = await createEmptyPostgres();
      cleanups.push(db.drop);
      const port = await freePort();
      const running = startClearway(['start'], {
        DATABASE_URL: db.url,
        PORT: String(port),
        TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
      });
      cleanups.push(() => void running.child.kill('SIGKILL'));
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, (s) => s === 200, 60_000, running);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('NOT_READY');
      expect(body.error.message).toBe('not ready: temporal unavailable');
      const stopped = await stop(running, 'SIGTERM');
      expect(stopped.code).toBe(0);
      expect(stopped.ms).toBeLessThan(STOP_BUDGET_MS);
    },
  );

  (postgresAvailable ? it : it.skip)(
    'start: when the embedded Temporal server cannot start, one warning is logged and the API serves without it',
    async () => {
      const db = await createEmptyPostgres();
      cleanups.push(db.drop);
      const blocker = net.createServer();
      const temporalPort = await new Promise<number>((resolve) =>
        blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)),
      );
      cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
      const port = await freePort();
      const running = startClearway(['start'], {
        DATABASE_URL: db.url,
        PORT: String(port),
        TEMPORAL_PORT: String(temporalPort),
      });
      cleanups.push(() => void running.child.kill('SIGKILL'));
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, (s) => s === 200, 60_000, running);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { error: { details: { component: string; message: string }[] } };
      expect(body.error.details).toEqual([
        { component: 'temporal', message: expect.stringContaining('the embedded Temporal server did not start') },
      ]);
      const warnings = running
        .output()
        .split('\n')
        .filter((l) => l.includes('the embedded Temporal server did not start'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0])).toMatchObject({ level: 40 });
      expect((await stop(running, 'SIGTERM')).code).toBe(0);
    },
  );

  it('npm start: when npm is sent SIGTERM (as a process manager does), Clearway stops with it', async () => {
    const dataDir = await freshEmbeddedDataDir();
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      PORT: String(port),
      TEMPORAL_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
    };
    const npm = spawn('npm', ['start', '--silent'], { cwd: path.resolve(__dirname, '../..'), env, stdio: 'ignore' });
    const npmExited = new Promise((resolve) => npm.on('exit', resolve));
    cleanups.push(() => void npm.kill('SIGKILL'));
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, (s) => s === 200, 90_000);
    npm.kill('SIGTERM');
    await npmExited;
    // Nothing is left listening: the server went down with npm instead of running on as an orphan.
    const deadline = Date.now() + STOP_BUDGET_MS;
    let listening = true;
    while (listening && Date.now() < deadline) {
      listening = await new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
        socket.on('error', () => resolve(false));
      });
      if (listening) await new Promise((r) => setTimeout(r, 200));
    }
    expect(listening).toBe(false);
  });

  it('start: when the port is taken, it prints one line naming the port and exits 1', async () => {
    const blocker = net.createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)),
    );
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const dataDir = await freshEmbeddedDataDir();
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const r = await runClearway(['start'], {
      DATA_DIR: dataDir,
      PORT: String(port),
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      `clearway: port ${port} on 127.0.0.1 is already in use; set PORT to a free port`,
    ]);
  });
});
