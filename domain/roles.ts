import { z } from 'zod';

/** Every role a Clearway user can act in; policies and tokens name roles from this list only. */
export const ROLES = [
  'ccb-chair',
  'ccb-member',
  'data-steward',
  'integration-specialist',
  'security-officer',
  'legal',
  'training-coordinator',
  'rollout-lead',
  'finance',
  'operations',
  'operator',
  'admin',
] as const;

export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

/** True when `value` names a known role. */
export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Splits a comma-separated role list; returns the roles or the first unknown name. */
export function parseRoles(list: string): { ok: true; roles: Role[] } | { ok: false; unknown: string } {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const name of names) if (!isRole(name)) return { ok: false, unknown: name };
  return { ok: true, roles: [...new Set(names as Role[])] };
}
