import type { RolloutPlanInput } from '../../domain/rollout-plan';
import { evidence, fields, replayEveryHistory } from '../helpers/change-requests';
import { startApi, type ApiFixture, type ApiUser } from '../helpers/change-request-api';
import { backends } from '../helpers/db';

const R = '/api/v1/rollouts';
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

async function startedRollout(): Promise<string> {
  const res = await api.call('POST', R, lead.token, { changeRequestId: await changeRequest(true), plan });
  expect(res.status).toBe(201);
  return res.body.id as string;
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

  it('replay: when every history this suite produced is replayed, each replays without nondeterminism', async () => {
    const rollouts = await api.db.prisma.rollout.count();
    const changes = await api.db.prisma.changeRequest.count();
    expect(await replayEveryHistory(api.temporal.client)).toBe(rollouts + changes);
  });
});
