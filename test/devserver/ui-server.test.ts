import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { uiPortOf, parseDevServerArgs } from '../../devserver/cli';
import { messageToJson, type PType } from '../../devserver/http/json';
import { BUILD_INFO } from '../../devserver/ui/assets';
import { startHarness, type Harness } from './harness';
import { echo } from './workflows';

// The UI's own server around a stand-in build: what it answers besides the transcoded API.
let h: Harness;
let ui: string;
let buildDir: string;
let runId: string;

beforeAll(async () => {
  buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-ui-build-'));
  fs.mkdirSync(path.join(buildDir, '_app/immutable/entry'), { recursive: true });
  fs.writeFileSync(path.join(buildDir, 'index.html'), '<!doctype html><title>fallback page</title>');
  fs.writeFileSync(path.join(buildDir, '_app/version.json'), '{"version":"1"}');
  fs.writeFileSync(path.join(buildDir, '_app/immutable/entry/start.abc.js'), 'export {};');
  fs.writeFileSync(path.join(buildDir, BUILD_INFO), JSON.stringify({ uiVersion: '2.38.0' }));
  h = await startHarness({ uiPort: 0, uiBuildDir: buildDir, namespaces: ['ops'] });
  ui = `http://127.0.0.1:${h.server.uiPort}`;
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  await worker.runUntil(async () => {
    const handle = await h.client.workflow.start(echo, { taskQueue: tq, workflowId: 'ui-echo', args: ['raw history'] });
    await handle.result();
    runId = (await handle.describe()).runId;
  });
});

afterAll(async () => {
  await h?.close();
  fs.rmSync(buildDir, { recursive: true, force: true });
});

test('settings: auth is off, the first registered namespace opens, and the version is the built UI version', async () => {
  const res = await fetch(`${ui}/api/v1/settings`);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ Auth: { Enabled: false }, DefaultNamespace: 'ops', Version: '2.38.0', Codec: { Endpoint: '' } });
});

test('pages: any page path gets the fallback page, files of the build are served with their cache policy', async () => {
  for (const page of ['/', '/namespaces/default/workflows', '/namespaces/default/workflows/x/y/history']) {
    const res = await fetch(ui + page);
    expect([res.status, res.headers.get('content-type'), res.headers.get('cache-control')]).toEqual([200, 'text/html; charset=utf-8', 'no-cache']);
    expect(await res.text()).toContain('fallback page');
  }
  const asset = await fetch(`${ui}/_app/immutable/entry/start.abc.js`);
  expect([asset.status, asset.headers.get('content-type'), asset.headers.get('cache-control')]).toEqual([
    200,
    'text/javascript; charset=utf-8',
    'public, max-age=31536000, immutable',
  ]);
  expect((await fetch(`${ui}/_app/version.json`)).headers.get('cache-control')).toBe('no-cache');
  expect((await fetch(`${ui}/_app/immutable/entry/missing.js`)).status).toBe(404);
  // A path climbing out of the build gets the fallback page, never the file it names.
  const escape = await fetch(`${ui}/..%2f..%2f..%2fetc%2fpasswd`);
  expect(await escape.text()).toContain('fallback page');
  expect((await fetch(ui, { method: 'DELETE' })).status).toBe(405);
});

test('api: /api/v1 routes are transcoded, unknown ones get Temporal 404 bodies, bare API paths are pages', async () => {
  const ns = await fetch(`${ui}/api/v1/namespaces/ops`);
  expect(ns.status).toBe(200);
  expect(((await ns.json()) as any).namespaceInfo.name).toBe('ops');
  const missing = await fetch(`${ui}/api/v1/no/such/route`);
  expect([missing.status, await missing.json()]).toEqual([404, { code: 5, message: 'Not Found', details: [] }]);
  expect(await (await fetch(`${ui}/namespaces/ops`)).text()).toContain('fallback page');
});

test('history.json: the whole history of a run as one JSON array of events, payloads in full', async () => {
  const res = await fetch(`${ui}/api/v1/namespaces/default/workflows/ui-echo/run/${runId}/history.json`);
  expect(res.status).toBe(200);
  const history = await h.connection.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: 'ui-echo', runId } });
  const eventType = temporal.api.history.v1.HistoryEvent as unknown as PType;
  expect(await res.json()).toEqual(history.history!.events!.map((e) => messageToJson(eventType, e, false)));
  const unknown = await fetch(`${ui}/api/v1/namespaces/default/workflows/never-was/run/${runId}/history.json`);
  expect(unknown.status).toBe(404);
});

test('render: user metadata is shown as escaped text in a sandboxed frame', async () => {
  const res = await fetch(`${ui}/render?content=${encodeURIComponent('<script>alert(1)</script> **hi**')}&theme=dark`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'.*sandbox/);
  const html = await res.text();
  expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62; **hi**');
  expect(html).not.toContain('<script>');
});

test('not built: pages say how to build the UI while the API is still answered', async () => {
  const bare = await startHarness({ uiPort: 0, uiBuildDir: path.join(buildDir, 'absent') });
  try {
    const base = `http://127.0.0.1:${bare.server.uiPort}`;
    const page = await fetch(`${base}/namespaces/default/workflows`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('npm run build:ui');
    expect((await fetch(`${base}/api/v1/system-info`)).status).toBe(200);
  } finally {
    await bare.close();
  }
});

test.each([
  [['--port', '7233'], 8233],
  [['server', 'start-dev', '--port', '7300', '--ui-port', '9000'], 9000],
  [['--port', '7233', '--headless'], undefined],
  [['--port', '0'], 0],
  [['7455'], undefined],
] as const)('cli: with %j the UI port is %s (none when undefined), as for `temporal server start-dev`', (argv, port) => {
  expect(uiPortOf(parseDevServerArgs([...argv]))).toBe(port);
});
