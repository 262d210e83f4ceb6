import { temporal } from '@temporalio/proto';
import { messageToJson, type PType } from '../../devserver/http/json';
import { buildRoutes } from '../../devserver/http/routes';
import { replayAll, startHarness, type Harness } from './harness';
import { echo, mixed, setValue, state, unblock, waiter } from './workflows';

let h: Harness;
let base: string;
const ws = temporal.api.workflowservice.v1;
const ops = temporal.api.operatorservice.v1;
const type = (t: unknown) => t as unknown as PType;

beforeAll(async () => {
  h = await startHarness({ httpPort: 0 });
  base = `http://127.0.0.1:${h.server.httpPort}`;
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  await worker.runUntil(async () => {
    const done = await h.client.workflow.start(mixed, { taskQueue: tq, workflowId: 'http-mixed' });
    await done.signal(unblock, 'x');
    await done.result();
    const open = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'http-open' });
    await open.executeUpdate(setValue, { args: ['via-update'] });
  });
}, 60_000);
afterAll(async () => {
  await h.client.workflow.getHandle('http-open').terminate('cleanup').catch(() => undefined);
  await replayAll(h);
  await h.close();
});

async function get(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path);
  return { status: res.status, body: await res.json() };
}

async function post(path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const svc = () => h.connection.workflowService;

test.each([
  ['ListNamespaces', '/api/v1/namespaces', () => svc().listNamespaces({}), ws.ListNamespacesResponse],
  ['DescribeNamespace', '/api/v1/namespaces/default', () => svc().describeNamespace({ namespace: 'default' }), ws.DescribeNamespaceResponse],
  ['GetClusterInfo', '/api/v1/cluster-info', () => svc().getClusterInfo({}), ws.GetClusterInfoResponse],
  ['GetSystemInfo', '/api/v1/system-info', () => svc().getSystemInfo({}), ws.GetSystemInfoResponse],
  [
    'ListWorkflowExecutions',
    `/api/v1/namespaces/default/workflows?query=${encodeURIComponent("WorkflowId STARTS_WITH 'http-mixed'")}`,
    () => svc().listWorkflowExecutions({ namespace: 'default', query: "WorkflowId STARTS_WITH 'http-mixed'" }),
    ws.ListWorkflowExecutionsResponse,
  ],
  [
    'CountWorkflowExecutions',
    `/api/v1/namespaces/default/workflow-count?query=${encodeURIComponent("WorkflowId STARTS_WITH 'http-' GROUP BY ExecutionStatus")}`,
    () => svc().countWorkflowExecutions({ namespace: 'default', query: "WorkflowId STARTS_WITH 'http-' GROUP BY ExecutionStatus" }),
    ws.CountWorkflowExecutionsResponse,
  ],
  ['DescribeWorkflowExecution', '/api/v1/namespaces/default/workflows/http-mixed', () => svc().describeWorkflowExecution({ namespace: 'default', execution: { workflowId: 'http-mixed' } }), ws.DescribeWorkflowExecutionResponse],
  ['DescribeWorkflowExecution (running)', '/api/v1/namespaces/default/workflows/http-open', () => svc().describeWorkflowExecution({ namespace: 'default', execution: { workflowId: 'http-open' } }), ws.DescribeWorkflowExecutionResponse],
  ['GetWorkflowExecutionHistory', '/api/v1/namespaces/default/workflows/http-mixed/history', () => svc().getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: 'http-mixed' } }), ws.GetWorkflowExecutionHistoryResponse],
  [
    'GetWorkflowExecutionHistory (page)',
    '/api/v1/namespaces/default/workflows/http-mixed/history?maximumPageSize=3',
    () => svc().getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: 'http-mixed' }, maximumPageSize: 3 }),
    ws.GetWorkflowExecutionHistoryResponse,
  ],
  [
    'GetWorkflowExecutionHistoryReverse',
    '/api/v1/namespaces/default/workflows/http-open/history-reverse?maximum_page_size=5',
    () => svc().getWorkflowExecutionHistoryReverse({ namespace: 'default', execution: { workflowId: 'http-open' }, maximumPageSize: 5 }),
    ws.GetWorkflowExecutionHistoryReverseResponse,
  ],
  [
    'DescribeTaskQueue',
    '/api/v1/namespaces/default/task-queues/http-tq?taskQueueType=TASK_QUEUE_TYPE_WORKFLOW',
    () => svc().describeTaskQueue({ namespace: 'default', taskQueue: { name: 'http-tq' }, taskQueueType: 1 }),
    ws.DescribeTaskQueueResponse,
  ],
  ['ListSearchAttributes', '/api/v1/namespaces/default/search-attributes', () => h.connection.operatorService.listSearchAttributes({ namespace: 'default' }), ops.ListSearchAttributesResponse],
] as const)('http: %s answers over HTTP what it answers over gRPC', async (_name, path, grpcCall, responseType) => {
  const res = await get(path);
  expect(res.status).toBe(200);
  const grpc = messageToJson(type(responseType), await grpcCall());
  if (_name === 'DescribeTaskQueue') {
    // Poller timestamps move between the two calls.
    expect(res.body.pollers?.map((p: any) => p.identity)).toEqual((grpc as any).pollers?.map((p: any) => p.identity));
    return;
  }
  expect(res.body).toEqual(grpc);
});

