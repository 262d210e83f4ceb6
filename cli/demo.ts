import type { Role } from '../domain/roles';
import { ClearwayError, CODES, type ErrorCode } from '../errors';
import type { PrismaClient } from '../generated/prisma/client';
import { addUser, cliActor } from './users';

/** A demo user and the bearer token that acts as them. */
export type DemoUser = { name: string; roles: Role[]; token: string };

/** A change request the demo left in a given state, and what it still waits for when its status does not say. */
export type DemoRequest = { id: string; title: string; status: string; awaiting?: string };

const PEOPLE = {
  requester: ['integration-specialist'],
  chair: ['ccb-chair'],
  specialist: ['integration-specialist'],
  steward: ['data-steward'],
  security: ['security-officer'],
  member: ['ccb-member'],
} as const satisfies Record<string, readonly Role[]>;
type Person = keyof typeof PEOPLE;

/** Creates the demo's users in the database; their tokens are returned once, as for `users add`. */
export async function createDemoUsers(prisma: PrismaClient, prefix: string): Promise<Record<Person, DemoUser>> {
  const users = {} as Record<Person, DemoUser>;
  for (const [person, roles] of Object.entries(PEOPLE) as [Person, readonly Role[]][]) {
    const name = `${prefix}-${person}`;
    try {
      const created = await addUser(prisma, { name, roles: [...roles], actor: cliActor() });
      users[person] = { name, roles: [...roles], token: created.token };
    } catch (e) {
      if (e instanceof ClearwayError && e.code === 'DUPLICATE_NAME') {
        throw new ClearwayError('DUPLICATE_NAME', `demo users named ${prefix}-* exist already; choose --prefix`);
      }
      throw e;
    }
  }
  return users;
}

type Call = (method: string, path: string, token: string, body?: unknown) => Promise<Record<string, unknown>>;

/** A client for the running API that turns any error answer into a ClearwayError with its code. */
export function apiCaller(baseUrl: string, fetcher: typeof fetch = fetch): Call {
  return async (method, path, token, body) => {
    let res: Response;
    try {
      res = await fetcher(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ClearwayError(
        'NOT_READY',
        `the API at ${baseUrl} does not answer (${(e as Error).message}); start Clearway first with: npm start`,
      );
    }
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) {
      const error = json.error as { code?: string; message?: string } | undefined;
      const code = error?.code && error.code in CODES ? (error.code as ErrorCode) : 'INTERNAL';
      throw new ClearwayError(code, `${method} ${path} answered ${res.status}: ${error?.message ?? 'no detail'}`);
    }
    return json;
  };
}

const evidence = (...kinds: string[]) =>
  kinds.map((kind) => ({ kind, title: `${kind.replace('-', ' ')} for this change`, uri: `https://wiki.example.com/${kind}` }));

/**
 * Raises a handful of change requests through the API, as their users would, and leaves them in different states:
 * a draft, one awaiting the board, one sent back, one approved, one rejected and an emergency change approved on the
 * fast path whose retrospective review the chair owes.
 */
export async function seedDemoRequests(call: Call, users: Record<Person, DemoUser>): Promise<DemoRequest[]> {
  const cr = '/api/v1/change-requests';
  const raise = async (body: Record<string, unknown>) => (await call('POST', cr, users.requester.token, body)).id as string;
  const submit = (id: string) => call('POST', `${cr}/${id}/submit`, users.requester.token);
  const decide = (id: string, who: Person, role: Role, decision: string, reason?: string) =>
    call('POST', `${cr}/${id}/decisions`, users[who].token, { decision, role, ...(reason ? { reason } : {}) });
  const normal = { class: 'normal', evidence: evidence('documentation', 'test-evidence', 'rollback-plan') };

  const draft = await raise({
    title: 'Load the 2026 combined-nomenclature tariff table',
    description: 'Annual HS/CN tariff update for the broker classification service.',
    class: 'normal',
    risk: 'high',
    affectedSystems: ['tariff-service', 'broker-link'],
    evidence: evidence('documentation'),
  });

  const reviewing = await raise({
    ...normal,
    title: 'Switch declarations to the single-window API v2',
    description: 'Move customs declaration submission from v1 to v2; v1 is retired next quarter.',
    risk: 'medium',
    affectedSystems: ['single-window', 'broker-link'],
  });
  await submit(reviewing);
  await decide(reviewing, 'chair', 'ccb-chair', 'approve');

  const sentBack = await raise({
    ...normal,
    title: 'Map forwarder status codes into the ERP shipment feed',
    description: 'New mapping of forwarder milestone codes to ERP shipment statuses.',
    risk: 'medium',
    affectedSystems: ['erp', 'forwarder-gateway'],
    touches: ['personal-data'],
    evidence: [...normal.evidence, ...evidence('security-signoff')],
  });
  await submit(sentBack);
  await decide(sentBack, 'steward', 'data-steward', 'request_changes', 'Consignee names must be masked in the feed.');

  const approved = await raise({
    title: 'Fix the currency-code mapping for CHF invoices',
    description: 'Routine mapping fix: CHF invoices were sent with the wrong ISO code.',
    class: 'standard',
    risk: 'low',
    affectedSystems: ['erp'],
    evidence: evidence('documentation'),
  });
  await submit(approved);
  await decide(approved, 'specialist', 'integration-specialist', 'approve');

  const rejected = await raise({
    title: 'Emergency: bypass duty calculation for delayed consignments',
    description: 'Skip duty calculation for consignments delayed more than 48 hours.',
    class: 'emergency',
    risk: 'critical',
    affectedSystems: ['duty-engine'],
    evidence: evidence('rollback-plan'),
  });
  await submit(rejected);
  await decide(rejected, 'chair', 'ccb-chair', 'reject', 'Bypassing duty calculation breaks customs compliance.');

  // Approved on the fast path, so the chair's inbox holds its retrospective review.
  const hotfix = await raise({
    title: 'Emergency: restore EORI validation after the registry outage',
    description: 'Point EORI number checks at the fallback registry endpoint until the primary is back.',
    class: 'emergency',
    risk: 'high',
    affectedSystems: ['broker-link'],
    evidence: evidence('rollback-plan'),
  });
  await submit(hotfix);
  await decide(hotfix, 'chair', 'ccb-chair', 'approve');
  await decide(hotfix, 'member', 'ccb-member', 'approve');

  const states: DemoRequest[] = [];
  for (const id of [draft, reviewing, sentBack, approved, rejected, hotfix]) {
    const view = await call('GET', `${cr}/${id}`, users.requester.token);
    const owed = view.retrospective as { status: string; owner: string; dueAt: string } | null;
    states.push({
      id,
      title: String(view.title),
      status: String(view.status),
      ...(owed?.status === 'pending' ? { awaiting: `retrospective review by ${owed.owner}, due ${owed.dueAt}` } : {}),
    });
  }
  return states;
}
