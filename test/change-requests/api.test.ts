import net from 'node:net';
import { nameActors } from '../../api/actor-names';
import { ROLES, type Role } from '../../domain/roles';
import { evidence, fields, replayEveryHistory } from '../helpers/change-requests';
import { startApi, type ApiFixture, type ApiUser } from '../helpers/change-request-api';
import { backends } from '../helpers/db';

const CR = '/api/v1/change-requests';
const FULL = evidence('documentation', 'test-evidence', 'rollback-plan');
const body = (overrides: Record<string, unknown> = {}) => ({ ...fields(), evidence: FULL, ...overrides });

let api: ApiFixture;
let requester: ApiUser;
let chair: ApiUser;
let specialist: ApiUser;
let steward: ApiUser;

beforeAll(async () => {
  api = await startApi(backends()[0]);
  [requester, chair, specialist, steward] = await Promise.all([
    api.user(['integration-specialist']),
    api.user(['ccb-chair']),
    api.user(['integration-specialist']),
    api.user(['data-steward']),
  ]);
});
afterAll(async () => {
  await api?.close();
});

async function draft(by: ApiUser = requester, overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await api.call('POST', CR, by.token, body(overrides));
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function submitted(by: ApiUser = requester, overrides: Record<string, unknown> = {}): Promise<string> {
  const id = await draft(by, overrides);
  expect((await api.call('POST', `${CR}/${id}/submit`, by.token)).status).toBe(200);
  return id;
}

const decide = (id: string, by: ApiUser, role: Role, decision = 'approve', reason?: string) =>
  api.call('POST', `${CR}/${id}/decisions`, by.token, { decision, role, ...(reason ? { reason } : {}) });

describe('change-request API over HTTP', () => {
  it('POST /change-requests: when a user raises a change, it answers 201 with a draft the next GET finds', async () => {
    const res = await api.call('POST', CR, requester.token, body());
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'draft', requester: requester.id, round: 0, class: 'normal' });
    expect(res.body.policyVersion).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(res.headers.get('location')).toBe(`${CR}/${res.body.id}`);
    const got = await api.call('GET', res.headers.get('location')!, chair.token);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it('POST /change-requests: when the same Idempotency-Key is sent twice, one request is raised and replayed', async () => {
    const title = `Idempotent change ${Date.now()}`;
    const headers = { 'idempotency-key': `create-${Date.now()}` };
    const first = await api.call('POST', CR, requester.token, body({ title }), headers);
    const second = await api.call('POST', CR, requester.token, body({ title }), headers);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.text).toBe(first.text);
    expect(second.headers.get('location')).toBe(`${CR}/${first.body.id}`);
    expect(second.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await api.db.prisma.changeRequest.count({ where: { title } })).toBe(1);
  });

  it('decisions: when the chair, specialist and steward approve, the request is approved and its history reads in order', async () => {
    const id = await submitted();
    expect((await decide(id, chair, 'ccb-chair')).body.pendingRoles).toEqual(['integration-specialist', 'data-steward']);
    expect((await decide(id, specialist, 'integration-specialist')).status).toBe(200);
    const last = await decide(id, steward, 'data-steward');
    expect(last.status).toBe(200);
    expect(last.body.status).toBe('approved');

    // The workflow closes once its last notifications are out; the history then ends with the close.
    await api.temporal.client.workflow.getHandle(`cr-${id}`).result();
    const history = await api.call('GET', `${CR}/${id}/history`, requester.token);
    expect(history.status).toBe(200);
    expect(history.body.workflowId).toBe(`cr-${id}`);
    const entries = history.body.entries as { type: string; who: string; what: string; time: string }[];
    expect(entries.map((e) => e.type)).toEqual([
      'OPENED',
      'EVIDENCE_ADDED',
      'EVIDENCE_ADDED',
      'EVIDENCE_ADDED',
      'SUBMITTED',
      'DECISION_RECORDED',
      'DECISION_RECORDED',
      'DECISION_RECORDED',
      'APPROVED',
      'CLOSED',
    ]);
    expect(entries[5]).toMatchObject({ who: chair.id, what: 'approved as ccb-chair in round 1' });
    expect(entries.every((e) => !Number.isNaN(Date.parse(e.time)))).toBe(true);
  });

  it('decisions: when the requester votes on their own change, it answers 409 SELF_APPROVAL_FORBIDDEN', async () => {
    const chairRequester = await api.user(['ccb-chair']);
    const id = await submitted(chairRequester);
    const res = await decide(id, chairRequester, 'ccb-chair');
    expect([res.status, res.body.error.code]).toEqual([409, 'SELF_APPROVAL_FORBIDDEN']);
  });

  it('decisions: when a user votes in a role they do not hold, it answers 403 ROLE_REQUIRED', async () => {
    const id = await submitted();
    const res = await decide(id, steward, 'ccb-chair');
    expect([res.status, res.body.error.code]).toEqual([403, 'ROLE_REQUIRED']);
    // The workflow knows the user by id; the message names them.
    expect(res.body.error.message).toContain(steward.name);
    expect(res.body.error.message).not.toContain(steward.id);
  });

  it('decisions: refused votes, however many, leave the workflow history as it was, and the request decidable', async () => {
    const id = await submitted();
    const handle = api.temporal.client.workflow.getHandle(`cr-${id}`);
    // Once the submit's notifications are out, nothing else moves the workflow.
    const quiet = async () => {
      const { raw } = await handle.describe();
      return raw.pendingActivities!.length === 0 && !raw.pendingWorkflowTask;
    };
    while (!(await quiet())) await new Promise((r) => setTimeout(r, 20));
    const before = (await handle.fetchHistory()).events!.length;
    for (let i = 0; i < 5; i++) {
      expect((await decide(id, steward, 'ccb-chair')).status).toBe(403);
      expect((await decide(id, requester, 'integration-specialist')).status).toBe(409);
    }
    expect((await handle.fetchHistory()).events!.length).toBe(before);
    expect((await decide(id, chair, 'ccb-chair')).status).toBe(200);
  });

  it('decisions: when a user with two roles votes twice in a round, the second answers 409 ALREADY_DECIDED', async () => {
    const twoHats = await api.user(['ccb-chair', 'data-steward']);
    const id = await submitted();
    expect((await decide(id, twoHats, 'ccb-chair')).status).toBe(200);
    const res = await decide(id, twoHats, 'data-steward');
    expect([res.status, res.body.error.code]).toEqual([409, 'ALREADY_DECIDED']);
  });

  it('decisions: when the request is a draft, it answers 409 INVALID_STATE', async () => {
    const id = await draft();
    const res = await decide(id, chair, 'ccb-chair');
    expect([res.status, res.body.error.code]).toEqual([409, 'INVALID_STATE']);
  });

  it('withdraw: when the request was already decided, it answers 409 INVALID_STATE', async () => {
    const id = await submitted();
    expect((await decide(id, chair, 'ccb-chair', 'reject', 'no rollback rehearsal')).body.status).toBe('rejected');
    const res = await api.call('POST', `${CR}/${id}/withdraw`, requester.token, {});
    expect([res.status, res.body.error.code]).toEqual([409, 'INVALID_STATE']);
  });

  it('submit: when evidence is missing, it answers 409 EVIDENCE_MISSING naming the missing kinds', async () => {
    const id = await draft(requester, { evidence: evidence('documentation') });
    const res = await api.call('POST', `${CR}/${id}/submit`, requester.token);
    expect([res.status, res.body.error.code]).toEqual([409, 'EVIDENCE_MISSING']);
    expect(res.body.error.details).toEqual([{ missing: ['test-evidence', 'rollback-plan'] }]);
    const added = await api.call('POST', `${CR}/${id}/evidence`, requester.token, evidence('test-evidence')[0]);
    expect(added.status).toBe(201);
    expect(added.headers.get('location')).toBe(`${CR}/${id}`);
    expect(added.body.missingEvidence).toEqual(['rollback-plan']);
  });

  it('PATCH: when the requester edits a draft, the fields change and omitted ones, such as touches, are kept', async () => {
    const id = await draft(requester, { touches: ['personal-data'] });
    const res = await api.call('PATCH', `${CR}/${id}`, requester.token, { title: 'Renamed change', risk: 'high' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ title: 'Renamed change', risk: 'high', touches: ['personal-data'] });
    const other = await api.call('PATCH', `${CR}/${id}`, chair.token, { title: 'Hijacked' });
    expect([other.status, other.body.error.code]).toEqual([403, 'ROLE_REQUIRED']);
  });

  it('GET /change-requests/{id}: when the id is unknown or not a uuid, it answers 404 NOT_FOUND or 400', async () => {
    const missing = await api.call('GET', `${CR}/7b0c3f5e-9d0f-4c53-9a43-1f7d1c0f0a11`, chair.token);
    expect([missing.status, missing.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const bad = await api.call('GET', `${CR}/not-a-uuid`, chair.token);
    expect([bad.status, bad.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const decideMissing = await decide('7b0c3f5e-9d0f-4c53-9a43-1f7d1c0f0a11', chair, 'ccb-chair');
    expect(decideMissing.status).toBe(404);
  });

  it('GET /change-requests: when filtered by system and paged by two, pages follow the cursor without overlap', async () => {
    const system = `sys-${Date.now()}`;
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await draft(requester, { affectedSystems: [system, 'erp'] }));
    await api.call('POST', `${CR}/${ids[0]}/submit`, requester.token);
    const first = await api.call('GET', `${CR}?system=${system}&limit=2`, chair.token);
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    const second = await api.call('GET', `${CR}?system=${system}&limit=2&cursor=${first.body.nextCursor}`, chair.token);
    expect(second.body).toMatchObject({ nextCursor: null });
    const seen = [...first.body.items, ...second.body.items].map((i: { id: string }) => i.id);
    expect(seen.sort()).toEqual([...ids].sort());
    const reviewing = await api.call('GET', `${CR}?system=${system}&status=under_review`, chair.token);
    expect(reviewing.body.items.map((i: { id: string }) => i.id)).toEqual([ids[0]]);
    const mine = await api.call('GET', `${CR}?system=${system}&requester=${chair.id}&class=normal`, chair.token);
    expect(mine.body.items).toEqual([]);
    const badCursor = await api.call('GET', `${CR}?cursor=garbage`, chair.token);
    expect([badCursor.status, badCursor.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    // A cursor pages the listing it came from: another page size is fine, other filters are not.
    const wider = await api.call('GET', `${CR}?system=${system}&limit=5&cursor=${first.body.nextCursor}`, chair.token);
    expect(wider.body.items.map((i: { id: string }) => i.id)).toEqual(second.body.items.map((i: { id: string }) => i.id));
    const carried = await api.call('GET', `${CR}?system=erp&limit=2&cursor=${first.body.nextCursor}`, chair.token);
    expect([carried.status, carried.body.error.details]).toEqual([
      400,
      [{ path: 'query.cursor', message: 'this cursor belongs to a listing with other filters; send the same filters' }],
    ]);
  });

  it('GET /inbox: when a review awaits the chair, it is listed until the chair votes; the requester sees their draft', async () => {
    const reviewer = await api.user(['ccb-chair']);
    const owner = await api.user(['finance']);
    const id = await submitted(owner);
    const draftId = await draft(owner);
    const before = await api.call('GET', '/api/v1/inbox', reviewer.token);
    expect(before.body.items).toContainEqual(
      expect.objectContaining({
        kind: 'change-request',
        action: 'decide',
        roles: ['ccb-chair'],
        dueAt: expect.any(String),
        changeRequest: expect.objectContaining({ id }),
      }),
    );
    await decide(id, reviewer, 'ccb-chair');
    const after = await api.call('GET', '/api/v1/inbox', reviewer.token);
    expect(after.body.items.map((i: { changeRequest: { id: string } }) => i.changeRequest.id)).not.toContain(id);
    const own = await api.call('GET', '/api/v1/inbox', owner.token);
    expect(own.body.items).toEqual([
      expect.objectContaining({
        kind: 'change-request',
        action: 'submit',
        dueAt: null,
        changeRequest: expect.objectContaining({ id: draftId }),
      }),
    ]);
  });

  it('decisions: when four stewards race for the last vote, exactly one wins and the others get 409, never 5xx', async () => {
    const racers = await Promise.all([1, 2, 3, 4].map(() => api.user(['data-steward'])));
    const id = await submitted();
    await decide(id, chair, 'ccb-chair');
    await decide(id, specialist, 'integration-specialist');
    const answers = await Promise.all(racers.map((r) => decide(id, r, 'data-steward')));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409]);
    expect(answers.find((a) => a.status === 200)!.body.status).toBe('approved');
    expect(answers.filter((a) => a.status === 409).map((a) => a.body.error.code)).toEqual([
      'INVALID_STATE',
      'INVALID_STATE',
      'INVALID_STATE',
    ]);
    expect(await api.db.prisma.decision.count({ where: { changeRequestId: id } })).toBe(3);
  });

  it('decisions: when one user sends the closing vote twice at once and again later, each repeat is ALREADY_DECIDED', async () => {
    const id = await submitted();
    await decide(id, chair, 'ccb-chair');
    await decide(id, specialist, 'integration-specialist');
    const twice = await Promise.all([decide(id, steward, 'data-steward'), decide(id, steward, 'data-steward')]);
    expect(twice.map((a) => a.status).sort()).toEqual([200, 409]);
    const repeat = twice.find((a) => a.status === 409)!;
    expect(repeat.body.error).toMatchObject({
      code: 'ALREADY_DECIDED',
      details: [{ role: 'data-steward', decision: 'approve' }],
    });
    // Once the workflow has closed, the API answers from the record, the same way.
    const later = await decide(id, steward, 'data-steward');
    expect([later.status, later.body.error]).toEqual([409, repeat.body.error]);
    // Anyone else is told the request has moved on.
    const other = await decide(id, await api.user(['data-steward']), 'data-steward');
    expect([other.status, other.body.error.code]).toEqual([409, 'INVALID_STATE']);
    expect(await api.db.prisma.decision.count({ where: { changeRequestId: id } })).toBe(3);
  });

  it.each([
    ['a missing title', CR, 'POST', { ...body(), title: undefined }, 'body.title'],
    ['an unknown field', CR, 'POST', { ...body(), approvedBy: 'me' }, 'body'],
    ['an unknown class', CR, 'POST', { ...body(), class: 'urgent' }, 'body.class'],
    ['no affected systems', CR, 'POST', { ...body(), affectedSystems: [] }, 'body.affectedSystems'],
    ['evidence of an unknown kind', CR, 'POST', { ...body(), evidence: [{ kind: 'vibes', title: 'x' }] }, 'body.evidence.0.kind'],
    ['a string for an array', CR, 'POST', { ...body(), affectedSystems: 'erp' }, 'body.affectedSystems'],
    ['an unknown decision', 'DECIDE', 'POST', { decision: 'maybe', role: 'ccb-chair' }, 'body.decision'],
    ['an unknown role', 'DECIDE', 'POST', { decision: 'approve', role: 'ccb-king' }, 'body.role'],
    ['a rejection without a reason', 'DECIDE', 'POST', { decision: 'reject', role: 'ccb-chair' }, 'body.reason'],
    ['an empty patch', 'PATCH', 'PATCH', {}, 'body'],
    ['evidence without a title', 'EVIDENCE', 'POST', { kind: 'documentation' }, 'body.title'],
    ['a NUL character in the title', CR, 'POST', { ...body(), title: 'broker\u0000gateway' }, 'body.title'],
    ['a NUL character in a reason', 'DECIDE', 'POST', { decision: 'reject', role: 'ccb-chair', reason: 'no\u0000' }, 'body.reason'],
    ['a NUL character in evidence', 'EVIDENCE', 'POST', { kind: 'documentation', title: 'a\u0000b' }, 'body.title'],
    ['a system name past 200 characters', CR, 'POST', { ...body(), affectedSystems: ['s'.repeat(201)] }, 'body.affectedSystems.0'],
    ['a title of 201 emoji', CR, 'POST', { ...body(), title: '🛃'.repeat(201) }, 'body.title'],
    ['a system named twice', CR, 'POST', { ...body(), affectedSystems: ['erp', 'broker-gateway', ' erp '] }, 'body.affectedSystems.2'],
    ['a data category named twice', CR, 'POST', { ...body(), touches: ['personal-data', 'personal-data'] }, 'body.touches.1'],
    ['a system named twice in an edit', 'PATCH', 'PATCH', { affectedSystems: ['erp', 'erp'] }, 'body.affectedSystems.1'],
    ['more than 50 systems', CR, 'POST', { ...body(), affectedSystems: Array.from({ length: 51 }, (_, i) => `s${i}`) }, 'body.affectedSystems'],
    ['an evidence link that is not a web address', 'EVIDENCE', 'POST', { kind: 'documentation', title: 'x', uri: 'javascript:alert(1)' }, 'body.uri'],
    ['an evidence link with a space in its host', 'EVIDENCE', 'POST', { kind: 'documentation', title: 'x', uri: 'https://exa mple.com' }, 'body.uri'],
    ['an unpaired surrogate in the title', CR, 'POST', { ...body(), title: 'a\ud800b' }, 'body.title'],
    ['an unpaired surrogate in a reason', 'DECIDE', 'POST', { decision: 'reject', role: 'ccb-chair', reason: 'no\udc00' }, 'body.reason'],
    ['an unpaired surrogate in an edit', 'PATCH', 'PATCH', { title: 'x\ud800' }, 'body.title'],
    ['an unpaired surrogate in evidence', 'EVIDENCE', 'POST', { kind: 'documentation', title: 'x\udc00' }, 'body.title'],
    ['a JSON string for a body', CR, 'POST', '"a change"', 'body'],
  ] as const)('malformed: when a body has %s, it answers 400 VALIDATION_FAILED naming %s', async (_what, target, method, payload, path) => {
    const id = target === CR ? '' : await draft();
    const url = { [CR]: CR, DECIDE: `${CR}/${id}/decisions`, PATCH: `${CR}/${id}`, EVIDENCE: `${CR}/${id}/evidence` }[target];
    const res = await api.call(method, url, chair.token, payload);
    expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it('POST /change-requests: when text is at its limit in characters, not UTF-16 units, it is taken whole', async () => {
    // The OpenAPI document's maxLength counts characters (code points); an emoji is one, though JavaScript counts two.
    const title = '🛃'.repeat(200);
    const reason = '🛃'.repeat(5_000);
    const res = await api.call('POST', CR, requester.token, body({ title, affectedSystems: ['🛃'.repeat(200)] }));
    expect([res.status, res.body.title, res.body.affectedSystems]).toEqual([201, title, ['🛃'.repeat(200)]]);
    expect((await api.call('POST', `${CR}/${res.body.id}/withdraw`, requester.token, { reason })).status).toBe(200);
    const row = await api.db.prisma.changeRequest.findUniqueOrThrow({ where: { id: res.body.id } });
    expect([row.title, row.status]).toEqual([title, 'withdrawn']);
  });

  it('malformed: when the body is not JSON, it answers 400 MALFORMED_JSON and nothing is raised', async () => {
    const before = await api.db.prisma.changeRequest.count();
    const res = await api.call('POST', CR, requester.token, '{"title": ');
    expect([res.status, res.body.error.code]).toEqual([400, 'MALFORMED_JSON']);
    expect(await api.db.prisma.changeRequest.count()).toBe(before);
  });

  it('malformed: when a body says it is gzip but does not inflate, it answers 400 MALFORMED_JSON and nothing is raised', async () => {
    const before = await api.db.prisma.changeRequest.count();
    const res = await api.call('POST', CR, requester.token, JSON.stringify(body()), { 'content-encoding': 'gzip' });
    expect([res.status, res.body.error.code]).toEqual([400, 'MALFORMED_JSON']);
    expect(await api.db.prisma.changeRequest.count()).toBe(before);
  });

  it('malformed: when the connection ends before the body does, or sends more than its length, nothing is done', async () => {
    // Raw HTTP: fetch cannot send a body that disagrees with its Content-Length.
    const raw = (path: string, token: string, contentLength: number, sent: string) =>
      new Promise<string>((resolve, reject) => {
        const { port } = new URL(api.baseUrl);
        const socket = net.connect(Number(port), '127.0.0.1', () => {
          socket.write(
            `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
              `Content-Type: application/json\r\nContent-Length: ${contentLength}\r\n\r\n${sent}`,
          );
          socket.end();
        });
        let answer = '';
        socket.on('data', (d) => (answer += d));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    const id = await draft();
    expect(await raw(`${CR}/${id}/withdraw`, requester.token, 100, '{"reason":')).toMatch(/^HTTP\/1\.1 400/);
    expect(await raw(`${CR}/${id}/submit`, requester.token, 5, '{"a":1,"b":2}')).toMatch(/^HTTP\/1\.1 400/);
    // Whatever had been started would have finished by the time a later request on the same workflow is answered.
    const edited = await api.call('PATCH', `${CR}/${id}`, requester.token, { title: 'Still a draft' });
    expect([edited.status, edited.body.status]).toEqual([200, 'draft']);
    expect((await api.db.prisma.changeRequest.findUniqueOrThrow({ where: { id } })).status).toBe('draft');
  });

  it('malformed: when a body nests thousands of levels deep, it answers 400 VALIDATION_FAILED and nothing is raised', async () => {
    const before = await api.db.prisma.changeRequest.count();
    const deep = JSON.stringify(body()).replace(/}$/, `,"touches":${'['.repeat(5000)}${']'.repeat(5000)}}`);
    const res = await api.call('POST', CR, requester.token, deep);
    expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(res.body.error.details[0].path).toMatch(/^body\.touches(\.0)+$/);
    expect(await api.db.prisma.changeRequest.count()).toBe(before);
  });

  it('malformed: when a text with an unpaired surrogate is refused, the request can still be edited and decided', async () => {
    const id = await draft();
    expect((await api.call('PATCH', `${CR}/${id}`, requester.token, { title: 'x\ud800' })).status).toBe(400);
    const edited = await api.call('PATCH', `${CR}/${id}`, requester.token, { title: 'Broker gateway v2 😀' });
    expect([edited.status, edited.body.title]).toEqual([200, 'Broker gateway v2 😀']);
  });

  it('malformed: when a query carries a NUL character, it answers 400 VALIDATION_FAILED naming it', async () => {
    const res = await api.call('GET', `${CR}?system=erp%00`, chair.token);
    expect([res.status, res.body.error.code, res.body.error.details[0].path]).toEqual([400, 'VALIDATION_FAILED', 'query.system']);
  });

  it('PATCH: when the body is application/merge-patch+json, it is read as JSON', async () => {
    const id = await draft();
    const res = await api.call('PATCH', `${CR}/${id}`, requester.token, JSON.stringify({ risk: 'high' }), {
      'content-type': 'application/merge-patch+json',
    });
    expect([res.status, res.body.risk]).toEqual([200, 'high']);
  });

  it('PATCH: when a request sent back is edited into a class that needs fewer reviewers, it answers 409 INVALID_STATE', async () => {
    const id = await submitted();
    expect((await decide(id, chair, 'ccb-chair', 'request_changes', 'add load tests')).status).toBe(200);
    const res = await api.call('PATCH', `${CR}/${id}`, requester.token, { class: 'standard' });
    expect([res.status, res.body.error.code]).toEqual([409, 'INVALID_STATE']);
    expect(res.body.error.details[0].dropped).toContain('the role ccb-chair');
    expect((await api.call('GET', `${CR}/${id}`, requester.token)).body.class).toBe('normal');
    // Raising what the review needs is rework too.
    const raised = await api.call('PATCH', `${CR}/${id}`, requester.token, { touches: ['personal-data'] });
    expect([raised.status, raised.body.requiredRoles]).toEqual([200, expect.arrayContaining(['security-officer'])]);
  });

  it('evidence: when a request holds 50 pieces of evidence, the 51st is refused with 409 INVALID_STATE and not added', async () => {
    const many = Array.from({ length: 50 }, (_, i) => ({ kind: 'documentation', title: `note ${i}` }));
    const id = await draft(requester, { evidence: many });
    const res = await api.call('POST', `${CR}/${id}/evidence`, requester.token, { kind: 'documentation', title: 'one more' });
    expect([res.status, res.body.error.code]).toEqual([409, 'INVALID_STATE']);
    expect((await api.call('GET', `${CR}/${id}`, requester.token)).body.evidence).toHaveLength(50);
  });

  it('Idempotency-Key: when a request is refused as invalid, the corrected one may use the same key', async () => {
    const headers = { 'idempotency-key': `corrected-${Date.now()}` };
    const bad = await api.call('POST', CR, requester.token, body({ class: 'urgent' }), headers);
    expect(bad.status).toBe(400);
    const good = await api.call('POST', CR, requester.token, body(), headers);
    expect(good.status).toBe(201);
  });

  it('history: when a request is edited, its history names the people and says what each field was and became', async () => {
    const id = await draft();
    await api.call('PATCH', `${CR}/${id}`, requester.token, { class: 'emergency', risk: 'high' });
    const res = await api.call('GET', `${CR}/${id}/history`, chair.token);
    const entries = res.body.entries as { type: string; who: string; whoName: string | null; what: string }[];
    expect(entries[0]).toMatchObject({ type: 'OPENED', who: requester.id, whoName: requester.name, what: expect.stringMatching(/^opened as a normal change/) });
    expect(entries.find((e) => e.type === 'EDITED')).toMatchObject({
      whoName: requester.name,
      what: 'edited class "normal" → "emergency"; risk "medium" → "high"',
    });
  });

  it('history: user ids an entry’s text mentions (who resolved an escalation) read as names; other ids stay', async () => {
    const run = '0b0e7a2c-94b1-4d7e-8a51-0c2f3d4e5f60';
    const [named] = await nameActors(api.db.prisma, [
      { who: 'system:clearway', what: `escalation e-1 resolved by ${chair.id}: board chased; run ${run}` },
    ]);
    expect(named).toEqual({ who: 'system:clearway', whoName: null, what: `escalation e-1 resolved by ${chair.name}: board chased; run ${run}` });
  });

  it.each([
    ['GET', CR],
    ['POST', CR],
    ['GET', `${CR}/7b0c3f5e-9d0f-4c53-9a43-1f7d1c0f0a11`],
    ['PATCH', `${CR}/7b0c3f5e-9d0f-4c53-9a43-1f7d1c0f0a11`],
    ['POST', `${CR}/7b0c3f5e-9d0f-4c53-9a43-1f7d1c0f0a11/decisions`],
    ['POST', `${CR}/7b0c3f5e-9d0f-4c53-9a43-1f7d1c0f0a11/retrospective`],
    ['GET', `${CR}/7b0c3f5e-9d0f-4c53-9a43-1f7d1c0f0a11/history`],
    ['GET', '/api/v1/inbox'],
  ])('auth: when %s %s has no bearer token, it answers 401 UNAUTHENTICATED', async (method, url) => {
    const res = await api.call(method, url, null, method === 'GET' ? undefined : {});
    expect([res.status, res.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('retrospective: an approved emergency change waits in the chair’s inbox until its review is recorded, once', async () => {
    const reviewer = await api.user(['ccb-chair']);
    const member = await api.user(['ccb-member']);
    const emergency = { class: 'emergency', risk: 'critical', evidence: evidence('rollback-plan') };
    const id = await submitted(requester, emergency);
    await decide(id, chair, 'ccb-chair');
    const approved = await decide(id, member, 'ccb-member');
    expect(approved.body).toMatchObject({
      status: 'approved',
      retrospective: { owner: 'ccb-chair', status: 'pending', overdueAt: null, review: null },
    });
    const dueAt = approved.body.retrospectiveDueAt as string;
    expect(approved.body.retrospective.dueAt).toBe(dueAt);

    const inbox = await api.call('GET', '/api/v1/inbox', reviewer.token);
    expect(inbox.body.items).toContainEqual({
      kind: 'change-request',
      action: 'retrospective',
      roles: ['ccb-chair'],
      dueAt,
      changeRequest: expect.objectContaining({ id, status: 'approved', retrospectiveDueAt: dueAt, retrospectivePending: true }),
    });
    const pending = await api.call('GET', `${CR}?retrospective=pending&requester=${requester.id}&limit=200`, reviewer.token);
    expect(pending.body.items.map((i: { id: string }) => i.id)).toContain(id);

    const url = `${CR}/${id}/retrospective`;
    const found = { outcome: 'follow_up_required', notes: 'Hotfix held; raise a normal change to make it permanent.' };
    const refusals = await Promise.all([
      api.call('POST', url, steward.token, found),
      api.call('POST', url, reviewer.token, { outcome: 'fine', notes: 'x' }),
      api.call('POST', url, reviewer.token, { outcome: 'ratified' }),
    ]);
    expect(refusals.map((r) => [r.status, r.body.error.code])).toEqual([
      [403, 'ROLE_REQUIRED'],
      [400, 'VALIDATION_FAILED'],
      [400, 'VALIDATION_FAILED'],
    ]);

    const recorded = await api.call('POST', url, reviewer.token, found);
    expect(recorded.status).toBe(200);
    expect(recorded.body.retrospective).toMatchObject({ status: 'recorded', review: { ...found, by: reviewer.id } });
    const after = await api.call('GET', '/api/v1/inbox', reviewer.token);
    expect(after.body.items.map((i: { changeRequest?: { id: string } }) => i.changeRequest?.id)).not.toContain(id);
    const listed = await api.call('GET', `${CR}?retrospective=recorded&requester=${requester.id}&limit=200`, reviewer.token);
    expect(listed.body.items).toContainEqual(expect.objectContaining({ id, retrospectivePending: false }));

    // The request's workflow ends with the review; a second review is refused naming the first, then as before.
    await api.temporal.client.workflow.getHandle(`cr-${id}`).result();
    const again = await api.call('POST', url, chair.token, found);
    expect([again.status, again.body.error.code, again.body.error.message]).toEqual([
      409,
      'ALREADY_DECIDED',
      expect.stringContaining(reviewer.name),
    ]);
    const history = await api.call('GET', `${CR}/${id}/history`, requester.token);
    expect(history.body.entries.at(-2)).toMatchObject({
      type: 'RETROSPECTIVE_RECORDED',
      who: reviewer.id,
      whoName: reviewer.name,
      what: `recorded the retrospective review: follow-up required: ${found.notes}`,
    });
  });

  it('retrospective: when the change owes none or is not approved, recording one answers 409 INVALID_STATE', async () => {
    const normal = await submitted();
    for (const [user, role] of [
      [chair, 'ccb-chair'],
      [specialist, 'integration-specialist'],
      [steward, 'data-steward'],
    ] as const) {
      await decide(normal, user, role);
    }
    const underReview = await submitted(requester, { class: 'emergency', evidence: evidence('rollback-plan') });
    const found = { outcome: 'ratified', notes: 'Nothing to add.' };
    for (const id of [normal, underReview, await draft()]) {
      const res = await api.call('POST', `${CR}/${id}/retrospective`, chair.token, found);
      expect([id, res.status, res.body.error.code]).toEqual([id, 409, 'INVALID_STATE']);
    }
    const unknown = await api.call('POST', `${CR}/7b0c3f5e-9d0f-4c53-9a43-1f7d1c0f0a11/retrospective`, chair.token, found);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('GET /change-requests/{id}: when the stored view predates escalations and retrospectives, the fields are filled in', async () => {
    const id = await draft();
    const row = await api.db.prisma.changeRequest.findUniqueOrThrow({ where: { id } });
    const { escalations: _e, escalationId: _i, retrospective: _r, ...older } = row.view as Record<string, unknown>;
    await api.db.prisma.changeRequest.update({ where: { id }, data: { view: older as object } });
    const res = await api.call('GET', `${CR}/${id}`, chair.token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, escalations: [], escalationId: null, retrospective: null });
  });

  it('openapi: when the document is fetched, every change-request operation is described', async () => {
    const doc = await api.call('GET', '/api/v1/openapi.json', null);
    const paths = doc.body.paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths[CR]).sort()).toEqual(['get', 'post']);
    expect(Object.keys(paths[`${CR}/{id}`]).sort()).toEqual(['get', 'patch']);
    for (const action of ['evidence', 'submit', 'decisions', 'withdraw', 'retrospective']) expect(paths[`${CR}/{id}/${action}`].post).toBeDefined();
    expect(paths[`${CR}/{id}/history`].get).toBeDefined();
    expect(paths['/api/v1/inbox'].get).toBeDefined();
    type Operation = {
      responses: Record<string, { description: string }>;
      parameters?: { name: string; in: string }[];
      requestBody?: { required: boolean };
    };
    const decideOp = paths[`${CR}/{id}/decisions`].post as Operation;
    expect(Object.keys(decideOp.responses).sort()).toEqual(['200', '400', '401', '403', '404', '409', '413', '415', '422']);
    for (const code of ['SELF_APPROVAL_FORBIDDEN', 'ALREADY_DECIDED', 'INVALID_STATE', 'IDEMPOTENCY_IN_PROGRESS']) {
      expect(decideOp.responses['409'].description).toContain(code);
    }
    expect(decideOp.parameters).toContainEqual(expect.objectContaining({ name: 'idempotency-key', in: 'header' }));
    expect((paths[`${CR}/{id}/submit`].post as Operation).responses['409'].description).toContain('EVIDENCE_MISSING');
    expect((paths[`${CR}/{id}/withdraw`].post as Operation).requestBody?.required).toBe(false);
    expect((paths[CR].post as Operation).requestBody?.required).toBe(true);
    const created = (paths[CR].post as { responses: Record<string, { headers?: Record<string, unknown> }> }).responses;
    expect(created['201'].headers).toEqual({ Location: expect.objectContaining({ schema: { type: 'string' } }) });
    // Every field a change request is served with is required, also those older stored views lack.
    expect(doc.body.components.schemas.ChangeRequest.required).toEqual(
      expect.arrayContaining(['retrospectiveDueAt', 'retrospective', 'escalations', 'escalationId']),
    );
    expect(doc.body.components.schemas.InboxChangeRequestItem.properties.dueAt).toMatchObject({ format: 'date-time' });
    // The link rule is in the document: an evidence link is a URI.
    expect(doc.body.components.schemas.AddEvidence.properties.uri).toMatchObject({ type: 'string', format: 'uri' });
    // Every operation of the API that answers 201 says where to read what it created.
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(item as Record<string, { responses?: Record<string, { headers?: Record<string, unknown> }> }>)) {
        const answer = op.responses?.['201'];
        if (answer) expect([method, path, Object.keys(answer.headers ?? {})]).toEqual([method, path, ['Location']]);
      }
    }
  });
});

// Who may do what, for every role, as the requester of a change and as anyone else. The normal class is reviewed by
// the chair, an integration specialist and a data steward (the CCB member is optional and not pending at first).
const REVIEWERS: readonly Role[] = ['ccb-chair', 'integration-specialist', 'data-steward', 'ccb-member'];
const PENDING_FIRST: readonly Role[] = ['ccb-chair', 'integration-specialist', 'data-steward'];

describe('change-request API authorization matrix', () => {
  it.each(ROLES)('matrix: when a %s calls each endpoint as requester and as non-requester, the answers follow the policy', async (role) => {
    const owner = await api.user([role]);
    const other = await api.user([role]);
    const id = await draft(owner);
    const actual: Record<string, number> = {};
    const expected: Record<string, number> = {};
    const check = async (key: string, want: number, call: Promise<{ status: number }>) => {
      expected[key] = want;
      actual[key] = (await call).status;
    };
    for (const [who, user] of [
      ['other', other],
      ['owner', owner],
    ] as const) {
      await check(`${who} GET list`, 200, api.call('GET', `${CR}?requester=${owner.id}`, user.token));
      await check(`${who} GET one`, 200, api.call('GET', `${CR}/${id}`, user.token));
      await check(`${who} GET history`, 200, api.call('GET', `${CR}/${id}/history`, user.token));
      await check(`${who} GET inbox`, 200, api.call('GET', '/api/v1/inbox', user.token));
      await check(`${who} PATCH`, who === 'owner' ? 200 : 403, api.call('PATCH', `${CR}/${id}`, user.token, { risk: 'low' }));
      await check(
        `${who} POST evidence`,
        who === 'owner' || REVIEWERS.includes(role) ? 201 : 403,
        api.call('POST', `${CR}/${id}/evidence`, user.token, evidence('training-plan')[0]),
      );
      await check(`${who} POST submit`, who === 'owner' ? 200 : 403, api.call('POST', `${CR}/${id}/submit`, user.token));
    }
    for (const [who, user] of [
      ['owner', owner],
      ['other', other],
    ] as const) {
      const want = who === 'owner' ? 409 : PENDING_FIRST.includes(role) ? 200 : 409;
      await check(`${who} POST decisions`, want, decide(id, user, role));
    }
    await check('other POST withdraw', 403, api.call('POST', `${CR}/${id}/withdraw`, other.token, {}));
    await check('owner POST withdraw', 200, api.call('POST', `${CR}/${id}/withdraw`, owner.token, {}));
    expect(actual).toEqual(expected);
  });

  it.each(ROLES)('matrix: when a %s records the retrospective of an approved emergency change, as requester and not, the answers follow the policy', async (role) => {
    const owner = await api.user([role]);
    const other = await api.user([role]);
    const id = await submitted(owner, { class: 'emergency', evidence: evidence('rollback-plan') });
    const [approver, approverRole] = role === 'ccb-member' ? [steward, 'data-steward' as const] : [await api.user(['ccb-member']), 'ccb-member' as const];
    const chairVote = role === 'ccb-chair' ? await api.user(['ccb-chair']) : chair;
    expect((await decide(id, chairVote, 'ccb-chair')).status).toBe(200);
    expect((await decide(id, approver, approverRole)).body.status).toBe('approved');
    const found = { outcome: 'ratified', notes: 'Reviewed.' };
    const answer = async (user: ApiUser) => {
      const res = await api.call('POST', `${CR}/${id}/retrospective`, user.token, found);
      return [res.status, res.status === 200 ? null : res.body.error.code];
    };
    // As with votes, the requester is told they cannot review their own change, whatever role they hold.
    expect(await answer(owner)).toEqual([409, 'SELF_APPROVAL_FORBIDDEN']);
    expect(await answer(other)).toEqual(role === 'ccb-chair' ? [200, null] : [403, 'ROLE_REQUIRED']);
  });
});

describe('change-request API histories', () => {
  it('replay: when every history the API suites produced is replayed, each replays without nondeterminism', async () => {
    const raised = await api.db.prisma.changeRequest.count();
    expect(raised).toBeGreaterThan(30);
    expect(await replayEveryHistory(api.temporal.client)).toBe(raised);
  });
});
