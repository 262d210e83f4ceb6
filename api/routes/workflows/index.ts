import { getWorkflowRoute } from './get';
import { workflowHistoryRoute } from './history';
import { listWorkflowsRoute } from './list';

/** What operators inspect: every process's workflow executions, their state and history. */
export const workflowRoutes = [listWorkflowsRoute, getWorkflowRoute, workflowHistoryRoute];
