// The web console in a real browser (Debian Chromium via playwright-core) against the real app: HTTP, the
// embedded Temporal server, a worker and Postgres. Screenshots of each view are taken on every run and
// refresh docs/screenshots/ with CLEARWAY_SCREENSHOTS=update.
import type { Browser, Page } from 'playwright-core';
import type { RolloutPlanInput } from '../../domain/rollout-plan';
import { describeInBrowser, launchBrowser, screenshotPath } from '../helpers/browser';
import { evidence, fields } from '../helpers/change-requests';
import { startApi, type ApiFixture, type ApiUser } from '../helpers/change-request-api';
import { backends } from '../helpers/db';

const CR = '/api/v1/change-requests';
const MIN = 60_000;

const plan: RolloutPlanInput = {
  phases: [
    {
      name: 'pilot',
      cohort: { sites: ['rotterdam-1'] },
      minimumSoak: 'PT1S',
      exitCriteria: [
        { metric: 'declaration-error-rate', comparator: '<=', threshold: 2, window: 'P7D', minimumSample: 100 },
        { metric: 'training-completion', comparator: '>=', threshold: 90, window: 'P30D', minimumSample: 10, aggregate: 'latest' },
      ],
    },
    {
      name: 'full',
      cohort: { declarationTypes: ['IM', 'EX'] },
      minimumSoak: 'P1D',
      exitCriteria: [{ metric: 'declaration-error-rate', comparator: '<=', threshold: 2, minimumSample: 100 }],
    },
  ],
};

const measurement = (metric: string, value: number, sampleSize: number, endsAgoMin: number) => ({
  phase: 'pilot',
  metric,
  value,
  sampleSize,
  windowStart: new Date(Date.now() - (endsAgoMin + 60) * MIN).toISOString(),
  windowEnd: new Date(Date.now() - endsAgoMin * MIN).toISOString(),
  source: 'broker-feed',
});

let api: ApiFixture;
let browser: Browser;
let chair: ApiUser;
let specialist: ApiUser;
let steward: ApiUser;
let lead: ApiUser;
let operator: ApiUser;

