import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { CODES } from '../errors';
import { ROLES } from '../domain/roles';

// Adds `.openapi()` to zod schemas so the OpenAPI document is generated from the same schemas.
extendZodWithOpenApi(z);

export { z };

/** One of the roles in domain/roles.ts. */
export const RoleName = z.enum(ROLES).openapi('Role');
export type RoleName = z.infer<typeof RoleName>;

/** The body of every error response. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(CODES) as [keyof typeof CODES, ...(keyof typeof CODES)[]]),
      message: z.string(),
      details: z.array(z.unknown()),
    }),
  })
  .openapi('Error');
export type ErrorBody = z.infer<typeof ErrorBody>;
