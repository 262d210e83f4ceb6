import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { startDevServer } from '../../devserver';
import { parseDevServerArgs } from '../../devserver/cli';
import * as activities from './activities';
import { greet } from './workflows';

const executable = path.resolve(__dirname, '../../bin/clearway-devserver');
const workflowsPath = path.join(__dirname, 'workflows.ts');

test('createLocal: when the SDK launches the shipped executable as an existing path, a workflow with an activity runs on it', async () => {
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: executable }, namespace: 'launch-ns', extraArgs: ['--some-future-flag', 'x'] },
  });
  try {
    const worker = await Worker.create({ connection: env.nativeConnection, namespace: 'launch-ns', taskQueue: 'launch', workflowsPath, activities });
    const result = await worker.runUntil(env.client.workflow.execute(greet, { taskQueue: 'launch', workflowId: 'launch-1', args: ['sdk'] }));
    expect(result).toBe('hello sdk');
    const history = await env.client.workflow.getHandle('launch-1').fetchHistory();
    await Worker.runReplayHistory({ workflowsPath, replayName: 'launch' }, history, 'launch-1');
  } finally {
    await env.teardown();
  }
});

test('createFromExistingServer: when pointed at a running embedded server, the SDK environment runs workflows on it', async () => {
  const server = await startDevServer({ port: 0, logLevel: 'silent' });
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address });
  try {
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'existing', workflowsPath, activities });
    expect(await worker.runUntil(env.client.workflow.execute(greet, { taskQueue: 'existing', workflowId: 'existing-1', args: ['x'] }))).toBe('hello x');
    await Worker.runReplayHistory({ workflowsPath, replayName: 'existing' }, await env.client.workflow.getHandle('existing-1').fetchHistory(), 'existing-1');
  } finally {
    await env.teardown();
    await server.stop();
  }
});

test('arguments: the full start-dev argument list is accepted, unknown flags are ignored', () => {
  const args = parseDevServerArgs([
    'server', 'start-dev', '--port', '7444', '--namespace', 'a', '--namespace', 'b', '--ip', '127.0.0.1', '--log-format', 'json', '--log-level', 'warn',
    '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true', '--db-filename', '/tmp/x.db', '--headless', '--search-attribute', 'Region=Keyword', '--unknown-flag',
  ]);
  expect(args).toMatchObject({ port: 7444, namespaces: ['a', 'b'], dbFilename: '/tmp/x.db', headless: true, searchAttributes: ['Region=Keyword'], timeSkipping: false });
  expect(parseDevServerArgs(['7555', '--extra'])).toMatchObject({ port: 7555, timeSkipping: true });
});

test('arguments: when the port is not a number, the executable prints one line and exits 2', () => {
  const r = spawnSync(executable, ['--port', 'abc'], { encoding: 'utf8' });
  expect(r.status).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/port/);
});

test('createLocal: when the SDK asks for the UI on a port, the launched server serves the Temporal UI there', async () => {
  const probe = await startDevServer({ port: 0, uiPort: 0, logLevel: 'silent' });
  const uiPort = probe.uiPort!;
  await probe.stop();
  const env = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: executable }, ui: true, uiPort } });
  try {
    const settings = await fetch(`http://127.0.0.1:${uiPort}/api/v1/settings`);
    expect(settings.status).toBe(200);
    expect(((await settings.json()) as { DefaultNamespace: string }).DefaultNamespace).toBe('default');
    expect((await fetch(`http://127.0.0.1:${uiPort}/api/v1/namespaces/default`)).status).toBe(200);
  } finally {
    await env.teardown();
  }
});
