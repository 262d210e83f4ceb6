import type { PrismaClient } from '../generated/prisma/client';

const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const USER_ID_IN_TEXT = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;

/**
 * Gives each entry the name of the user its `who` is (`whoName`), or null for the system and users since removed;
 * user ids its `what` mentions (who resolved an escalation, say) read as those users' names too.
 */
export async function nameActors<E extends { who: string; what: string }>(
  prisma: PrismaClient,
  entries: E[],
): Promise<(E & { whoName: string | null })[]> {
  const mentioned = entries.flatMap((e) => e.what.match(USER_ID_IN_TEXT) ?? []);
  const names = await userNames(prisma, [...entries.map((e) => e.who), ...mentioned]);
  return entries.map((e) => ({ ...e, what: withNames(e.what, names), whoName: names.get(e.who) ?? null }));
}

/** `text` with the user ids it mentions replaced by those users' names, e.g. in a workflow's refusal message. */
export async function nameUsersIn(prisma: PrismaClient, text: string): Promise<string> {
  const mentioned = text.match(USER_ID_IN_TEXT);
  return mentioned ? withNames(text, await userNames(prisma, mentioned)) : text;
}

async function userNames(prisma: PrismaClient, candidates: string[]): Promise<Map<string, string>> {
  const ids = [...new Set(candidates)].filter((id) => USER_ID.test(id));
  const users = ids.length ? await prisma.user.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } }) : [];
  return new Map(users.map((u) => [u.id, u.name]));
}

// Ids that name no user (runs, escalations, removed users) stay as they are.
function withNames(text: string, names: Map<string, string>): string {
  return text.replace(USER_ID_IN_TEXT, (id) => names.get(id) ?? id);
}