test('http: payloads use the JSON shorthand and times are RFC 3339', async () => {
  const res = await get('/api/v1/namespaces/default/workflows/http-mixed/history');
  const events = res.body.history.events;
  expect(events[0].eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
  expect(events[0].eventTime).toMatch(/^\d{4}-\d\d-\d\dT/);
  const completed = events.at(-1);
  expect(completed.workflowExecutionCompletedEventAttributes.result).toEqual(['hello mix|x']);
  expect(res.body.history.events[0].eventId).toBe('1');
});

test('http: ?noPayloadShorthand writes payloads in full, ?pretty indents, other unknown parameters are ignored', async () => {
  const path = '/api/v1/namespaces/default/workflows/http-mixed/history';
  const full = await fetch(`${base}${path}?noPayloadShorthand&pretty&no_such_field=1`);
  const text = await full.text();
  expect(text).toMatch(/^{\n {2}"history"/);
  const grpc = await svc().getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: 'http-mixed' } });
  expect(JSON.parse(text)).toEqual(messageToJson(type(ws.GetWorkflowExecutionHistoryResponse), grpc, false));
  const result = JSON.parse(text).history.events.at(-1).workflowExecutionCompletedEventAttributes.result;
  expect(result.payloads[0]).toEqual({ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"hello mix|x"').toString('base64') });
  // A bad value for a real field is still refused.
  expect((await get(`${path}?maximumPageSize=lots`)).status).toBe(400);
});

test('http: a query posted as JSON is answered by the worker', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  await worker.runUntil(async () => {
    const handle = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'http-query' });
    const res = await post('/api/v1/namespaces/default/workflows/http-query/query/state', { query: { queryArgs: [] } });
    expect(res.status).toBe(200);
    expect(res.body.queryResult).toEqual([await handle.query(state)]);
    await handle.terminate('cleanup');
  });
});

test('http: starting, signalling and terminating a workflow over HTTP work like gRPC', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  await worker.runUntil(async () => {
    const start = await post('/api/v1/namespaces/default/workflows/http-started', { workflowType: { name: 'echo' }, taskQueue: { name: tq }, input: ['from http'] });
    expect(start.status).toBe(200);
    expect(start.body.runId).toMatch(/[0-9a-f-]{36}/);
    expect(await h.client.workflow.getHandle('http-started').result()).toBe('from http');
    const w = await post('/api/v1/namespaces/default/workflows/http-waiting', { workflowType: { name: 'waiter' }, taskQueue: { name: tq } });
    expect(w.status).toBe(200);
    expect((await post('/api/v1/namespaces/default/workflows/http-waiting/signal/unblock', { input: ['http signal'] })).status).toBe(200);
    expect(await h.client.workflow.getHandle('http-waiting').result()).toBe('initial/http signal');
    const again = await post('/api/v1/namespaces/default/workflows/http-waiting/terminate', { reason: 'done' });
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ code: 5, message: expect.stringMatching(/already completed/) });
  });
  void echo;
});

test('http: unknown routes are 404 and bad JSON is 400, both with Temporal error bodies', async () => {
  const missing = await get('/api/v1/no/such/route');
  expect(missing.status).toBe(404);
  expect(missing.body).toMatchObject({ code: 5, message: 'Not Found' });
  const badJson = await post('/api/v1/namespaces/default/workflows/x', '{not json');
  expect(badJson.status).toBe(400);
  expect(badJson.body.code).toBe(3);
  const unknownField = await post('/api/v1/namespaces/default/workflows/x', { noSuchField: 1 });
  expect(unknownField.status).toBe(400);
  expect(unknownField.body.message).toMatch(/noSuchField: unknown field/);
  const notFound = await get('/api/v1/namespaces/default/workflows/never-was');
  expect(notFound.status).toBe(404);
});

test('routes: every binding comes from the proto annotations (both /api/v1 and bare forms)', () => {
  const routes = buildRoutes();
  const history = routes.filter((r) => r.rpc === 'GetWorkflowExecutionHistory').map((r) => r.template);
  expect(history).toEqual(expect.arrayContaining(['/api/v1/namespaces/{namespace}/workflows/{execution.workflow_id}/history', '/namespaces/{namespace}/workflows/{execution.workflow_id}/history']));
  expect(routes.length).toBeGreaterThan(100);
});
