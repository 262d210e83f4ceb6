// The board's retrospective form over plain HTTP (no browser): the console signs in with a token, renders the review
// an approved emergency change owes and records it through the API.
import { evidence, fields } from '../helpers/change-requests';
import { startApi, type ApiFixture, type ApiUser } from '../helpers/change-request-api';
import { backends } from '../helpers/db';

const CR = '/api/v1/change-requests';

let api: ApiFixture;
let chair: ApiUser;

beforeAll(async () => {
  api = await startApi(backends()[0]);
  chair = await api.user(['ccb-chair']);
});
afterAll(async () => {
  await api?.close();
});

/** An emergency change approved on the fast path, owing its retrospective review. */
async function approvedEmergency(title: string): Promise<string> {
  const requester = await api.user(['integration-specialist']);
  const member = await api.user(['ccb-member']);
  const body = { ...fields({ title, class: 'emergency' }), evidence: evidence('rollback-plan') };
  const id = (await api.call('POST', CR, requester.token, body)).body.id as string;
  expect((await api.call('POST', `${CR}/${id}/submit`, requester.token)).status).toBe(200);
  const otherChair = await api.user(['ccb-chair']);
  await api.call('POST', `${CR}/${id}/decisions`, otherChair.token, { decision: 'approve', role: 'ccb-chair' });
  const approved = await api.call('POST', `${CR}/${id}/decisions`, member.token, {
    decision: 'approve',
    role: 'ccb-member',
  });
  expect(approved.body.status).toBe('approved');
  return id;
}

async function signIn(user: ApiUser): Promise<string> {
  const login = await fetch(`${api.baseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: user.token, next: '/board' }),
  });
  expect(login.status).toBe(303);
  return login.headers.get('set-cookie')!.split(';')[0];
}

describe('console board: retrospective reviews', () => {
  it('board: when the chair records a retrospective in place, the API holds it and the card leaves the board', async () => {
    const id = await approvedEmergency('Emergency: reroute export declarations to the fallback gateway');
    const cookie = await signIn(chair);
    const page = await (await fetch(`${api.baseUrl}/board`, { headers: { cookie } })).text();
    const card = page.slice(page.indexOf(`id="retro-${id}"`));
    expect(card).toContain('Emergency: reroute export declarations to the fallback gateway');
    expect(card).toContain(`action="/board/${id}/retrospective"`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
    expect(csrf).toBeDefined();

    const post = (form: Record<string, string>) =>
      fetch(`${api.baseUrl}/board/${id}/retrospective`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, referer: `${api.baseUrl}/board` },
        body: new URLSearchParams({ csrf: csrf!, ...form }),
      });
    const blank = await post({ outcome: 'ratified', notes: '' });
    expect(decodeURIComponent(blank.headers.get('location')!)).toMatch(/^\/board\?error=.*VALIDATION_FAILED/);
    expect((await api.call('GET', `${CR}/${id}`, chair.token)).body.retrospective.status).toBe('pending');

    const done = await post({ outcome: 'follow_up_required', notes: 'Make the reroute a normal change.' });
    expect(decodeURIComponent(done.headers.get('location')!)).toContain('is recorded as needing follow-up');
    expect((await api.call('GET', `${CR}/${id}`, chair.token)).body.retrospective).toMatchObject({
      status: 'recorded',
      review: { outcome: 'follow_up_required', by: chair.id },
    });
    const after = await (await fetch(`${api.baseUrl}/board`, { headers: { cookie } })).text();
    expect(after).not.toContain(`id="retro-${id}"`);
  });
});
