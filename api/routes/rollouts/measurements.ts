import { randomUUID } from 'node:crypto';
import { insertMeasurements, MAX_PROBLEMS_SHOWN, summarizeBatch } from '../../../activities/rollout';
import { checkMeasurements } from '../../../domain/gate';
import type { RolloutPlan } from '../../../domain/rollout-plan';
import { ClearwayError } from '../../../errors';
import { measurementsRecorded } from '../../../workflows/rollout';
import { findRollout, updateRollout } from '../../rollouts';
import { defineRoute } from '../../define-route';
import { MaxMeasurements, MeasurementsAccepted, MeasurementsBody, RolloutParams } from './schemas';

/**
 * POST /api/v1/rollouts/{id}/measurements: one measurement or a batch of up to 10,000. Every row is checked before
 * anything is written; the batch is written in one transaction, then the workflow is told, and judges the gate.
 */
export const recordMeasurementsRoute = defineRoute({
  method: 'post',
  path: '/api/v1/rollouts/{id}/measurements',
  summary: 'Record one measurement or a batch of up to 10,000 (all or nothing)',
  tags: ['rollouts'],
  params: RolloutParams,
  body: MeasurementsBody,
  response: MeasurementsAccepted,
  status: 201,
  // Recorded measurements are read in the rollout's series.
  location: (_accepted, params) => `/api/v1/rollouts/${encodeURIComponent(params.id)}/measurements`,
  roles: ['rollout-lead', 'data-steward', 'operator'],
  bodyLimit: '8mb',
  async handler({ params, body, actor, deps, log }) {
    const batch = 'measurements' in body;
    const raw = batch ? body.measurements : [body];
    if (!Array.isArray(raw) || raw.length === 0 || raw.length > MaxMeasurements) {
      throw new ClearwayError('VALIDATION_FAILED', 'body is invalid', [
        { path: 'body.measurements', message: `an array of 1 to ${MaxMeasurements} measurements` },
      ]);
    }
    const row = await findRollout(deps, params.id);
    if (row.status === 'completed' || row.status === 'rolled-back') {
      throw new ClearwayError('ROLLOUT_NOT_ACTIVE', `rollout ${row.id} is ${row.status} and takes no measurements`, [
        { status: row.status },
      ]);
    }
    const plan = row.plan as unknown as RolloutPlan;
    const { rows, problems } = checkMeasurements(plan, raw);
    if (problems.length > 0) {
      const shown = problems.map((p) => ({
        ...p,
        path: batch ? `body.${p.path}` : p.path.replace('measurements.0', 'body'),
      }));
      const bad = new Set(problems.map((p) => p.index)).size;
      throw new ClearwayError(
        'VALIDATION_FAILED',
        `${bad} of ${raw.length} measurements are invalid; nothing was recorded`,
        shown.slice(0, MAX_PROBLEMS_SHOWN),
      );
    }
    const batchId = `api-${randomUUID()}`;
    await insertMeasurements(deps.prisma, { rolloutId: row.id, batchId, by: actor.id, at: new Date(), rows });
    const summary = summarizeBatch(plan, batchId, rows);
    await updateRollout(deps, row.id, (h) => h.signal(measurementsRecorded, summary));
    log.info({ rolloutId: row.id, batchId, count: rows.length }, 'measurements recorded');
    return { batchId, count: rows.length, reviewTriggers: summary.breaches.length };
  },
});