async function eventually<T>(read: () => Promise<T>, holds: (v: T) => boolean): Promise<T> {
  for (let i = 0; ; i++) {
    const v = await read();
    if (holds(v)) return v;
    if (i === 300) throw new Error(`never held: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A change request under review, raised by the specialist; optionally with every vote but the steward's. */
async function underReview(title: string, votesBeforeSteward: boolean): Promise<string> {
  const body = { ...fields({ title }), evidence: evidence('documentation', 'test-evidence', 'rollback-plan') };
  const id = (await api.call('POST', CR, specialist.token, body)).body.id as string;
  expect((await api.call('POST', `${CR}/${id}/submit`, specialist.token)).status).toBe(200);
  if (votesBeforeSteward) {
    const other = await api.user(['integration-specialist']);
    for (const [user, role] of [
      [chair, 'ccb-chair'],
      [other, 'integration-specialist'],
    ] as const) {
      expect((await api.call('POST', `${CR}/${id}/decisions`, user.token, { decision: 'approve', role })).status).toBe(200);
    }
  }
  return id;
}

async function signIn(user: ApiUser, next = '/'): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(`${api.baseUrl}/login?next=${encodeURIComponent(next)}`);
  await page.fill('#token', user.token);
  await Promise.all([page.waitForURL(`${api.baseUrl}${next}`), page.click('button[type=submit]')]);
  return page;
}

const shot = (page: Page, name: string, fullPage = true) => page.screenshot({ path: screenshotPath(`console-${name}.png`), fullPage });

describeInBrowser('web console', () => {
  beforeAll(async () => {
    [api, browser] = await Promise.all([startApi(backends()[0], { temporalUiUrl: 'http://127.0.0.1:8233/' }), launchBrowser()]);
    [chair, specialist, steward, lead, operator] = await Promise.all([
      api.user(['ccb-chair', 'finance']),
      api.user(['integration-specialist']),
      api.user(['data-steward']),
      api.user(['rollout-lead']),
      api.user(['operator']),
    ]);
    const profile = {
      name: 'Import brokerage',
      systems: ['broker-link', 'erp'],
      dailyShipments: 500,
      averageShipmentValue: 1000,
      customers: 5000,
      averageOrderValue: 2000,
      annualChurnRate: 0.1,
      budget: 250000,
      spent: 325000,
    };
    expect((await api.call('PUT', '/api/v1/programs/import-brokerage', chair.token, profile)).status).toBe(200);
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  test('board: when a data steward approves a change in place, it is approved and the money at stake was shown', async () => {
    const id = await underReview('Switch the broker link to declaration API v2', true);
    const page = await signIn(steward, '/board');
    const card = page.locator(`#cr-${id}`);
    await expect(card.locator('.stake').innerText()).resolves.toContain('$500,000 per day of delay');
    await shot(page, 'board');
    await card.locator('select[name=role]').selectOption('data-steward');
    await Promise.all([page.waitForURL(/notice=/), card.locator('button[value=approve]').click()]);
    await expect(page.locator('.notice').innerText()).resolves.toMatch(/approved as data-steward; it is now approved/);
    expect((await api.call('GET', `${CR}/${id}`, steward.token)).body.status).toBe('approved');
    await page.close();
  });

  test('board: when a rejection has no reason, the API refusal is shown and nothing is recorded', async () => {
    const id = await underReview('Retire the legacy EDI mailbox', false);
    const page = await signIn(steward, '/board');
    await Promise.all([page.waitForURL(/error=/), page.locator(`#cr-${id} button[value=reject]`).click()]);
    await expect(page.locator('.error').innerText()).resolves.toContain('VALIDATION_FAILED');
    expect((await api.call('GET', `${CR}/${id}`, steward.token)).body.votes).toEqual([]);
    await page.close();
  });

  test('rollout: when a rollout lead advances with training below 90%, the refusal names the failing criterion', async () => {
    const changeRequestId = await underReview('Declaration API v3 pilot', true);
    expect((await api.call('POST', `${CR}/${changeRequestId}/decisions`, steward.token, { decision: 'approve', role: 'data-steward' })).status).toBe(200);
    const created = await api.call('POST', '/api/v1/rollouts', lead.token, { changeRequestId, plan });
    expect([created.status, created.body.error]).toEqual([201, undefined]);
    const rolloutId = created.body.id as string;
    const batch = {
      measurements: [
        measurement('declaration-error-rate', 1.4, 800, 180),
        measurement('declaration-error-rate', 1.1, 900, 60),
        measurement('training-completion', 62, 40, 120),
        measurement('training-completion', 71, 40, 10),
      ],
    };
    expect((await api.call('POST', `/api/v1/rollouts/${rolloutId}/measurements`, lead.token, batch)).status).toBe(201);
    await eventually(
      () => api.call('GET', `/api/v1/rollouts/${rolloutId}`, lead.token),
      (r) => r.body.gate?.criteria?.some((c: { metric: string; value: number | null }) => c.metric === 'training-completion' && c.value === 71),
    );
    const page = await signIn(lead, `/rollouts/${rolloutId}`);
    await expect(page.locator('#criterion-training-completion').innerText()).resolves.toContain('fail');
    await expect(page.locator('figure.chart').count()).resolves.toBe(2);
    await shot(page, 'rollout');
    await Promise.all([page.waitForURL(/error=/), page.locator('form[action$="/advance"] button').click()]);
    const refusal = await page.locator('.error').innerText();
    expect(refusal).toContain('GATE_NOT_MET');
    expect(refusal).toContain('training-completion');
    expect((await api.call('GET', `/api/v1/rollouts/${rolloutId}`, lead.token)).body.phase).toBe('pilot');
    await page.close();
  });

  test('operator: when an operator opens a change request workflow, its history shows the updates with who and what', async () => {
    const id = await underReview('Map forwarder status codes', true);
    const page = await signIn(operator, '/operator');
    await shot(page, 'operator');
    await Promise.all([page.waitForURL(/\/operator\/workflows\//), page.locator(`a[href^="/operator/workflows/cr-${id}"]`).click()]);
    const rows = await page.locator('.timeline-table tbody tr').allInnerTexts();
    expect(rows.some((r) => r.includes('WorkflowExecutionStarted') && r.includes('changeRequest'))).toBe(true);
    expect(rows.some((r) => r.includes('WorkflowExecutionUpdateAccepted') && r.includes('decide('))).toBe(true);
    const runId = new URL(page.url()).searchParams.get('runId');
    await expect(page.locator('a', { hasText: 'open in Temporal UI' }).getAttribute('href')).resolves.toBe(
      `http://127.0.0.1:8233/namespaces/default/workflows/cr-${id}/${runId}/history`,
    );
    await shot(page, 'history', false);
    await page.close();
  });

  test('escalations, cutovers and programs: when opened, the views render; a program 30% over budget says so', async () => {
    const page = await signIn(chair, '/escalations');
    await expect(page.locator('h1').innerText()).resolves.toBe('Escalations');
    await expect(page.locator('figure.chart').count()).resolves.toBe(3);
    await shot(page, 'escalations');
    await page.goto(`${api.baseUrl}/cutovers`);
    await expect(page.locator('h1').innerText()).resolves.toBe('Cutovers');
    await page.goto(`${api.baseUrl}/programs`);
    await expect(page.locator('#program-import-brokerage').innerText()).resolves.toMatch(/\$500,000[\s\S]*\$325,000 of \$250,000[\s\S]*30% over/);
    await shot(page, 'programs');
    await page.close();
  });

  test('security: without a session a page redirects to sign-in; a forged form is refused; the cookie is HttpOnly and SameSite=Strict', async () => {
    const anon = await fetch(`${api.baseUrl}/board`, { redirect: 'manual' });
    expect(anon.status).toBe(303);
    expect(anon.headers.get('location')).toBe('/login?next=%2Fboard');
    const login = await fetch(`${api.baseUrl}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: steward.token, next: '//evil.example.com' }),
    });
    expect(login.headers.get('location')).toBe('/');
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const id = await underReview('Forged decision target', false);
    const forged = await fetch(`${api.baseUrl}/board/${id}/decide`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie.split(';')[0] },
      body: new URLSearchParams({ decision: 'approve', role: 'data-steward', csrf: 'guess' }),
    });
    expect(forged.status).toBe(403);
    expect((await api.call('GET', `${CR}/${id}`, steward.token)).body.votes).toEqual([]);
    const bad = await fetch(`${api.baseUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 'cw_not-a-token' }),
    });
    expect(bad.status).toBe(401);
  });

  test('escaping: when a change request title carries markup, the board shows it as text', async () => {
    await underReview('<img src=x onerror=alert(1)> tariff table', true);
    const page = await signIn(steward, '/board');
    await expect(page.locator('img[src=x]').count()).resolves.toBe(0);
    await expect(page.locator('h2', { hasText: '<img src=x onerror=alert(1)> tariff table' }).count()).resolves.toBe(1);
    await page.close();
  });
});
