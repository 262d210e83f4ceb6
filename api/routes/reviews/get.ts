import { findReview, reviewDetail } from '../../reviews';
import { defineRoute } from '../../define-route';
import { ReviewDetail, ReviewParams } from './schemas';

/** GET /api/v1/reviews/{id}: one data-stewardship review: trigger, deadline, escalation, findings and decision. */
export const getReviewRoute = defineRoute({
  method: 'get',
  path: '/api/v1/reviews/{id}',
  summary: 'A data-stewardship review',
  tags: ['reviews'],
  params: ReviewParams,
  response: ReviewDetail,
  handler: async ({ params, deps }) => reviewDetail(await findReview(deps, params.id), new Date()),
});
