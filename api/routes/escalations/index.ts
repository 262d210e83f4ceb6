import type { Route } from '../../define-route';
import { escalationReportRoute } from '../reports/escalations';
import { acknowledgeEscalationRoute } from './acknowledge';
import { addEscalationCostRoute } from './add-cost';
import { createEscalationRoute } from './create';
import { escalateEscalationRoute } from './escalate';
import { getEscalationRoute } from './get';
import { escalationHistoryRoute } from './history';
import { listEscalationsRoute } from './list';
import { reassignEscalationRoute } from './reassign';
import { reopenEscalationRoute } from './reopen';
import { resolveEscalationRoute } from './resolve';
import { escalationWebhookRoute } from './webhook';

/** The escalation routes, the webhook monitoring systems report through, and the response-time report. */
export const escalationRoutes: Route[] = [
  createEscalationRoute,
  listEscalationsRoute,
  getEscalationRoute,
  acknowledgeEscalationRoute,
  resolveEscalationRoute,
  reassignEscalationRoute,
  escalateEscalationRoute,
  addEscalationCostRoute,
  reopenEscalationRoute,
  escalationHistoryRoute,
  escalationReportRoute,
  escalationWebhookRoute,
];
