import type { Role } from './roles';

/** Who is acting, as established by the caller's token: their user id and every role they hold. */
export type Actor = { id: string; roles: readonly Role[] };

/** Whom the audit trail names for what no person did (timers, resets). */
export const SYSTEM_ACTOR = 'system:clearway';
