import type { Route } from '../define-route';
import { listAuditEventsRoute } from './audit-events/list';
import { changeRequestRoutes } from './change-requests';
import { cutoverRoutes } from './cutovers';
import { escalationRoutes } from './escalations';
import { inboxRoute } from './inbox/list';
import { getMeRoute } from './me/get';
import { programRoutes } from './programs';
import { workflowRoutes } from './workflows';
import { reviewRoutes } from './reviews';
import { rolloutRoutes } from './rollouts';

/** Every route the API serves under /api/v1. */
export const routes: Route[] = [
  getMeRoute,
  listAuditEventsRoute,
  ...changeRequestRoutes,
  ...cutoverRoutes,
  ...escalationRoutes,
  ...rolloutRoutes,
  ...programRoutes,
  ...workflowRoutes,
  ...reviewRoutes,
  inboxRoute,
];
