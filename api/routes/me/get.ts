import { defineRoute } from '../../define-route';
import { RoleName, z } from '../../schemas';

/** The caller as the API sees them. */
export const Me = z.object({ id: z.uuid(), name: z.string(), roles: z.array(RoleName) }).openapi('Me');
export type Me = z.infer<typeof Me>;

/** GET /api/v1/me: who the bearer token belongs to and the roles it acts in. */
export const getMeRoute = defineRoute({
  method: 'get',
  path: '/api/v1/me',
  summary: 'The authenticated user and their roles',
  tags: ['users'],
  response: Me,
  handler: ({ actor }) => actor,
});
