import type { Route } from '../../define-route';
import { advanceRolloutRoute, holdRolloutRoute, resumeRolloutRoute, rollbackRolloutRoute } from './actions';
import { createRolloutRoute } from './create';
import { getRolloutRoute } from './get';
import { rolloutHistoryRoute } from './history';
import { listRolloutsRoute } from './list';
import { recordMeasurementsRoute } from './measurements';
import { listMeasurementsRoute } from './measurement-series';
import { whatIfRolloutRoute } from './what-if';

/** The rollout routes. */
export const rolloutRoutes: Route[] = [
  createRolloutRoute,
  listRolloutsRoute,
  getRolloutRoute,
  recordMeasurementsRoute,
  listMeasurementsRoute,
  advanceRolloutRoute,
  holdRolloutRoute,
  resumeRolloutRoute,
  rollbackRolloutRoute,
  rolloutHistoryRoute,
  whatIfRolloutRoute,
];
