// Kills the server process with SIGKILL while many workflows are mid-flight, restarts it on the
// same file, and checks that every workflow completes exactly as it would have without the crash.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import * as activities from './activities';
import { durable, finish } from './workflows';

const executable = path.resolve(__dirname, '../../bin/clearway-devserver');
const N = 24;
let dir: string;
let server: ChildProcess;
let port: number;

function launch(dbFile: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(executable, ['server', 'start-dev', '--port', String(port), '--db-filename', dbFile, '--headless'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => String(d).includes('listening') && resolve(child));
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}

beforeAll(async () => {
  // The worker retries against the stopped server by design; its retry warnings are expected here.
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-crash-'));
  port = 20000 + (process.pid % 20000);
});
afterAll(() => {
  server?.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('crash: when the server is killed with SIGKILL mid-flight and restarted on its file, every workflow completes as without the crash and replays', async () => {
  const db = path.join(dir, 'temporal.db');
  server = await launch(db);
  const address = `127.0.0.1:${port}`;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address });
  const worker = await Worker.create({ connection: nativeConnection, taskQueue: 'crash', workflowsPath: path.join(__dirname, 'workflows.ts'), activities });
  const expected = Array.from({ length: N }, (_, i) => `a${i}-done|b${i}-done|x${i},y${i}|ops`);
  const results = await worker.runUntil(async () => {
    const handles = await Promise.all(
      Array.from({ length: N }, (_, i) => client.workflow.start(durable, { taskQueue: 'crash', workflowId: `crash-${i}`, args: [i], workflowTaskTimeout: '3s' })),
    );
    // Some signals before the crash, with fixed request ids so a retried signal is not applied twice.
    const svc = connection.workflowService;
    const signal = (i: number, item: string) =>
      svc.signalWorkflowExecution({
        namespace: 'default',
        workflowExecution: { workflowId: `crash-${i}` },
        signalName: 'addItem',
        input: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(item)) }] },
        requestId: `sig-${i}-${item}`,
      });
    await Promise.all(handles.map((_, i) => signal(i, `x${i}`)));
    await new Promise((r) => setTimeout(r, 400 + Math.random() * 400));
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    server = await launch(db);
    // The same signals again (as a client retrying after the crash would), then the rest.
    const retry = async <T>(fn: () => Promise<T>): Promise<T> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await fn();
        } catch (err) {
          if (attempt > 50) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    await Promise.all(handles.map((_, i) => retry(() => signal(i, `x${i}`))));
    await Promise.all(handles.map((_, i) => retry(() => signal(i, `y${i}`))));
    await Promise.all(handles.map((h) => retry(() => h.executeUpdate(finish, { args: ['ops'], updateId: `finish-${h.workflowId}` }))));
    return Promise.all(handles.map((h) => h.result()));
  });
  expect(results).toEqual(expected);
  const histories = await Promise.all(Array.from({ length: N }, (_, i) => client.workflow.getHandle(`crash-${i}`).fetchHistory()));
  let replayed = 0;
  for await (const r of Worker.runReplayHistories(
    { workflowsPath: path.join(__dirname, 'workflows.ts'), replayName: 'crash' },
    histories.map((history, i) => ({ workflowId: `crash-${i}`, history })),
  )) {
    expect(r.error).toBeUndefined();
    replayed++;
  }
  expect(replayed).toBe(N);
  await connection.close();
  await nativeConnection.close();
}, 120_000);

test('recovery: when a timer comes due while the server is down, it fires at once on restart and queued work resumes', async () => {
  const { startDevServer } = await import('../../devserver');
  const db = path.join(dir, 'recovery.db');
  const first = await startDevServer({ port: 0, dbFilename: db, logLevel: 'silent' });
  let connection = await Connection.connect({ address: first.address });
  let nativeConnection = await NativeConnection.connect({ address: first.address });
  const workflowsPath = path.join(__dirname, 'workflows.ts');
  const { sleeper, greet } = await import('./workflows');
  const worker1 = await Worker.create({ connection: nativeConnection, taskQueue: 'recovery', workflowsPath, activities });
  await worker1.runUntil(async () => {
    const client = new Client({ connection });
    const h = await client.workflow.start(sleeper, { taskQueue: 'recovery', workflowId: 'recover-timer', args: [800] });
    for (let i = 0; i < 100 && (await h.describe()).historyLength < 5; i++) await new Promise((r) => setTimeout(r, 20));
  });
  // Queued before the restart, with no worker polling: an activity-free start waiting for its first task.
  await new Client({ connection }).workflow.start(greet, { taskQueue: 'recovery-2', workflowId: 'recover-queued', args: ['later'] });
  await connection.close();
  await nativeConnection.close();
  await first.stop();
  await new Promise((r) => setTimeout(r, 1000));
  const second = await startDevServer({ port: 0, dbFilename: db, logLevel: 'silent' });
  connection = await Connection.connect({ address: second.address });
  nativeConnection = await NativeConnection.connect({ address: second.address });
  const client = new Client({ connection });
  const w2 = await Worker.create({ connection: nativeConnection, taskQueue: 'recovery', workflowsPath, activities });
  expect(await w2.runUntil(client.workflow.getHandle('recover-timer').result())).toBe('slept');
  const w3 = await Worker.create({ connection: nativeConnection, taskQueue: 'recovery-2', workflowsPath, activities });
  expect(await w3.runUntil(client.workflow.getHandle('recover-queued').result())).toBe('hello later');
  await connection.close();
  await nativeConnection.close();
  await second.stop();
});
