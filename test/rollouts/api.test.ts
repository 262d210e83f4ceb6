import type { RolloutPlanInput } from '../../domain/rollout-plan';
import { evidence, fields, replayEveryHistory } from '../helpers/change-requests';
import { startApi, type ApiFixture, type ApiUser } from '../helpers/change-request-api';
import { backends } from '../helpers/db';

const R = '/api/v1/rollouts';
const CR = '/api/v1/change-requests';
const REVIEWS = '/api/v1/reviews';
const INBOX = '/api/v1/inbox';
const MIN = 60_000;
const H = 60 * MIN;

const plan: RolloutPlanInput = {
  phases: [
    {
      name: 'pilot',
      cohort: { sites: ['rotterdam-1'] },
      minimumSoak: 'PT1S',
      exitCriteria: [
        { metric: 'declaration-error-rate', comparator: '<=', threshold: 2, window: 'P7D', minimumSample: 100 },
        { metric: 'stress-test-passed', comparator: '==', threshold: 1, window: 'P30D', aggregate: 'latest' },
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

const measurement = (metric: string, value: number, sampleSize = 100, endsAgoMs = MIN) => ({
  phase: 'pilot',
  metric,
  value,
  sampleSize,
  windowStart: new Date(Date.now() - endsAgoMs - 60 * MIN).toISOString(),
  windowEnd: new Date(Date.now() - endsAgoMs).toISOString(),
  source: 'broker-feed',
});

let api: ApiFixture;
let lead: ApiUser;
let chair: ApiUser;
let specialist: ApiUser;
let steward: ApiUser;

beforeAll(async () => {
  api = await startApi(backends()[0]);
  [lead, chair, specialist, steward] = await Promise.all([
    api.user(['rollout-lead']),
    api.user(['ccb-chair']),
    api.user(['integration-specialist']),
    api.user(['data-steward']),
  ]);
});
afterAll(async () => {
  await api?.close();
});

async function changeRequest(approved: boolean): Promise<string> {
  const body = { ...fields(), evidence: evidence('documentation', 'test-evidence', 'rollback-plan') };
  const id = (await api.call('POST', CR, specialist.token, body)).body.id as string;
  if (!approved) return id;
  expect((await api.call('POST', `${CR}/${id}/submit`, specialist.token)).status).toBe(200);
  for (const [user, role] of [
    [chair, 'ccb-chair'],
    [specialist, 'integration-specialist'],
    [steward, 'data-steward'],
  ] as const) {
    const by = user === specialist ? await api.user(['integration-specialist']) : user;
    expect((await api.call('POST', `${CR}/${id}/decisions`, by.token, { decision: 'approve', role })).status).toBe(200);
  }
  return id;
}

async function startedRollout(planInput: RolloutPlanInput = plan): Promise<string> {
  const res = await api.call('POST', R, lead.token, { changeRequestId: await changeRequest(true), plan: planInput });
  expect(res.status).toBe(201);
  expect(res.headers.get('location')).toBe(`${R}/${res.body.id}`);
  return res.body.id as string;
}

// Reads until the workflow's activities have projected what the test waits for; the bound only stops a hung run.
async function eventually<T>(read: () => Promise<T>, holds: (value: T) => boolean): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const value = await read();
    if (holds(value)) return value;
    if (attempt === 600) throw new Error(`never held; last read: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

type Item = { kind: string; action: string; roles: string[]; [k: string]: any };
const inboxOf = async (user: ApiUser): Promise<Item[]> => (await api.call('GET', INBOX, user.token)).body.items;

/** Starts a rollout, records an error rate above 2% in its pilot, and answers once the review it opened is listed. */
async function reviewed(planInput: RolloutPlanInput = plan): Promise<{ rolloutId: string; review: any }> {
  const rolloutId = await startedRollout(planInput);
  const posted = await api.call(
    'POST',
    `${R}/${rolloutId}/measurements`,
    lead.token,
    measurement('declaration-error-rate', 3.4, 500),
  );
  expect([posted.status, posted.body.reviewTriggers]).toEqual([201, 1]);
  const listed = await eventually(
    () => api.call('GET', `${REVIEWS}?rollout=${rolloutId}`, steward.token),
    (res) => res.body.items.length === 1,
  );
  return { rolloutId, review: listed.body.items[0] };
}

describe('rollout API over HTTP', () => {
  it('POST /rollouts: when the change request is approved, it answers 201 and the rollout is listed and readable', async () => {
    const changeRequestId = await changeRequest(true);
    const res = await api.call('POST', R, lead.token, { changeRequestId, plan });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ changeRequestId, status: 'active', phase: 'pilot', phases: ['pilot', 'full'] });
    const got = await api.call('GET', `${R}/${res.body.id}`, specialist.token);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: res.body.id, phase: 'pilot', startedBy: lead.id });
    const list = await api.call('GET', `${R}?changeRequestId=${changeRequestId}`, specialist.token);
    expect(list.body.items.map((r: { id: string }) => r.id)).toEqual([res.body.id]);
  });

  it('POST /rollouts: when the change request is not approved, it answers 409 CHANGE_NOT_APPROVED and starts nothing', async () => {
    const changeRequestId = await changeRequest(false);
    const res = await api.call('POST', R, lead.token, { changeRequestId, plan });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'CHANGE_NOT_APPROVED', details: [{ status: 'draft' }] });
    expect(await api.db.prisma.rollout.count({ where: { changeRequestId } })).toBe(0);
  });

  it('authorization: when someone without rollout-lead starts or advances a rollout, it answers 403 ROLE_REQUIRED', async () => {
    const id = await startedRollout();
    const create = await api.call('POST', R, specialist.token, { changeRequestId: await changeRequest(true), plan });
    expect([create.status, create.body.error.code]).toEqual([403, 'ROLE_REQUIRED']);
    const advance = await api.call('POST', `${R}/${id}/advance`, steward.token, {});
    expect([advance.status, advance.body.error.code]).toEqual([403, 'ROLE_REQUIRED']);
    // The chair may reach the route (to override) but advancing without an override is the lead's.
    const byChair = await api.call('POST', `${R}/${id}/advance`, chair.token, {});
    expect([byChair.status, byChair.body.error.code]).toEqual([403, 'ROLE_REQUIRED']);
    const hold = await api.call('POST', `${R}/${id}/hold`, steward.token, { reason: 'error spike at the broker' });
    expect([hold.status, hold.body.status]).toEqual([200, 'held']);
  });

  it('measurements: when one row of 10,000 is invalid, it answers 400 naming that row and stores nothing; the valid batch is stored whole', async () => {
    const id = await startedRollout();
    const rows = Array.from({ length: 10_000 }, (_, i) => measurement('declaration-error-rate', 1 + (i % 10) / 10));
    const bad = [...rows.slice(0, 9_999), { ...rows[9_999], sampleSize: -1 }];
    const refused = await api.call('POST', `${R}/${id}/measurements`, lead.token, { measurements: bad });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('VALIDATION_FAILED');
    expect(refused.body.error.details).toEqual([
      expect.objectContaining({ index: 9_999, path: 'body.measurements.9999.sampleSize' }),
    ]);
    expect(await api.db.prisma.measurement.count({ where: { rolloutId: id } })).toBe(0);

    const accepted = await api.call('POST', `${R}/${id}/measurements`, lead.token, { measurements: rows });
    expect(accepted.status).toBe(201);
    expect(accepted.headers.get('location')).toBe(`${R}/${id}/measurements`);
    expect(accepted.body).toMatchObject({ count: 10_000, reviewTriggers: 0 });
    expect(await api.db.prisma.measurement.count({ where: { rolloutId: id } })).toBe(10_000);
  });

  it('advance: when a criterion fails, it answers 409 GATE_NOT_MET listing the failing criteria and stays in the phase', async () => {
    const id = await startedRollout();
    const single = await api.call(
      'POST',
      `${R}/${id}/measurements`,
      lead.token,
      measurement('stress-test-passed', 0, 1),
    );
    expect(single.status).toBe(201);
    await api.call('POST', `${R}/${id}/measurements`, lead.token, {
      measurements: [measurement('declaration-error-rate', 1.2, 500)],
    });
    await new Promise((r) => setTimeout(r, 1_000));
    const res = await api.call('POST', `${R}/${id}/advance`, lead.token, {});
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('GATE_NOT_MET');
    const failing = res.body.error.details[0].failing as { metric: string; status: string }[];
    expect(failing.map((c) => [c.metric, c.status])).toEqual([['stress-test-passed', 'fail']]);
    const got = await api.call('GET', `${R}/${id}`, lead.token);
    expect(got.body.phase).toBe('pilot');
    expect(got.body.gate.criteria.map((c: { status: string }) => c.status)).toEqual(['pass', 'fail']);
    const history = await api.call('GET', `${R}/${id}/history`, lead.token);
    expect(history.body.entries.map((e: { type: string }) => e.type)).toEqual(['STARTED', 'ADVANCE_REFUSED']);
  });

  it('what-if: when a candidate plan drops the stress test, the gate would have passed, and nothing changes', async () => {
    const id = await startedRollout();
    await api.call('POST', `${R}/${id}/measurements`, lead.token, {
      measurements: [
        measurement('declaration-error-rate', 1.5, 200, 30 * MIN),
        measurement('stress-test-passed', 0, 1),
      ],
    });
    // The workflow keeps judging the gate by itself (the soak ends, the timer fires), so its own writes go on;
    // what-if must add none: no measurement, no audit event, no change of plan, phase or status.
    const state = async () => {
      const row = await api.db.prisma.rollout.findUniqueOrThrow({ where: { id } });
      const audit = await api.db.prisma.auditEvent.count({ where: { subjectId: id } });
      return { plan: row.plan, policyVersion: row.policyVersion, phase: row.phase, status: row.status, audit };
    };
    const before = await state();
    const candidate = { ...plan, phases: plan.phases.map((p) => ({ ...p, exitCriteria: p.exitCriteria.slice(0, 1) })) };
    const res = await api.call('POST', `${R}/${id}/what-if`, lead.token, { plan: candidate });
    expect(res.status).toBe(200);
    expect(res.body.measurements).toBe(2);
    expect(res.body.phases[0]).toMatchObject({ phase: 'pilot', finalStatus: 'pass', evaluations: 2 });
    const actual = await api.call('POST', `${R}/${id}/what-if`, lead.token, { plan });
    expect(actual.body.phases[0]).toMatchObject({ finalStatus: 'fail', firstPassAt: null });
    expect(await state()).toEqual(before);
    expect(await api.db.prisma.measurement.count({ where: { rolloutId: id } })).toBe(2);
  });

  it('reviews: when a steward closes an open review with hold, the rollout is held and a second close is INVALID_STATE', async () => {
    const { rolloutId, review } = await reviewed();
    expect(review).toMatchObject({
      rolloutId,
      phase: 'pilot',
      status: 'open',
      ownerRole: 'data-steward',
      overdue: false,
      escalationId: null,
      trigger: { value: 3.4, sampleSize: 500 },
    });
    expect(Date.parse(review.dueAt) - Date.parse(review.openedAt)).toBe(48 * H);
    const got = await api.call('GET', `${REVIEWS}/${review.id}`, lead.token);
    expect([got.status, got.body]).toEqual([200, review]);
    const blocked = await api.call('GET', `${R}/${rolloutId}`, lead.token);
    expect(blocked.body.readiness.blockers).toContainEqual(expect.objectContaining({ code: 'REVIEW_OPEN' }));

    const findings = 'HS-code mapping wrong for broker brk-104';
    const close = (user: ApiUser, body: unknown, id = review.id) =>
      api.call('POST', `${REVIEWS}/${id}/close`, user.token, body);
    const byLead = await close(lead, { findings, decision: 'continue' });
    expect([byLead.status, byLead.body.error.code]).toEqual([403, 'ROLE_REQUIRED']);
    const blank = await close(steward, { findings: '  ', decision: 'continue' });
    expect([blank.status, blank.body.error.code, blank.body.error.details[0].path]).toEqual([
      400,
      'VALIDATION_FAILED',
      'body.findings',
    ]);
    const unknownDecision = await close(steward, { findings, decision: 'abandon' });
    expect([unknownDecision.status, unknownDecision.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const missing = await close(steward, { findings, decision: 'continue' }, `rollout-${rolloutId}-review-9`);
    expect([missing.status, missing.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const malformed = await api.call('GET', `${REVIEWS}/review-1`, steward.token);
    expect([malformed.status, malformed.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect((await api.call('GET', REVIEWS, null)).status).toBe(401);
    expect((await api.call('GET', `${REVIEWS}/${review.id}`, steward.token)).body.status).toBe('open');

    const closed = await close(steward, { findings, decision: 'hold' });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({
      id: review.id,
      status: 'closed',
      decision: 'hold',
      findings,
      closedBy: steward.id,
    });
    const held = await api.call('GET', `${R}/${rolloutId}`, lead.token);
    expect(held.body).toMatchObject({ status: 'held', openReviews: [], holdReason: expect.stringContaining(findings) });
    const again = await close(steward, { findings, decision: 'rollback' });
    expect([again.status, again.body.error.code]).toEqual([409, 'INVALID_STATE']);
    expect((await api.call('GET', `${R}/${rolloutId}`, lead.token)).body.status).toBe('held');

    expect(await inboxOf(lead)).toContainEqual(
      expect.objectContaining({
        kind: 'rollout',
        action: 'resume',
        roles: ['rollout-lead'],
        rollout: expect.objectContaining({ id: rolloutId, status: 'held' }),
      }),
    );
    const history = await api.call('GET', `${R}/${rolloutId}/history`, lead.token);
    expect(history.body.entries.map((e: { type: string }) => e.type)).toEqual([
      'STARTED',
      'REVIEW_OPENED',
      'REVIEW_CLOSED',
      'HELD',
    ]);
  });

  it('inbox: when a review passes its deadline, stewards see it overdue first, then its escalation, which leaves for the one it is reassigned to', async () => {
    const onTime = await reviewed();
    const late = await reviewed({ ...plan, stewardship: { reviewWithin: 'PT2S' } });
    const overdue = await eventually(
      () => api.call('GET', `${REVIEWS}/${late.review.id}`, steward.token),
      (res) => res.body.escalationId !== null,
    );
    expect(overdue.body).toMatchObject({
      status: 'open',
      overdue: true,
      escalationId: `esc-${late.review.id}-overdue`,
    });
    const escalationId = overdue.body.escalationId as string;

    const mine = (items: Item[]) =>
      items.filter((i) => [late.review.id, onTime.review.id, escalationId].includes(i.review?.id ?? i.escalation?.id));
    const items = await eventually(
      () => inboxOf(steward),
      (all) => mine(all).length === 3,
    );
    expect(mine(items).map((i) => [i.kind, i.action, i.roles, i.review?.id ?? i.escalation.id])).toEqual([
      ['review', 'close', ['data-steward'], late.review.id],
      ['escalation', 'acknowledge', ['data-steward'], escalationId],
      ['review', 'close', ['data-steward'], onTime.review.id],
    ]);
    expect(mine(items)[0]).toMatchObject({ dueAt: late.review.dueAt, review: { overdue: true } });
    expect(mine(await inboxOf(lead))).toEqual([]);

    const filtered = async (query: string) =>
      (await api.call('GET', `${REVIEWS}?${query}`, lead.token)).body.items
        .map((r: { id: string }) => r.id)
        .filter((id: string) => [late.review.id, onTime.review.id].includes(id));
    expect(await filtered('overdue=true')).toEqual([late.review.id]);
    expect(await filtered('overdue=false&status=open')).toEqual([onTime.review.id]);
    expect(await filtered('status=closed')).toEqual([]);
    expect(await filtered(`rollout=${onTime.rolloutId}`)).toEqual([onTime.review.id]);

    const colleague = await api.user(['data-steward']);
    const reassigned = await api.call('POST', `/api/v1/escalations/${escalationId}/reassign`, steward.token, {
      to: colleague.id,
    });
    expect(reassigned.status).toBe(200);
    expect(await inboxOf(colleague)).toContainEqual(
      expect.objectContaining({
        kind: 'escalation',
        roles: [],
        escalation: expect.objectContaining({ id: escalationId }),
      }),
    );
    expect(mine(await inboxOf(steward)).map((i) => i.kind)).toEqual(['review', 'review']);
  });

  it('inbox: when a pilot’s soak is served with passing measurements, rollout leads see it ready to advance without further input', async () => {
    const id = await startedRollout();
    const posted = await api.call('POST', `${R}/${id}/measurements`, lead.token, {
      measurements: [measurement('declaration-error-rate', 1.2, 500), measurement('stress-test-passed', 1, 1)],
    });
    expect(posted.status).toBe(201);
    const ready = await eventually(
      () => inboxOf(lead),
      (items) => items.some((i) => i.kind === 'rollout' && i.rollout.id === id),
    );
    expect(ready.find((i) => i.kind === 'rollout' && i.rollout.id === id)).toMatchObject({
      action: 'advance',
      roles: ['rollout-lead'],
      dueAt: null,
      rollout: { id, status: 'active', phase: 'pilot', gateStatus: 'pass', readyToAdvance: true },
    });
    expect((await inboxOf(specialist)).filter((i) => i.kind === 'rollout')).toEqual([]);
    const view = await api.call('GET', `${R}/${id}`, lead.token);
    expect(view.body.readiness).toEqual({ ready: true, blockers: [] });

    const advanced = await api.call('POST', `${R}/${id}/advance`, lead.token, {});
    expect([advanced.status, advanced.body.phase]).toEqual([200, 'full']);
    expect((await inboxOf(lead)).filter((i) => i.kind === 'rollout' && i.rollout.id === id)).toEqual([]);
    const evaluations = await api.db.prisma.gateEvaluation.findMany({
      where: { rolloutId: id },
      select: { trigger: true },
    });
    expect(evaluations.map((e) => e.trigger)).toEqual(expect.arrayContaining(['start', 'advance', 'phase-entered']));
  });

  it('lists: when reviews and rollouts are read a page at a time, each appears once, newest first; a bad cursor is 400', async () => {
    for (const [path, total, key] of [
      [REVIEWS, await api.db.prisma.stewardshipReview.count(), 'openedAt'],
      [R, await api.db.prisma.rollout.count(), 'startedAt'],
    ] as const) {
      const seen: { id: string; [k: string]: string }[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await api.call('GET', `${path}?limit=2${cursor ? `&cursor=${cursor}` : ''}`, lead.token);
        expect(page.status).toBe(200);
        seen.push(...page.body.items);
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(total).toBeGreaterThanOrEqual(3);
      expect(new Set(seen.map((r) => r.id)).size).toBe(total);
      const times = seen.map((r) => Date.parse(r[key]));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      const bad = await api.call('GET', `${path}?cursor=garbage`, lead.token);
      expect([bad.status, bad.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    }
  });

  it('openapi: when the document is fetched, the review routes and every kind of inbox item are described', async () => {
    const doc = (await api.call('GET', '/api/v1/openapi.json', null)).body;
    expect(doc.paths['/api/v1/reviews'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['status', 'rollout', 'overdue', 'limit', 'cursor']),
    );
    expect(Object.keys(doc.paths['/api/v1/reviews/{id}/close'].post.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '403']),
    );
    expect(doc.components.schemas.InboxItem.oneOf).toHaveLength(4);
  });

  it('replay: when every history this suite produced is replayed, each replays without nondeterminism', async () => {
    const rollouts = await api.db.prisma.rollout.count();
    const changes = await api.db.prisma.changeRequest.count();
    const reviews = await api.db.prisma.stewardshipReview.count();
    const escalations = await api.db.prisma.escalation.count();
    expect(reviews).toBeGreaterThan(0);
    expect(escalations).toBeGreaterThan(0);
    expect(await replayEveryHistory(api.temporal.client)).toBe(rollouts + changes + reviews + escalations);
  });
});
