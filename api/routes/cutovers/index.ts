import type { Route } from '../../define-route';
import {
  abortCutoverRoute,
  decommissionCutoverRoute,
  freezeCutoverRoute,
  rehearseFallbackRoute,
  rollbackCutoverRoute,
  switchCutoverRoute,
} from './actions';
import { createCutoverRoute } from './create';
import { listDiscrepanciesRoute } from './discrepancies';
import { getCutoverRoute } from './get';
import { cutoverHistoryRoute } from './history';
import { listCutoversRoute } from './list';
import { reconcileCutoverRoute } from './reconcile';
import { uploadLegacyRoute, uploadNewRoute } from './upload';

/** The cutover routes. */
export const cutoverRoutes: Route[] = [
  createCutoverRoute,
  listCutoversRoute,
  getCutoverRoute,
  uploadLegacyRoute,
  uploadNewRoute,
  reconcileCutoverRoute,
  listDiscrepanciesRoute,
  rehearseFallbackRoute,
  freezeCutoverRoute,
  switchCutoverRoute,
  rollbackCutoverRoute,
  abortCutoverRoute,
  decommissionCutoverRoute,
  cutoverHistoryRoute,
];
