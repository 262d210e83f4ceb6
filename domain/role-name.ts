import { z } from 'zod';
import { ROLES, type Role } from './roles';

/** Zod schema for a `Role`, for policies and inputs that name roles. */
export const RoleName: z.ZodType<Role> = z.enum(ROLES);
