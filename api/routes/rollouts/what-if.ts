import { whatIf, type Observation } from '../../../domain/gate';
import { validateRolloutPlan } from '../../../domain/rollout-plan';
import { ClearwayError } from '../../../errors';
import { findRollout } from '../../rollouts';
import { defineRoute } from '../../define-route';
import { RolloutParams, WhatIfBody, WhatIfResult, type Rollout } from './schemas';

/**
 * POST /api/v1/rollouts/{id}/what-if: replays the rollout's recorded measurements under a candidate plan and answers
 * which gates would have passed or failed, and when. It reads only; nothing is written and the workflow is not told.
 */
export const whatIfRolloutRoute = defineRoute({
  method: 'post',
  path: '/api/v1/rollouts/{id}/what-if',
  summary: 'Replay recorded measurements under a candidate plan (changes nothing)',
  tags: ['rollouts'],
  params: RolloutParams,
  body: WhatIfBody,
  response: WhatIfResult,
  async handler({ params, body, deps }) {
    const plan = validateRolloutPlan(body.plan);
    if (!plan.ok) {
      throw new ClearwayError('VALIDATION_FAILED', `plan: ${plan.message}`, [
        { path: `body.plan.${plan.path}`, message: plan.problem },
      ]);
    }
    const row = await findRollout(deps, params.id);
    const rows = await deps.prisma.measurement.findMany({
      where: { rolloutId: row.id },
      select: { phase: true, metric: true, value: true, sampleSize: true, windowEnd: true },
      orderBy: { id: 'asc' },
    });
    const observations = rows.map(
      (r): Observation => ({ ...r, metric: r.metric as Observation['metric'], windowEnd: r.windowEnd.toISOString() }),
    );
    // A phase's first entry is when its soak began; a phase entered again after a rollback keeps its first.
    const phaseEnteredAt: Record<string, string> = {};
    for (const visit of (row.view as Rollout).visits) phaseEnteredAt[visit.phase] ??= visit.enteredAt;
    return whatIf(plan.policy, observations, { rolloutStartedAt: row.startedAt.toISOString(), phaseEnteredAt });
  },
});
