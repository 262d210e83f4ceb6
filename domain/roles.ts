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
