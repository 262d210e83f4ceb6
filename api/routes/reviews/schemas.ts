import { z } from '../../schemas';
import { Review } from '../rollouts/schemas';
import { maxChars } from '../../../domain/text';

/** A review's id: its rollout's workflow id and its number within the rollout. */
export const ReviewId = z
  .string()
  .regex(/^rollout-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-review-[1-9][0-9]{0,5}$/, {
    error: 'a review id such as rollout-<rollout id>-review-1',
  })
  .openapi({ example: 'rollout-0b8f7f1e-5c1a-4d4e-9a57-2f8f6d3c9e10-review-1' });

export const ReviewParams = z.object({ id: ReviewId });

export const ReviewStatus = z.enum(['open', 'closed']);
export const ReviewDecision = z.enum(['continue', 'hold', 'rollback']).openapi('StewardshipReviewDecision');

/** A data-stewardship review as the rollout's activities projected it, with its rollout and whether it ran late. */
export const ReviewDetail = Review.extend({
  rolloutId: z.string(),
  ownerRole: z.string(),
  overdue: z.boolean().openapi({ description: 'Past its deadline while open, now or before it was closed' }),
}).openapi('StewardshipReviewDetail');
export type ReviewDetail = z.infer<typeof ReviewDetail>;

export const ListReviewsQuery = z.object({
  status: ReviewStatus.optional(),
  rollout: z.uuid().optional().openapi({ description: 'Id of the rollout the reviews belong to' }),
  overdue: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ description: 'Reviews that passed their deadline while open (true) or never did (false)' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: maxChars(z.string(), 300).optional().openapi({ description: 'nextCursor of the previous page' }),
});

export const ReviewPage = z
  .object({ items: z.array(ReviewDetail), nextCursor: z.string().nullable() })
  .openapi('StewardshipReviewPage');

export const CloseReviewBody = z
  .strictObject({
    findings: maxChars(z.string().trim().min(1, { error: 'a review closes with findings' }), 10_000),
    decision: ReviewDecision,
  })
  .openapi('CloseStewardshipReview');
