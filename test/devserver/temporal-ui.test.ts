// The real Temporal UI, built from @temporalio/ui and served by the embedded server, driven in Chromium
// over Clearway's change-request workflow run by a real worker. Screenshots refresh docs/screenshots/ with
// CLEARWAY_SCREENSHOTS=update.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Browser, Page } from 'playwright-core';
import { createActivities } from '../../activities';
import type { Notifier } from '../../activities/notifier';
import { startDevServer, type DevServer } from '../../devserver';
import { changeRequest, changeRequestWorkflowId, decide, submit, type ChangeRequestStart } from '../../workflows/change-request';
import { describeInBrowser, launchBrowser, screenshotPath } from '../helpers/browser';
import { evidence, fields, people, quietRuntime, shippedPolicy, workflowBundle } from '../helpers/change-requests';
import { backends, createTestDatabase, silentLog, type TestDb } from '../helpers/db';

const ROOT = path.resolve(__dirname, '../..');
const TASK_QUEUE = 'temporal-ui';

let server: DevServer;
let connection: Connection;
let nativeConnection: NativeConnection;
let client: Client;
let db: TestDb;
let worker: Worker;
let running: Promise<void>;
let browser: Browser;
let ui: string;
let approved: WorkflowHandle<typeof changeRequest>;
let underReview: WorkflowHandle<typeof changeRequest>;

// The running request's notifications wait here, so its notification activities stay pending.
let heldId = '';
let release: () => void = () => undefined;
const held = new Promise<void>((resolve) => (release = resolve));
const notifier: Notifier = {
  async notify(n) {
    if (n.subjectId === heldId) await held;
    return 'logged';
  },
};

async function openChangeRequest(title: string): Promise<{ id: string; handle: WorkflowHandle<typeof changeRequest> }> {
  const id = randomUUID();
  const { policy, version } = shippedPolicy();
  const input: ChangeRequestStart = {
    id,
    requester: people.requester,
    fields: fields({ title }),
    evidence: evidence('documentation', 'test-evidence', 'rollback-plan'),
    policy,
    policyVersion: version,
  };
  const handle = await client.workflow.start(changeRequest, { taskQueue: TASK_QUEUE, workflowId: changeRequestWorkflowId(id), args: [input] });
  return { id, handle };
}

// Script errors and server errors any page met; each test ends by checking there were none.
const problems: string[] = [];

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 500) problems.push(`${r.request().method()} ${r.url()} answered ${r.status()}`);
  });
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: screenshotPath(`temporal-ui-${name}.png`) });
}

