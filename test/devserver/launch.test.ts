import net from 'node:net';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { startDevServer } from '../../devserver';
import { parseDevServerArgs } from '../../devserver/cli';
import { DynamicConfigError, flagsFromDynamicConfig, limitsFromDynamicConfig } from '../../devserver/dynamic-config';
import pino from 'pino';
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

test('arguments: dynamic config values are parsed as KEY=JSON-VALUE, in the start-dev and the test-server forms, a later value winning', () => {
  const args = parseDevServerArgs([
    'server', 'start-dev', '--dynamic-config-value', 'limit.blobSize.error=15000', '--dynamic-config-value', 'limit.blobSize.warn=10000',
    '--dynamic-config-value', 'frontend.enableServerVersionCheck=false', '--dynamic-config-value=some.future.key="a=b"', '--dynamic-config-value', 'limit.blobSize.error=16000',
  ]);
  expect(args.dynamicConfig).toEqual({ 'limit.blobSize.error': 16000, 'limit.blobSize.warn': 10000, 'frontend.enableServerVersionCheck': false, 'some.future.key': 'a=b' });
  expect(parseDevServerArgs(['7555', '--extra', '--dynamic-config-value', 'limit.historyCount.error=100']).dynamicConfig).toEqual({ 'limit.historyCount.error': 100 });
});

test.each([
  ['no =', 'limit.blobSize.error', /expected KEY=JSON-VALUE/],
  ['bad JSON', 'limit.blobSize.error=15k', /not JSON/],
  ['an unquoted string', 'some.key=hello', /not JSON/],
  ['a string for a limit', 'limit.blobSize.error="15000"', /limit.blobSize.error takes a whole number/],
  ['a negative limit', 'limit.numPendingActivities.error=-1', /whole number of at least 0/],
  ['a fraction for a limit', 'limit.historyCount.warn=1.5', /whole number/],
])('arguments: a dynamic config value with %s is refused, naming the flag', (_what, value, problem) => {
  expect(() => parseDevServerArgs(['--dynamic-config-value', value])).toThrow(DynamicConfigError);
  expect(() => parseDevServerArgs(['--dynamic-config-value', value])).toThrow(problem);
  expect(() => parseDevServerArgs(['--dynamic-config-value', value])).toThrow(/--dynamic-config-value/);
});

test('dynamic config: limit keys become limits, keys for features it lacks are logged at debug, unknown keys with a warning', () => {
  const lines: { level: number; key: string; msg: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const limits = limitsFromDynamicConfig(
    {
      'limit.numPendingActivities.error': 5,
      'limit.historySize.warn': 1000,
      'limit.maxIDLength': 255,
      'limit.numPendingSignals.error': 7,
      'limit.numPendingCancelRequests.error': 0,
      'limit.historyCount.suggestContinueAsNew': 100,
      'limit.memoSize.warn': 4096,
      'system.enableEagerWorkflowStart': true,
      'system.enableActivityEagerExecution': true,
      'no.such.key': 'x',
    },
    log,
  );
  expect(limits).toEqual({
    pendingActivities: 5,
    historyBytesWarn: 1000,
    idMaxLength: 255,
    pendingSignals: 7,
    pendingCancels: 0,
    historyEventsSuggestContinueAsNew: 100,
    memoWarnBytes: 4096,
  });
  expect(lines.map((l) => [l.level, l.key])).toEqual([
    [20, 'system.enableEagerWorkflowStart'],
    [40, 'no.such.key'],
  ]);
  expect(flagsFromDynamicConfig({ 'system.enableActivityEagerExecution': true, 'limit.blobSize.error': 1 })).toEqual({ eagerActivityExecution: true });
  expect(flagsFromDynamicConfig(undefined)).toEqual({});
  expect(() => parseDevServerArgs(['--dynamic-config-value', 'system.enableActivityEagerExecution=1'])).toThrow(/takes true or false/);
});

test('arguments: when a dynamic config value is malformed, the executable prints one line and exits 2', () => {
  const r = spawnSync(executable, ['server', 'start-dev', '--port', '0', '--dynamic-config-value', 'limit.blobSize.error=big'], { encoding: 'utf8' });
  expect(r.status).toBe(2);
  expect(r.stderr.trim().split('\n')).toEqual(['clearway devserver: bad --dynamic-config-value limit.blobSize.error=big: the value is not JSON (strings need quotes)']);
});

test('createLocal: when the SDK passes a small limit.blobSize.error, the launched server refuses a larger payload as a real server does', async () => {
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: executable },
      extraArgs: ['--dynamic-config-value', 'limit.blobSize.error=15000', '--dynamic-config-value', 'limit.blobSize.warn=10000', '--dynamic-config-value', 'some.unknown.key=1'],
    },
  });
  try {
    const svc = env.client.workflowService;
    const input = (bytes: number) => ({ payloads: [{ metadata: { encoding: Buffer.from('binary/plain') }, data: Buffer.alloc(bytes, 7) }] });
    const start = (workflowId: string, bytes: number) =>
      svc.startWorkflowExecution({ namespace: 'default', workflowId, workflowType: { name: 'raw' }, taskQueue: { name: 'dc' }, requestId: workflowId, input: input(bytes) });
    await expect(start('dc-over', 16_000)).rejects.toMatchObject({ code: 3, details: 'Blob data size exceeds limit.' });
    await expect(start('dc-under', 12_000)).resolves.toMatchObject({ runId: expect.any(String) });
  } finally {
    await env.teardown();
  }
});

test('start: when the port is taken, the executable prints one line naming the port and exits 1', async () => {
  const blocker = net.createServer();
  const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)));
  try {
    const r = spawnSync(executable, ['--port', String(port), '--headless'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([`clearway devserver: port ${port} on 127.0.0.1 is already in use`]);
  } finally {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  }
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
