import { createHash, randomBytes } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { PrismaClient } from '../generated/prisma/client';
import { ClearwayError } from '../errors';
import { isRole, type Role } from '../domain/roles';

/** The authenticated caller; identity always comes from the token, never from the request body. */
export interface Actor {
  id: string;
  name: string;
  roles: Role[];
}

/** A new bearer token: 32 random bytes, prefixed so a leaked one is recognisable. */
export function newToken(): string {
  return `cw_${randomBytes(32).toString('base64url')}`;
}

/** The only form in which a token is stored. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The actor an earlier `authenticate` put on the response. */
export function actorOf(res: Response): Actor {
  const actor = res.locals.actor as Actor | undefined;
  if (!actor) throw new Error('route reached without authentication');
  return actor;
}

/** Resolves `Authorization: Bearer <token>` to an active user, or answers 401. */
export function authenticate(prisma: PrismaClient): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    res.set('WWW-Authenticate', 'Bearer');
    if (!match) {
      throw new ClearwayError(
        'UNAUTHENTICATED',
        header ? 'the Authorization header must be "Bearer <token>"' : 'a bearer token is required (Authorization: Bearer <token>)',
      );
    }
    const user = await prisma.user.findUnique({ where: { tokenHash: hashToken(match[1]) } });
    if (!user || user.revokedAt) throw new ClearwayError('UNAUTHENTICATED', 'the bearer token is not valid');
    res.removeHeader('WWW-Authenticate');
    res.locals.actor = { id: user.id, name: user.name, roles: user.roles.filter(isRole) } satisfies Actor;
    next();
  };
}

/** Lets the request through when the actor holds any of `roles`; otherwise ROLE_REQUIRED. */
export function requireRole(roles: readonly Role[]): RequestHandler {
  return (_req, res, next) => {
    const actor = actorOf(res);
    if (roles.length > 0 && !roles.some((r) => actor.roles.includes(r))) {
      throw new ClearwayError('ROLE_REQUIRED', `this requires one of the roles: ${roles.join(', ')}`, [
        { requiredAnyOf: roles },
      ]);
    }
    next();
  };
}
