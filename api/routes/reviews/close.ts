import { WorkflowNotFoundError } from '@temporalio/client';
import { ClearwayError } from '../../../errors';
import { closeStewardshipReview, reviewSettled, type ReviewInfo } from '../../../workflows/rollout';
import { workflowActor } from '../../change-requests';
import { findReview, reviewDetail } from '../../reviews';
import { rolloutHandle } from '../../rollouts';
import { defineRoute } from '../../define-route';
import { CloseReviewBody, ReviewDetail, ReviewParams } from './schemas';

/**
 * POST /api/v1/reviews/{id}/close: a data steward closes a review with findings and a decision (continue, hold or
 * rollback). The review's own workflow checks the role and that it is still open; its rollout then applies the
 * decision and writes it, and the answer is the review as written.
 */
export const closeReviewRoute = defineRoute({
  method: 'post',
  path: '/api/v1/reviews/{id}/close',
  summary: 'Close a data-stewardship review with findings and a decision (INVALID_STATE when already closed)',
  tags: ['reviews'],
  params: ReviewParams,
  body: CloseReviewBody,
  response: ReviewDetail,
  roles: ['data-steward'],
  async handler({ params, body, actor, deps, log }) {
    const row = await findReview(deps, params.id);
    let info: ReviewInfo;
    try {
      info = await deps
        .temporal()
        .workflow.getHandle(row.id)
        .executeUpdate(closeStewardshipReview, { args: [{ actor: workflowActor(actor), ...body }] });
    } catch (e) {
      // A review's workflow ends once it is closed and its rollout has its decision.
      if (e instanceof WorkflowNotFoundError) {
        throw new ClearwayError('INVALID_STATE', `review ${row.id} is closed`, [{ status: 'closed' }]);
      }
      throw e;
    }
    log.info({ reviewId: row.id, rolloutId: row.rolloutId, decision: body.decision }, 'review closed');
    try {
      await rolloutHandle(deps, row.rolloutId).executeUpdate(reviewSettled, { args: [{ id: row.id }] });
    } catch (e) {
      // A rollout that ended (or was terminated) cannot apply it; the review's own workflow has the outcome.
      if (!(e instanceof WorkflowNotFoundError)) throw e;
      const now = await findReview(deps, row.id);
      if (now.status === 'open') {
        return {
          ...reviewDetail(now, new Date()),
          status: 'closed' as const,
          findings: info.findings,
          decision: info.decision,
          closedBy: info.closedBy,
        };
      }
    }
    return reviewDetail(await findReview(deps, row.id), new Date());
  },
});
