import { evidence, fields } from '../helpers/change-requests';
import { startApi, type ApiFixture } from '../helpers/change-request-api';

const CR = '/api/v1/change-requests';
let api: ApiFixture;

beforeAll(async () => {
  api = await startApi('pglite');
});
afterAll(async () => {
  await api?.close();
});

describe('change-request API on embedded PGlite', () => {
  it('review: when a change is raised, submitted and approved over HTTP, every read agrees with the outcome', async () => {
    const [owner, chair, specialist, steward] = await Promise.all([
      api.user(['finance']),
      api.user(['ccb-chair']),
      api.user(['integration-specialist']),
      api.user(['data-steward']),
    ]);
    const created = await api.call('POST', CR, owner.token, {
      ...fields(),
      evidence: evidence('documentation', 'test-evidence', 'rollback-plan'),
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await api.call('POST', `${CR}/${id}/submit`, owner.token)).status).toBe(200);
    // Decisions arrive together: the single PGlite connection must serialise their writes, not fail them.
    const votes = await Promise.all(
      [
        [chair, 'ccb-chair'],
        [specialist, 'integration-specialist'],
        [steward, 'data-steward'],
      ].map(([user, role]) =>
        api.call('POST', `${CR}/${id}/decisions`, (user as typeof owner).token, { decision: 'approve', role }),
      ),
    );
    expect(votes.map((v) => v.status)).toEqual([200, 200, 200]);
    const got = await api.call('GET', `${CR}/${id}`, owner.token);
    expect(got.body).toMatchObject({ status: 'approved', pendingRoles: [] });
    expect(got.body.votes).toHaveLength(3);
    const listed = await api.call('GET', `${CR}?status=approved`, owner.token);
    expect(listed.body.items.map((i: { id: string }) => i.id)).toEqual([id]);
    const history = await api.call('GET', `${CR}/${id}/history`, owner.token);
    expect(history.body.entries.filter((e: { type: string }) => e.type === 'DECISION_RECORDED')).toHaveLength(3);
  });
});
