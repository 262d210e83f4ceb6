import os from 'node:os';
import { hashToken, newToken } from '../api/auth';
import { parseRoles, ROLES, type Role } from '../domain/roles';
import { ClearwayError } from '../errors';
import { Prisma, type PrismaClient } from '../generated/prisma/client';

const NAME = /^[\w.@-]{1,64}$/;

/** Who an operation run from this shell is attributed to in the audit trail. */
export function cliActor(): string {
  return `cli:${os.userInfo().username}`;
}

/** Checks a `--roles r1,r2` list against domain/roles.ts. */
export function rolesFromList(list: string): Role[] {
  const parsed = parseRoles(list);
  if (!parsed.ok) {
    throw new ClearwayError('UNKNOWN_ROLE', `unknown role '${parsed.unknown}'; roles are: ${ROLES.join(', ')}`);
  }
  if (parsed.roles.length === 0) throw new ClearwayError('USAGE', `--roles needs at least one of: ${ROLES.join(', ')}`);
  return parsed.roles;
}

/** Creates a user and its audit event together; returns the bearer token, which is stored only hashed. */
export async function addUser(
  prisma: PrismaClient,
  input: { name: string; roles: Role[]; actor: string },
): Promise<{ id: string; name: string; roles: Role[]; token: string }> {
  if (!NAME.test(input.name)) {
    throw new ClearwayError('VALIDATION_FAILED', `user name must be 1-64 letters, digits, '.', '_', '@' or '-'`);
  }
  const token = newToken();
  try {
    const user = await prisma.$transaction(async (tx) => {
      const created = await tx.user.create({
        data: { name: input.name, roles: input.roles, tokenHash: hashToken(token) },
      });
      await tx.auditEvent.create({
        data: {
          actor: input.actor,
          action: 'USER_CREATED',
          subjectType: 'user',
          subjectId: created.id,
          payload: { name: created.name, roles: input.roles },
        },
      });
      return created;
    });
    return { id: user.id, name: user.name, roles: input.roles, token };
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') {
      throw new ClearwayError('DUPLICATE_NAME', `a user named '${input.name}' already exists`);
    }
    throw e;
  }
}

/** Every user, oldest first; tokens are never shown again. */
export async function listUsers(prisma: PrismaClient) {
  return prisma.user.findMany({
    orderBy: { createdAt: 'asc' },
    select: { id: true, name: true, roles: true, createdAt: true, revokedAt: true },
  });
}

/** Revokes a user's token, recording who did it; revoking twice changes nothing. */
export async function revokeUser(
  prisma: PrismaClient,
  input: { name: string; actor: string },
): Promise<{ alreadyRevoked: boolean }> {
  return prisma.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { name: input.name } });
    if (!user) throw new ClearwayError('NOT_FOUND', `no user named '${input.name}'`);
    if (user.revokedAt) return { alreadyRevoked: true };
    await tx.user.update({ where: { id: user.id }, data: { revokedAt: new Date() } });
    await tx.auditEvent.create({
      data: {
        actor: input.actor,
        action: 'USER_REVOKED',
        subjectType: 'user',
        subjectId: user.id,
        payload: { name: user.name },
      },
    });
    return { alreadyRevoked: false };
  });
}
