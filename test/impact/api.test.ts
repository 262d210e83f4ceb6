import request from 'supertest';
import type { Express } from 'express';
import { buildApp } from '../../api/app';
import { addUser } from '../../cli/users';
import type { Role } from '../../domain/roles';
import { ClearwayError } from '../../errors';
import { backends, createTestDatabase, silentLog, type TestDb } from '../helpers/db';

const seeds = {
  name: 'Import brokerage',
  systems: ['broker-gateway', 'erp-link'],
  dailyShipments: 500,
  averageShipmentValue: 1000,
  customers: 5000,
  averageOrderValue: 2000,
  annualChurnRate: 0.1,
  budget: 100000,
  spent: 130000,
};

describe.each(backends())('programs and impact on %s', (backend) => {
  let db: TestDb;
  let app: Express;
  let seq = 0;
  const user = (roles: Role[]) => addUser(db.prisma, { name: `impact-${process.pid}-${seq++}`, roles, actor: 'test' });
  const auth = (t: { token: string }) => ({ Authorization: `Bearer ${t.token}` });

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    app = buildApp({
      prisma: db.prisma,
      log: silentLog,
      temporal: () => {
        throw new ClearwayError('TEMPORAL_UNAVAILABLE', 'not in this test');
      },
      checks: {},
      version: 'test',
    });
  });
  afterAll(async () => {
    await db?.close();
  });

  test('put program: when finance sets the seeds profile, the figures are the seeds figures and the change is audited', async () => {
    const finance = await user(['finance']);
    const res = await request(app).put('/api/v1/programs/brokerage').set(auth(finance)).send(seeds);
    expect(res.status).toBe(200);
    expect(res.body.figures).toEqual({ delayExposurePerDay: 500000, annualChurnLoss: 1000000, budgetRatio: 1.3, overrun: 30000 });
    expect(res.body).toMatchObject({ id: 'brokerage', currency: 'USD', updatedBy: finance.id });
    const audit = await db.prisma.auditEvent.findMany({ where: { subjectType: 'program', subjectId: 'brokerage' } });
    expect(audit.map((a) => a.action)).toEqual(['PROGRAM_PROFILE_SET']);
    const got = await request(app).get('/api/v1/programs/brokerage').set(auth(finance));
    expect(got.body.averageShipmentValue).toBe(1000);
  });

  test('impact: when a change touches one of the program systems for 3 days, $1,500,000 is at stake', async () => {
    const member = await user(['ccb-member']);
    await request(app).put('/api/v1/programs/brokerage').set(auth(await user(['admin']))).send(seeds);
    const res = await request(app).get('/api/v1/impact').query({ systems: 'erp-link,tariff-db', delayDays: 3 }).set(auth(member));
    expect(res.status).toBe(200);
    expect(res.body.totals).toEqual([{ currency: 'USD', perDay: 500000, delay: 1500000, churn: 1000000 }]);
    expect(res.body.programs.map((p: { id: string }) => p.id)).toEqual(['brokerage']);
  });

  test('put program: when the caller lacks finance, admin or chair, it is 403 ROLE_REQUIRED and nothing is written', async () => {
    const member = await user(['ccb-member']);
    const res = await request(app).put('/api/v1/programs/other').set(auth(member)).send(seeds);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('ROLE_REQUIRED');
    expect(await db.prisma.program.findUnique({ where: { id: 'other' } })).toBeNull();
  });

  test.each([
    ['a churn rate above 1', 'body.annualChurnRate', { ...seeds, annualChurnRate: 2 }],
    ['a currency that is no ISO code', 'body.currency', { ...seeds, currency: 'dollars' }],
    ['an unknown field', 'body', { ...seeds, unknown: 1 }],
  ])('put program: when the profile has %s, it is 400 VALIDATION_FAILED naming %s', async (_what, path, body) => {
    const res = await request(app).put('/api/v1/programs/bad').set(auth(await user(['admin']))).send(body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(res.body.error.details)).toContain(path);
    expect(await db.prisma.program.findUnique({ where: { id: 'bad' } })).toBeNull();
  });

  test('get program: when it does not exist, it is 404 NOT_FOUND; a bad id is 400', async () => {
    const member = await user([]);
    expect((await request(app).get('/api/v1/programs/none').set(auth(member))).status).toBe(404);
    expect((await request(app).get('/api/v1/programs/Bad_Id').set(auth(member))).status).toBe(400);
  });
});
