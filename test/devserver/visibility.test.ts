import { defineSearchAttributeKey } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { replayAll, startHarness, type Harness } from './harness';
import { echo, failing, tagsItself, waiter } from './workflows';

const T = temporal.api.enums.v1.IndexedValueType;
const keys = {
  kw: defineSearchAttributeKey('CustomKeyword', 'KEYWORD'),
  int: defineSearchAttributeKey('CustomInt', 'INT'),
  text: defineSearchAttributeKey('CustomText', 'TEXT'),
  dbl: defineSearchAttributeKey('CustomDouble', 'DOUBLE'),
  bool: defineSearchAttributeKey('CustomBool', 'BOOL'),
  date: defineSearchAttributeKey('CustomDatetime', 'DATETIME'),
  list: defineSearchAttributeKey('CustomKeywordList', 'KEYWORD_LIST'),
};
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: {
      CustomKeyword: T.INDEXED_VALUE_TYPE_KEYWORD,
      CustomInt: T.INDEXED_VALUE_TYPE_INT,
      CustomText: T.INDEXED_VALUE_TYPE_TEXT,
      CustomDouble: T.INDEXED_VALUE_TYPE_DOUBLE,
      CustomBool: T.INDEXED_VALUE_TYPE_BOOL,
      CustomDatetime: T.INDEXED_VALUE_TYPE_DATETIME,
      CustomKeywordList: T.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    },
  });
  const tq = h.taskQueue();
  const worker = await h.worker(tq);
  await worker.runUntil(async () => {
    for (let i = 1; i <= 6; i++) {
      await h.client.workflow.execute(echo, {
        taskQueue: tq,
        workflowId: `vis-a${i}`,
        args: [String(i)],
        typedSearchAttributes: [
          { key: keys.kw, value: i % 2 ? 'x' : 'y' },
          { key: keys.int, value: i },
          { key: keys.text, value: i === 3 ? 'the quick brown fox' : 'lazy dog' },
          { key: keys.dbl, value: i / 2 },
          { key: keys.bool, value: i > 4 },
          { key: keys.date, value: new Date(Date.UTC(2024, 0, i)) },
          { key: keys.list, value: [`tag${i}`, 'common'] },
        ],
      });
    }
    await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'vis-b1' });
    await h.client.workflow.start(waiter, { taskQueue: tq, workflowId: 'vis-b2' });
    await h.client.workflow.execute(failing, { taskQueue: tq, workflowId: 'vis-c1', args: ['no'] }).catch(() => undefined);
    const self = await h.client.workflow.start(tagsItself, { taskQueue: tq, workflowId: 'vis-d1', args: ['self-tagged'] });
    for (let i = 0; i < 100; i++) {
      const d = await self.describe();
      if (d.searchAttributes.CustomKeyword) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});
afterAll(async () => {
  await replayAll(h);
  await h.close();
});

async function ids(query: string): Promise<string[]> {
  const out: string[] = [];
  for await (const wf of h.client.workflow.list({ query: `WorkflowId STARTS_WITH 'vis-' AND (${query})` })) out.push(wf.workflowId);
  return out.sort();
}

test.each([
  ["ExecutionStatus = 'Running'", ['vis-b1', 'vis-b2', 'vis-d1']],
  ["ExecutionStatus = 'Failed'", ['vis-c1']],
  ["WorkflowType = 'echo' AND ExecutionStatus != 'Running'", ['vis-a1', 'vis-a2', 'vis-a3', 'vis-a4', 'vis-a5', 'vis-a6']],
  ["WorkflowId STARTS_WITH 'vis-b'", ['vis-b1', 'vis-b2']],
  ['CustomInt > 4', ['vis-a5', 'vis-a6']],
  ['CustomInt >= 2 AND CustomInt < 4', ['vis-a2', 'vis-a3']],
  ['CustomInt BETWEEN 2 AND 4', ['vis-a2', 'vis-a3', 'vis-a4']],
  ["CustomKeyword IN ('y', 'self-tagged')", ['vis-a2', 'vis-a4', 'vis-a6', 'vis-d1']],
  ["CustomKeyword = 'x' OR CustomInt = 2", ['vis-a1', 'vis-a2', 'vis-a3', 'vis-a5']],
  ["(CustomKeyword = 'x' OR CustomInt = 2) AND CustomBool = true", ['vis-a5']],
  ['CustomDouble <= 1.0', ['vis-a1', 'vis-a2']],
  ["CustomText = 'brown'", ['vis-a3']],
  ["CustomKeywordList = 'tag4'", ['vis-a4']],
  ["CustomKeywordList IN ('tag1', 'tag6')", ['vis-a1', 'vis-a6']],
  ["CustomDatetime > '2024-01-04T12:00:00Z'", ['vis-a5', 'vis-a6']],
  ['CustomInt IS NULL', ['vis-b1', 'vis-b2', 'vis-c1', 'vis-d1']],
  ["CustomKeyword = 'self-tagged'", ['vis-d1']],
  // As with Elasticsearch visibility, NOT matches executions that lack the attribute.
  ["ExecutionStatus IN ('Completed', 'Failed') AND NOT CustomBool = true", ['vis-a1', 'vis-a2', 'vis-a3', 'vis-a4', 'vis-c1']],
] as const)('list: %s', async (query, expected) => {
  expect(await ids(query)).toEqual([...expected].sort());
});

