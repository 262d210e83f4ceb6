import { temporal } from '@temporalio/proto';
import { messageToJson, type PType } from '../../devserver/http/json';
import { buildRoutes } from '../../devserver/http/routes';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { replayAll, startHarness, workflowBundle, type Harness } from './harness';
import { echo, mixed, setValue, state, unblock, waiter } from './workflows';

let h: Harness;
let base: string;
// The Temporal UI's port: the same routes, payloads written in full as the UI's own server writes them.
let uiBase: string;
const ws = temporal.api.workflowservice.v1;
const ops = temporal.api.operatorservice.v1;
const type = (t: unknown) => t as unknown as PType;

beforeAll(async () => {
  h = await startHarness({ httpPort: 0, uiPort: 0 });
  base = `http://127.0.0.1:${h.server.httpPort}`;
  uiBase = `http://127.0.0.1:${h.server.uiPort}`;
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

async function get(path: string, origin = base): Promise<{ status: number; body: any }> {
  const res = await fetch(origin + path);
  return { status: res.status, body: await res.json() };
}

async function post(path: string, body: unknown, origin = base): Promise<{ status: number; body: any }> {
  const res = await fetch(origin + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
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

// Every WorkflowService and OperatorService call the Temporal UI's pages make, written as the UI writes
// it (query parameters, bodies), on the UI's port: the answer equals the gRPC answer to the same request,
// as proto3 JSON with payloads in full (the UI decodes them itself).
const runIdOf = async (workflowId: string) => (await h.client.workflow.getHandle(workflowId).describe()).runId;
const q = encodeURIComponent;

interface UiCall {
  /** The path and query string the UI requests. */
  path(): Promise<string>;
  /** The same request over gRPC. */
  grpc(): Promise<object>;
  response: unknown;
}

const uiCalls: Record<string, UiCall> = {
  GetSystemInfo: { path: async () => '/api/v1/system-info?', grpc: () => svc().getSystemInfo({}), response: ws.GetSystemInfoResponse },
  GetClusterInfo: { path: async () => '/api/v1/cluster-info?', grpc: () => svc().getClusterInfo({}), response: ws.GetClusterInfoResponse },
  ListNamespaces: { path: async () => '/api/v1/namespaces?', grpc: () => svc().listNamespaces({}), response: ws.ListNamespacesResponse },
  DescribeNamespace: {
    path: async () => '/api/v1/namespaces/default?',
    grpc: () => svc().describeNamespace({ namespace: 'default' }),
    response: ws.DescribeNamespaceResponse,
  },
  ListSearchAttributes: {
    path: async () => '/api/v1/namespaces/default/search-attributes?',
    grpc: () => h.connection.operatorService.listSearchAttributes({ namespace: 'default' }),
    response: ops.ListSearchAttributesResponse,
  },
  'ListWorkflowExecutions (the list page)': {
    path: async () => '/api/v1/namespaces/default/workflows?pageSize=100&nextPageToken=',
    grpc: () => svc().listWorkflowExecutions({ namespace: 'default', pageSize: 100 }),
    response: ws.ListWorkflowExecutionsResponse,
  },
  'ListWorkflowExecutions (the latest run of an id)': {
    path: async () => `/api/v1/namespaces/default/workflows?query=${q('WorkflowId="http-mixed"')}&pageSize=1`,
    grpc: () => svc().listWorkflowExecutions({ namespace: 'default', query: 'WorkflowId="http-mixed"', pageSize: 1 }),
    response: ws.ListWorkflowExecutionsResponse,
  },
  'ListWorkflowExecutions (relationships)': {
    path: async () => `/api/v1/namespaces/default/workflows?query=${q(`RootWorkflowId = "http-mixed" AND RootRunId = "${await runIdOf('http-mixed')}"`)}`,
    grpc: async () =>
      svc().listWorkflowExecutions({ namespace: 'default', query: `RootWorkflowId = "http-mixed" AND RootRunId = "${await runIdOf('http-mixed')}"` }),
    response: ws.ListWorkflowExecutionsResponse,
  },
  'CountWorkflowExecutions (the list header)': {
    path: async () => `/api/v1/namespaces/default/workflow-count?query=${q('GROUP BY ExecutionStatus')}`,
    grpc: () => svc().countWorkflowExecutions({ namespace: 'default', query: 'GROUP BY ExecutionStatus' }),
    response: ws.CountWorkflowExecutionsResponse,
  },
  'DescribeWorkflowExecution (a run)': {
    path: async () => `/api/v1/namespaces/default/workflows/http-open?execution.runId=${await runIdOf('http-open')}`,
    grpc: async () => svc().describeWorkflowExecution({ namespace: 'default', execution: { workflowId: 'http-open', runId: await runIdOf('http-open') } }),
    response: ws.DescribeWorkflowExecutionResponse,
  },
  'GetWorkflowExecutionHistory (a closed run)': {
    path: async () => `/api/v1/namespaces/default/workflows/http-mixed/history?execution.runId=${await runIdOf('http-mixed')}&waitNewEvent=false`,
    grpc: async () => svc().getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: 'http-mixed', runId: await runIdOf('http-mixed') } }),
    response: ws.GetWorkflowExecutionHistoryResponse,
  },
  'GetWorkflowExecutionHistory (the next page by token)': {
    path: async () => {
      const first = await get('/api/v1/namespaces/default/workflows/http-mixed/history?maximumPageSize=4', uiBase);
      return `/api/v1/namespaces/default/workflows/http-mixed/history?maximumPageSize=4&next_page_token=${q(first.body.nextPageToken)}`;
    },
    grpc: async () => {
      const execution = { workflowId: 'http-mixed' };
      const first = await svc().getWorkflowExecutionHistory({ namespace: 'default', execution, maximumPageSize: 4 });
      return svc().getWorkflowExecutionHistory({ namespace: 'default', execution, maximumPageSize: 4, nextPageToken: first.nextPageToken });
    },
    response: ws.GetWorkflowExecutionHistoryResponse,
  },
  GetWorkflowExecutionHistoryReverse: {
    path: async () => '/api/v1/namespaces/default/workflows/http-open/history-reverse?maximumPageSize=20',
    grpc: () => svc().getWorkflowExecutionHistoryReverse({ namespace: 'default', execution: { workflowId: 'http-open' }, maximumPageSize: 20 }),
    response: ws.GetWorkflowExecutionHistoryReverseResponse,
  },
  'DescribeTaskQueue (workflow pollers)': {
    path: async () => '/api/v1/namespaces/default/task-queues/http-tq?taskQueueType=1',
    grpc: () => svc().describeTaskQueue({ namespace: 'default', taskQueue: { name: 'http-tq' }, taskQueueType: 1 }),
    response: ws.DescribeTaskQueueResponse,
  },
  'DescribeTaskQueue (activity pollers)': {
    path: async () => '/api/v1/namespaces/default/task-queues/http-tq?taskQueueType=2',
    grpc: () => svc().describeTaskQueue({ namespace: 'default', taskQueue: { name: 'http-tq' }, taskQueueType: 2 }),
    response: ws.DescribeTaskQueueResponse,
  },
};

test.each(Object.keys(uiCalls))('ui: %s answers on the UI port what it answers over gRPC, payloads in full', async (name) => {
  const call = uiCalls[name];
  const path = await call.path();
  const res = await get(path, uiBase);
  expect(res.status).toBe(200);
  expect(res.body).toEqual(messageToJson(type(call.response), await call.grpc(), false));
});

test.each([
  ['GetWorkerVersioningRules', '/api/v1/namespaces/default/task-queues/http-tq/worker-versioning-rules?', 'v0.2'],
  ['GetWorkerBuildIdCompatibility', '/api/v1/namespaces/default/task-queues/http-tq/worker-build-id-compatibility?', 'v0.1'],
  ['GetWorkerTaskReachability', '/api/v1/namespaces/default/worker-task-reachability?buildIds=&taskQueues=http-tq', 'v0.2'],
] as const)('ui: %s (the Versioning tab) is refused as by a server with worker versioning off, over HTTP and gRPC', async (rpc, path, version) => {
  const res = await get(path, uiBase);
  expect(res.status).toBe(403);
  expect(res.body).toEqual({ code: 7, message: expect.stringContaining(`Worker versioning ${version}`), details: [] });
  const grpc = {
    GetWorkerVersioningRules: () => svc().getWorkerVersioningRules({ namespace: 'default', taskQueue: 'http-tq' }),
    GetWorkerBuildIdCompatibility: () => svc().getWorkerBuildIdCompatibility({ namespace: 'default', taskQueue: 'http-tq' }),
    GetWorkerTaskReachability: () => svc().getWorkerTaskReachability({ namespace: 'default', buildIds: [''], taskQueues: ['http-tq'] }),
  }[rpc];
  await expect(grpc()).rejects.toMatchObject({ code: 7, details: res.body.message });
});

/** A payload as the UI encodes one: base64 metadata and data. */
const uiPayload = (value: unknown) => ({
  metadata: { encoding: Buffer.from('json/plain').toString('base64') },
  data: Buffer.from(JSON.stringify(value)).toString('base64'),
});

test('ui: queries, signals, updates, cancel and terminate posted as the UI posts them act like gRPC', async () => {
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  await worker.runUntil(async () => {
    const handle = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'ui-actions' });
    const { runId } = await handle.describe();
    const execution = { workflowId: 'ui-actions', runId };
    const path = '/api/v1/namespaces/default/workflows/ui-actions';

    for (const queryType of ['state', '__temporal_workflow_metadata', '__stack_trace']) {
      const res = await post(`${path}/query/${queryType}?`, { execution, query: { queryType, queryArgs: null } }, uiBase);
      expect(res.status).toBe(200);
      const grpc = await svc().queryWorkflow({ namespace: 'default', execution, query: { queryType } });
      expect(res.body).toEqual(messageToJson(type(ws.QueryWorkflowResponse), grpc, false));
    }

    const update = { workflowExecution: { runId }, request: { meta: { updateId: 'ui-update', identity: 'ui' }, input: { args: { payloads: [uiPayload('from the ui')] } } } };
    const updated = await post(`${path}/update/setValue`, update, uiBase);
    expect(updated.status).toBe(200);
    expect(updated.body.outcome.success.payloads).toEqual([uiPayload('set:from the ui')]);
    // The same request again (same update id) over gRPC is answered with the outcome already recorded.
    const again = await svc().updateWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: 'ui-actions', runId },
      request: { meta: { updateId: 'ui-update', identity: 'ui' }, input: { name: 'setValue', args: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"from the ui"') }] } } },
    });
    expect(updated.body).toEqual(messageToJson(type(ws.UpdateWorkflowExecutionResponse), again, false));
    expect(await handle.query(state)).toBe('from the ui');

    const signal = { signalName: 'unblock', workflowExecution: execution, input: { payloads: [uiPayload('ui signal')] } };
    const signalled = await post(`${path}/signal/unblock`, signal, uiBase);
    expect(signalled).toEqual({ status: 200, body: {} });
    expect(await handle.result()).toBe('from the ui/ui signal');

    const other = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'ui-cancelled' });
    expect(await post('/api/v1/namespaces/default/workflows/ui-cancelled/cancel?', {}, uiBase)).toEqual({ status: 200, body: {} });
    await expect(other.result()).rejects.toThrow();
    expect((await other.describe()).status.name).toBe('CANCELLED');
    const third = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'ui-terminated' });
    expect(await post('/api/v1/namespaces/default/workflows/ui-terminated/terminate', { reason: 'from the UI' }, uiBase)).toEqual({ status: 200, body: {} });
    expect((await third.describe()).status.name).toBe('TERMINATED');

    // Reset as the UI's dialog posts it (a server of 1.24 or later): the event id as a string, enum names.
    const fourth = await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'ui-reset' });
    await fourth.executeUpdate(setValue, { args: ['before the reset'], updateId: 'ui-reset-update' });
    const base = (await fourth.describe()).runId;
    const reset = await post(
      '/api/v1/namespaces/default/workflows/ui-reset/reset',
      {
        workflowExecution: { workflowId: 'ui-reset', runId: base },
        workflowTaskFinishEventId: '4',
        requestId: '5d1f8c8e-1111-4b7e-9d5e-0c2a4b6f7a10',
        reason: 'from the UI',
        resetReapplyExcludeTypes: ['RESET_REAPPLY_EXCLUDE_TYPE_UNSPECIFIED'],
        resetReapplyType: 'RESET_REAPPLY_TYPE_ALL_ELIGIBLE',
      },
      uiBase,
    );
    expect(reset.status).toBe(200);
    expect(reset.body.runId).not.toBe(base);
    const resetRun = h.client.workflow.getHandle('ui-reset', reset.body.runId);
    // The dialog's default re-applies the update accepted after the reset point: the new run runs it again.
    const admitted = (await resetRun.fetchHistory()).events!.filter((e) => e.workflowExecutionUpdateAdmittedEventAttributes);
    expect(admitted).toHaveLength(1);
    expect(await h.client.workflow.getHandle('ui-reset').getUpdateHandle<string>('ui-reset-update').result()).toBe('set:before the reset');
    expect(await resetRun.query(state)).toBe('before the reset');
    expect((await h.client.workflow.getHandle('ui-reset', base).describe()).status.name).toBe('TERMINATED');
    await resetRun.terminate('done');
  });
});

