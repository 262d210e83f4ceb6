import fs from 'node:fs';
import { freePort, runClearway, startClearway, waitForHttp, type Running } from '../helpers/cli';
import { freshEmbeddedDataDir } from '../helpers/db';

jest.setTimeout(180_000);

describe('clearway demo against clearway start', () => {
  let running: Running | undefined;
  let dataDir = '';
  afterAll(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGTERM');
      await running.exited;
    }
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('demo: when run against a started Clearway, it prints tokens and leaves six requests the API serves, one owing its retrospective', async () => {
    dataDir = await freshEmbeddedDataDir();
    const port = await freePort();
    const env = { DATA_DIR: dataDir, PORT: String(port), TEMPORAL_PORT: String(await freePort()) };
    const base = `http://127.0.0.1:${port}`;
    running = startClearway(['start'], env);
    await waitForHttp(`${base}/readyz`, (s) => s === 200, 90_000, running);

    const demo = await runClearway(['demo'], env);
    expect({ code: demo.code, stderr: demo.stderr }).toEqual({ code: 0, stderr: '' });
    const statuses = [...demo.stdout.matchAll(/^ {2}(\w+)\s+[0-9a-f-]{36} {2}/gm)].map((m) => m[1]);
    expect(statuses).toEqual(['draft', 'under_review', 'changes_requested', 'approved', 'rejected', 'approved']);
    expect(demo.stdout).toMatch(
      /registry outage \(awaiting its retrospective review by ccb-chair, due \d{4}-\d\d-\d\dT/,
    );

    const steward = /demo-steward\s+data-steward\s+(cw_\S+)/.exec(demo.stdout)?.[1];
    expect(steward).toBeDefined();
    const inbox = await fetch(`${base}/api/v1/inbox`, { headers: { authorization: `Bearer ${steward}` } });
    const items = ((await inbox.json()) as { items: { action: string; changeRequest: { title: string } }[] }).items;
    expect(items.map((i) => [i.action, i.changeRequest.title])).toEqual([
      ['decide', 'Switch declarations to the single-window API v2'],
    ]);

    // The emergency change approved on the fast path waits for its retrospective review in the chair's inbox.
    const chair = /demo-chair\s+ccb-chair\s+(cw_\S+)/.exec(demo.stdout)?.[1];
    const chairInbox = await fetch(`${base}/api/v1/inbox`, { headers: { authorization: `Bearer ${chair}` } });
    const chairItems = ((await chairInbox.json()) as { items: { action: string; changeRequest: { title: string } }[] })
      .items;
    expect(chairItems.map((i) => [i.action, i.changeRequest.title])).toEqual([
      ['retrospective', 'Emergency: restore EORI validation after the registry outage'],
    ]);

    const again = await runClearway(['demo'], env);
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toBe('clearway: demo users named demo-* exist already; choose --prefix');
  });
});
