import type { Route } from '../../define-route';
import { closeReviewRoute } from './close';
import { getReviewRoute } from './get';
import { listReviewsRoute } from './list';

/** The data-stewardship review routes. */
export const reviewRoutes: Route[] = [listReviewsRoute, getReviewRoute, closeReviewRoute];