test('ui: a batch terminate posted as the UI posts it runs, and the UI reads the job back', async () => {
  const tq = h.taskQueue();
  for (const id of ['ui-batch-a', 'ui-batch-b']) await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: id });
  const job = '/api/v1/namespaces/default/batch-operations/ui-batch';
  const started = await post(job, { jobId: 'ui-batch', namespace: 'default', reason: 'from the UI', visibilityQuery: `TaskQueue = '${tq}'`, terminationOperation: { identity: 'ui' } }, uiBase);
  expect(started).toEqual({ status: 200, body: {} });
  let described = await get(job, uiBase);
  for (let i = 0; i < 100 && described.body.state === 'BATCH_OPERATION_STATE_RUNNING'; i++) {
    await new Promise((r) => setTimeout(r, 25));
    described = await get(job, uiBase);
  }
  expect(described.body).toMatchObject({ jobId: 'ui-batch', state: 'BATCH_OPERATION_STATE_COMPLETED', totalOperationCount: '2', completeOperationCount: '2', reason: 'from the UI' });
  expect((await get('/api/v1/namespaces/default/batch-operations', uiBase)).body.operationInfo).toContainEqual(expect.objectContaining({ jobId: 'ui-batch' }));
  for (const id of ['ui-batch-a', 'ui-batch-b']) expect((await h.client.workflow.getHandle(id).describe()).status.name).toBe('TERMINATED');
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

test('http: a history downloaded as JSON (as from the UI) loads with the SDK and replays', async () => {
  const res = await get('/api/v1/namespaces/default/workflows/http-mixed/history?noPayloadShorthand');
  const history = historyFromJSON(res.body.history);
  expect(history.events?.length).toBe(res.body.history.events.length);
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), replayName: 'http-json' }, history, 'http-mixed');
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