describeInBrowser('Temporal UI served by the embedded server', () => {
  beforeAll(async () => {
    // The UI is built by `npm install`; this builds it only when that did not happen (or is out of date).
    const built = spawnSync(process.execPath, [path.join(ROOT, 'devserver/ui/app/build.js'), '--require'], { encoding: 'utf8', timeout: 300_000 });
    if (built.status !== 0) throw new Error(`the Temporal UI could not be built:\n${built.stdout}${built.stderr}`);
    quietRuntime();
    [server, db] = await Promise.all([startDevServer({ port: 0, uiPort: 0, logLevel: 'silent' }), createTestDatabase(backends()[0])]);
    ui = `http://127.0.0.1:${server.uiPort}`;
    connection = await Connection.connect({ address: server.address });
    nativeConnection = await NativeConnection.connect({ address: server.address });
    client = new Client({ connection });
    worker = await Worker.create({
      connection: nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowBundle: await workflowBundle(),
      activities: createActivities({ prisma: db.prisma, log: silentLog, notifier }),
    });
    running = worker.run();

    // One request approved by the whole board (closed), one submitted and waiting for its decisions.
    const done = await openChangeRequest('Switch the broker link to declaration API v2');
    await done.handle.executeUpdate(submit, { args: [{ actor: people.requester }] });
    await done.handle.executeUpdate(decide, { args: [{ actor: people.chair, role: 'ccb-chair', decision: 'approve' }] });
    await done.handle.executeUpdate(decide, { args: [{ actor: people.specialist, role: 'integration-specialist', decision: 'approve' }] });
    await done.handle.executeUpdate(decide, { args: [{ actor: people.steward, role: 'data-steward', decision: 'approve' }] });
    await done.handle.result();
    approved = done.handle;

    const open = await openChangeRequest('Map tariff codes to the 2026 nomenclature');
    heldId = open.id;
    await open.handle.executeUpdate(submit, { args: [{ actor: people.requester }] });
    underReview = open.handle;

    browser = await launchBrowser();
  }, 360_000);

  afterAll(async () => {
    release();
    await browser?.close();
    await underReview?.terminate('test over').catch(() => undefined);
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running;
    await connection?.close();
    await nativeConnection?.close();
    await server?.stop();
    await db?.close();
  });

  afterEach(() => expect(problems.splice(0)).toEqual([]));

  it('workflow list: shows the approved and the running change request with their status', async () => {
    const page = await newPage();
    await page.goto(`${ui}/`);
    await page.waitForURL(/\/namespaces\/default\/workflows/);
    const completedRow = page.locator('tr', { hasText: approved.workflowId });
    const runningRow = page.locator('tr', { hasText: underReview.workflowId });
    await completedRow.waitFor();
    await runningRow.waitFor();
    expect(await completedRow.innerText()).toMatch(/Completed/);
    expect(await runningRow.innerText()).toMatch(/Running/);
    expect(await completedRow.innerText()).toMatch(/changeRequest/);
    await shot(page, 'workflows');
    await page.close();
  });

  it('workflow history: opening the approved request shows its event history with the update events', async () => {
    const page = await newPage();
    await page.goto(`${ui}/namespaces/default/workflows`);
    await page.locator('a', { hasText: approved.workflowId }).first().click();
    await page.waitForURL(/\/history/);
    await page.getByText(/Update ?Accepted/).first().waitFor();
    const text = await page.innerText('body');
    expect(text).toMatch(/Update ?Completed/);
    expect(text).toMatch(/Workflow ?Execution ?Completed/);
    await shot(page, 'history');
    await page.close();
  });

  it('pending activities: the running request shows its held notification activities', async () => {
    const page = await newPage();
    const { runId } = await underReview.describe();
    await page.goto(`${ui}/namespaces/default/workflows/${underReview.workflowId}/${runId}/pending-activities`);
    await page.getByText('notifyChangeRequest').first().waitFor();
    await shot(page, 'pending-activities');
    await page.close();
  });

  it('query: the running request answers its view query in the UI', async () => {
    const page = await newPage();
    const { runId } = await underReview.describe();
    await page.goto(`${ui}/namespaces/default/workflows/${underReview.workflowId}/${runId}/query`);
    // The page lists the workflow's queries (from its metadata query) with the first, `view`, chosen.
    await page.getByRole('button', { name: 'Run Query' }).click();
    const result = page.getByTestId('query-result');
    await result.getByText('under_review').first().waitFor();
    expect(await result.innerText()).toMatch(/Map tariff codes to the 2026 nomenclature/);
    await shot(page, 'query');
    await page.close();
  });

  it('every page of the shell: namespaces, run tabs, event detail, task queue and redirects load without errors', async () => {
    const page = await newPage();
    const { runId } = await underReview.describe();
    const done = await approved.describe();
    const run = `${ui}/namespaces/default/workflows/${underReview.workflowId}/${runId}`;
    const scheduled = (await approved.fetchHistory()).events!.find((e) => e.activityTaskScheduledEventAttributes)!.eventId;
    const pages: [string, string, RegExp | string][] = [
      [`${ui}/namespaces`, '/namespaces', 'default'],
      [`${ui}/namespaces/default`, '/namespaces/default', 'Retention Period'],
      [`${run}/call-stack`, '/call-stack', 'change-request.ts'],
      [`${run}/stack-trace`, '/call-stack', 'Call Stack at'],
      [`${run}/relationships`, '/relationships', 'Child Count'],
      [`${run}/workers`, '/workers', 'Last Accessed'],
      [`${run}/metadata`, '/metadata', 'Memo'],
      [`${ui}/namespaces/default/workflows/${approved.workflowId}/${done.runId}/history/events/${scheduled}`, `/history/events/${scheduled}`, 'Activity Task Scheduled'],
      [`${ui}/namespaces/default/task-queues/${TASK_QUEUE}`, `/task-queues/${TASK_QUEUE}`, 'Workflow Task Handler'],
      // A workflow id alone opens the history of its latest run.
      [`${ui}/namespaces/default/workflows/${approved.workflowId}`, `/${done.runId}/history`, 'Workflow Execution Completed'],
    ];
    for (const [url, lands, text] of pages) {
      await page.goto(url);
      await page.waitForURL((u) => u.pathname.endsWith(lands));
      await page.getByText(text).first().waitFor();
    }
    // The task queue's Versioning tab: the server refuses versioning calls as one with versioning off.
    await page.goto(`${ui}/namespaces/default/task-queues/${TASK_QUEUE}`);
    await page.getByText('Versioning', { exact: true }).click();
    await page.getByText('No versioning configured for task queue.').waitFor();
    await page.close();
  });

  it('batch operations: a batch terminate shows in the Batch list and on its own page with its counts', async () => {
    const drafts = await Promise.all(['Retire the legacy EDI bridge', 'Retire the fax gateway'].map(openChangeRequest));
    await connection.workflowService.startBatchOperation({
      namespace: 'default',
      jobId: 'retire-drafts',
      executions: drafts.map((d) => ({ workflowId: d.handle.workflowId })),
      reason: 'drafts withdrawn by the board',
      terminationOperation: { identity: 'operator' },
    });
    const page = await newPage();
    await page.goto(`${ui}/namespaces/default/workflows`);
    await page.getByRole('link', { name: 'Batch' }).first().click();
    await page.waitForURL(/\/namespaces\/default\/batch-operations$/);
    await page.getByText('retire-drafts').first().click();
    await page.waitForURL(/\/batch-operations\/retire-drafts$/);
    await page.getByText('drafts withdrawn by the board').first().waitFor();
    await page.getByText(/Completed/).first().waitFor();
    await shot(page, 'batch-operation');
    for (const d of drafts) expect((await d.handle.describe()).status.name).toBe('TERMINATED');
    await page.close();
  });

  it('schedules: a schedule shows in the Schedules list and on its own page, and pausing it there reaches the server', async () => {
    const scheduleId = 'nightly-tariff-refresh';
    const handle = await client.schedule.create({
      scheduleId,
      spec: { calendars: [{ hour: 2, comment: 'nightly tariff refresh' }] },
      action: { type: 'startWorkflow', workflowType: 'tariffRefresh', workflowId: 'tariff-refresh', taskQueue: TASK_QUEUE },
    });
    const page = await newPage();
    await page.goto(`${ui}/namespaces/default/workflows`);
    await page.getByRole('link', { name: 'Schedules' }).first().click();
    await page.waitForURL(/\/namespaces\/default\/schedules$/);
    await page.getByText(scheduleId).first().click();
    await page.waitForURL(new RegExp(`/schedules/${scheduleId}$`));
    await page.getByText('tariffRefresh').first().waitFor();
    await shot(page, 'schedule');
    await page.getByRole('button', { name: /Pause/ }).first().click();
    await page.getByRole('dialog').getByRole('textbox').first().fill('tariff supplier outage');
    await page.getByRole('dialog').getByRole('button', { name: /Pause/ }).first().click();
    let state = (await handle.describe()).state;
    for (let i = 0; i < 100 && !state.paused; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await handle.describe()).state;
    }
    expect(state).toMatchObject({ paused: true, note: 'tariff supplier outage' });
    await page.close();
    await handle.delete();
  });
});
