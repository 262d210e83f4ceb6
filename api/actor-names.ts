import type { PrismaClient } from '../generated/prisma/client';

const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Gives each entry the name of the user its `who` is (`whoName`), or null for the system and users since removed. */
export async function nameActors<E extends { who: string }>(
  prisma: PrismaClient,
  entries: E[],
): Promise<(E & { whoName: string | null })[]> {
  const ids = [...new Set(entries.map((e) => e.who))].filter((who) => USER_ID.test(who));
  const users = ids.length ? await prisma.user.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } }) : [];
  const names = new Map(users.map((u) => [u.id, u.name]));
  return entries.map((e) => ({ ...e, whoName: names.get(e.who) ?? null }));
}
