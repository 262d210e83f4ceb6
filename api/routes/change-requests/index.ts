import type { Route } from '../../define-route';
import { addEvidenceRoute } from './add-evidence';
import { createChangeRequestRoute } from './create';
import { decideChangeRequestRoute } from './decide';
import { editChangeRequestRoute } from './edit';
import { getChangeRequestRoute } from './get';
import { changeRequestHistoryRoute } from './history';
import { listChangeRequestsRoute } from './list';
import { retrospectiveRoute } from './retrospective';
import { submitChangeRequestRoute } from './submit';
import { withdrawChangeRequestRoute } from './withdraw';

/** The change-request routes. */
export const changeRequestRoutes: Route[] = [
  createChangeRequestRoute,
  listChangeRequestsRoute,
  getChangeRequestRoute,
  editChangeRequestRoute,
  addEvidenceRoute,
  submitChangeRequestRoute,
  decideChangeRequestRoute,
  withdrawChangeRequestRoute,
  retrospectiveRoute,
  changeRequestHistoryRoute,
];
