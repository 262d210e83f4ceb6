import { ApplicationFailure } from '@temporalio/common';
import { createEscalationActivities, type CostBooking } from '../../activities/escalation';
import { createPrisma } from '../../cli/database';
import type { PrismaClient } from '../../generated/prisma/client';
import { backends, createTestDatabase, type TestDb } from '../helpers/db';
import { recordingNotifier } from './support';

const AT = '2026-05-12T10:00:00.000Z';
let seq = 0;

/** An escalation row to book costs against, as the opening write of its workflow leaves it. */
async function escalationRow(prisma: PrismaClient): Promise<string> {
  const id = `esc-ledger-${process.pid}-${++seq}`;
  await prisma.escalation.create({
    data: {
      id,
      key: id.slice(4),
      severity: 'normal',
      title: 'Duty recalculation failed',
      status: 'open',
      level: 1,
      topLevel: 4,
      owner: 'role:finance',
      occurrences: 1,
      policyVersion: 'sha256:test',
      sourceKind: 'api',
      openedAt: new Date(AT),
      updatedAt: new Date(AT),
      seq: 1,
      view: {},
    },
  });
  return id;
}

function booking(escalationId: string, index: number, amountCents: number, currency: string): CostBooking {
  return { escalationId, index, amountCents, currency, note: 'demurrage', by: 'fin-1', at: AT, cycle: '2026-05' };
}

describe.each(backends())('escalation cost ledger on %s', (backend) => {
  let db: TestDb;
  let second: PrismaClient | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(backend);
    // A second client stands for a second worker process with its own connections.
    if (backend === 'postgres') second = createPrisma(db.url, { embedded: false });
  });
  afterAll(async () => {
    await second?.$disconnect();
    await db?.close();
  });

  const ledger = (prisma: PrismaClient) =>
    createEscalationActivities({ prisma, clock: () => new Date(AT), notifier: recordingNotifier() });

  it('bookEscalationCost: when 24 costs of one cycle are booked at once from two clients, each total counts every booking before it', async () => {
    const [a, b] = [await escalationRow(db.prisma), await escalationRow(db.prisma)];
    const clients = [ledger(db.prisma), ledger(second ?? db.prisma)];
    const totals = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        clients[i % 2].bookEscalationCost(booking(i % 4 < 2 ? a : b, Math.floor(i / 4) * 2 + (i % 2), 50_000, 'SEK')),
      ),
    );
    const sorted = totals.map((t) => t.cycleTotalCents).sort((x, y) => x - y);
    expect(sorted).toEqual(Array.from({ length: 24 }, (_, i) => (i + 1) * 50_000));
    const rows = await db.prisma.costEntry.findMany({ where: { currency: 'SEK' } });
    expect(rows).toHaveLength(24);
    expect(rows.reduce((sum, r) => sum + Number(r.amountCents), 0)).toBe(24 * 50_000);
  });

  it('bookEscalationCost: when a booking is retried, it answers the first total and counts the cost once', async () => {
    const id = await escalationRow(db.prisma);
    const acts = ledger(db.prisma);
    const first = await acts.bookEscalationCost(booking(id, 0, 700_000, 'NOK'));
    await acts.bookEscalationCost(booking(id, 1, 400_000, 'NOK'));
    expect(await acts.bookEscalationCost(booking(id, 0, 700_000, 'NOK'))).toEqual(first);
    expect(await acts.bookEscalationCost(booking(id, 2, 1, 'NOK'))).toEqual({ cycleTotalCents: 1_100_001 });
  });

  it('bookEscalationCost: when a position is booked again with another amount, it fails without retrying', async () => {
    const id = await escalationRow(db.prisma);
    const acts = ledger(db.prisma);
    await acts.bookEscalationCost(booking(id, 0, 100, 'DKK'));
    const refused = await acts.bookEscalationCost(booking(id, 0, 200, 'DKK')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect((refused as ApplicationFailure).nonRetryable).toBe(true);
    expect(await db.prisma.costEntry.count({ where: { escalationId: id } })).toBe(1);
  });
});
