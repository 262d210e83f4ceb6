// The embedded server on a thread of its own, as `clearway start` runs it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { startDevServerThread } from '../../devserver';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-thread-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

test('thread: when started, it serves the SDK, relays its log lines to the parent logger and keeps its store across a restart', async () => {
  const dbFilename = path.join(dir, 'temporal.db');
  const first = capture();
  const server = await startDevServerThread({ port: 0, dbFilename, logLevel: 'info', log: first.log });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  await client.workflow.start('notRunByAnyWorker', { taskQueue: 'thread-tq', workflowId: 'thread-wf' });
  await connection.close();
  await server.stop();
  expect(first.lines).toContainEqual(expect.objectContaining({ level: 30, msg: 'embedded Temporal server listening', port: server.port }));

  const second = capture();
  const again = await startDevServerThread({ port: 0, dbFilename, logLevel: 'info', log: second.log });
  const c2 = await Connection.connect({ address: again.address });
  const described = await new Client({ connection: c2 }).workflow.getHandle('thread-wf').describe();
  expect(described.status.name).toBe('RUNNING');
  await c2.close();
  await again.stop();
});

test('thread: when the port is taken, start-up rejects naming the port in use', async () => {
  const { log } = capture();
  const holder = await startDevServerThread({ port: 0, logLevel: 'silent', log });
  await expect(startDevServerThread({ port: holder.port, logLevel: 'silent', log })).rejects.toThrow(/already in use/);
  await holder.stop();
});

test('thread: with a UI port it serves the Temporal UI; when that port is taken and the UI is optional, it serves without it', async () => {
  const { log, lines } = capture();
  const server = await startDevServerThread({ port: 0, uiPort: 0, namespaces: ['thread-ns'], logLevel: 'info', log });
  const settings = (await (await fetch(`http://127.0.0.1:${server.uiPort}/api/v1/settings`)).json()) as { DefaultNamespace: string };
  expect(settings.DefaultNamespace).toBe('thread-ns');
  const second = await startDevServerThread({ port: 0, uiPort: server.uiPort, uiOptional: true, logLevel: 'info', log });
  expect(second.uiPort).toBeUndefined();
  expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringMatching(/Temporal UI port \d+ .* already in use: running without the Temporal UI/) }));
  await second.stop();
  await expect(startDevServerThread({ port: 0, uiPort: server.uiPort, logLevel: 'silent', log })).rejects.toThrow(/Temporal UI port \d+ .* already in use/);
  await server.stop();
});