test('list: results come newest first by default and oldest first with ORDER BY StartTime ASC', async () => {
  const svc = h.connection.workflowService;
  const desc = await svc.listWorkflowExecutions({ namespace: 'default', query: "WorkflowId STARTS_WITH 'vis-a'" });
  const asc = await svc.listWorkflowExecutions({ namespace: 'default', query: "WorkflowId STARTS_WITH 'vis-a' ORDER BY StartTime ASC" });
  const d = desc.executions!.map((e) => e.execution!.workflowId);
  expect(d).toEqual(['vis-a6', 'vis-a5', 'vis-a4', 'vis-a3', 'vis-a2', 'vis-a1']);
  expect(asc.executions!.map((e) => e.execution!.workflowId)).toEqual([...d].reverse());
});

test('list: when a page size is given, the pages join to the whole result', async () => {
  const svc = h.connection.workflowService;
  const seen: string[] = [];
  let token: Uint8Array | undefined;
  do {
    const res = await svc.listWorkflowExecutions({ namespace: 'default', query: "WorkflowId STARTS_WITH 'vis-'", pageSize: 3, nextPageToken: token });
    seen.push(...res.executions!.map((e) => e.execution!.workflowId!));
    token = res.nextPageToken?.length ? res.nextPageToken : undefined;
  } while (token);
  expect(seen.sort()).toEqual(await ids('WorkflowId != \'\''));
  expect(seen).toHaveLength(10);
});

test('count: GROUP BY ExecutionStatus gives a count per status', async () => {
  const res = await h.connection.workflowService.countWorkflowExecutions({ namespace: 'default', query: "WorkflowId STARTS_WITH 'vis-' GROUP BY ExecutionStatus" });
  expect(Number(res.count)).toBe(10);
  const groups = Object.fromEntries(res.groups!.map((g) => [JSON.parse(Buffer.from(g.groupValues![0].data!).toString()), Number(g.count)]));
  expect(groups).toEqual({ Completed: 6, Running: 3, Failed: 1 });
  // In status order, as a real server's SQL visibility answers.
  expect(Object.keys(groups)).toEqual(['Running', 'Completed', 'Failed']);
  const { count } = await h.client.workflow.count("WorkflowId STARTS_WITH 'vis-' AND ExecutionStatus = 'Running'");
  expect(count).toBe(3);
});

test.each([
  ["WorkflowId = ", /expected a value/],
  ["NoSuchAttribute = 'x'", /unknown search attribute 'NoSuchAttribute'/],
  ["WorkflowId = 'x' AND", /expected a search attribute name/],
  ["(WorkflowId = 'x'", /expected '\)'/],
  ["WorkflowId ~ 'x'", /unexpected character/],
  ["StartTime > 'yesterday'", /RFC 3339/],
])('list: when the query is %s, the call is INVALID_ARGUMENT pointing at the problem', async (query, message) => {
  const err: any = await h.connection.workflowService.listWorkflowExecutions({ namespace: 'default', query }).catch((e) => e);
  expect(err.code).toBe(3);
  expect(err.details).toMatch(message);
});

test('search attributes: when a start names an unregistered attribute, it is INVALID_ARGUMENT', async () => {
  const err: any = await h.client.workflow
    .start(echo, { taskQueue: 'x', workflowId: 'vis-bad', args: ['x'], typedSearchAttributes: [{ key: defineSearchAttributeKey('NotRegistered', 'KEYWORD'), value: 'v' }] })
    .catch((e) => e);
  expect(err.cause?.code ?? err.code).toBe(3);
});

test('search attributes: the registry lists system and custom attributes; removal works', async () => {
  const op = h.connection.operatorService;
  await op.addSearchAttributes({ namespace: 'default', searchAttributes: { Temporary: T.INDEXED_VALUE_TYPE_KEYWORD } });
  const listed = await op.listSearchAttributes({ namespace: 'default' });
  expect(listed.customAttributes).toMatchObject({ CustomInt: T.INDEXED_VALUE_TYPE_INT, Temporary: T.INDEXED_VALUE_TYPE_KEYWORD });
  expect(listed.systemAttributes).toMatchObject({ WorkflowId: T.INDEXED_VALUE_TYPE_KEYWORD });
  await op.removeSearchAttributes({ namespace: 'default', searchAttributes: ['Temporary'] });
  expect((await op.listSearchAttributes({ namespace: 'default' })).customAttributes).not.toHaveProperty('Temporary');
});

test('legacy: ListOpen and ListClosed split the executions by state', async () => {
  const svc = h.connection.workflowService;
  const open = await svc.listOpenWorkflowExecutions({ namespace: 'default', maximumPageSize: 100 });
  const closed = await svc.listClosedWorkflowExecutions({ namespace: 'default', maximumPageSize: 100 });
  const openIds = open.executions!.map((e) => e.execution!.workflowId).filter((id) => id!.startsWith('vis-'));
  expect(openIds.sort()).toEqual(['vis-b1', 'vis-b2', 'vis-d1']);
  expect(closed.executions!.filter((e) => e.execution!.workflowId!.startsWith('vis-'))).toHaveLength(7);
});
