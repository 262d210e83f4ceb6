import { randomUUID } from 'node:crypto';
import { summarizeBatch } from '../../../activities/rollout';
import { Measurement } from '../../../domain/gate';
import { phaseNamed, type RolloutPlan } from '../../../domain/rollout-plan';
import { ClearwayError } from '../../../errors';
import type { PrismaClient } from '../../../generated/prisma/client';
import { measurementsRecorded } from '../../../workflows/rollout';
import { findRollout, updateRollout } from '../../rollouts';
import { defineRoute } from '../../define-route';
import { MaxMeasurements, MeasurementsAccepted, MeasurementsBody, RolloutParams } from './schemas';

// A bad batch can have every row wrong; the answer names the first few hundred, enough to fix a feed.
const MAX_DETAILS = 500;

type RowProblem = { index: number; path: string; message: string };

/** Every row checked on its own: the measurements, or every problem with the index of its row. */
export function checkRows(plan: RolloutPlan, raw: unknown[]): { rows: Measurement[]; problems: RowProblem[] } {
  const rows: Measurement[] = [];
  const problems: RowProblem[] = [];
  raw.forEach((value, index) => {
    const parsed = Measurement.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push({
          index,
          path: ['body', 'measurements', index, ...issue.path].join('.'),
          message: issue.message,
        });
      }
    } else if (!phaseNamed(plan, parsed.data.phase)) {
      problems.push({
        index,
        path: `body.measurements.${index}.phase`,
        message: `the plan has no phase ${parsed.data.phase}`,
      });
    } else {
      rows.push(parsed.data);
    }
  });
  return { rows, problems };
}

/**
 * Writes one batch as a single statement, so it is stored whole or not at all. Rows travel as one array per column:
 * a statement of 10,000 rows stays far below Postgres's 65,535 bind parameters, and runs in one round trip.
 */
export async function insertMeasurements(
  prisma: PrismaClient,
  batch: { rolloutId: string; batchId: string; by: string; at: Date; rows: Measurement[] },
): Promise<number> {
  const { rows } = batch;
  return prisma.$executeRaw`
    INSERT INTO "Measurement" ("rolloutId", "batchId", "row", "phase", "metric", "value", "sampleSize",
                               "windowStart", "windowEnd", "source", "recordedBy", "recordedAt")
    SELECT ${batch.rolloutId}::uuid, ${batch.batchId}, m.row, m.phase, m.metric, m.value, m.sample_size,
           m.window_start, m.window_end, m.source, ${batch.by}, ${batch.at}::timestamptz
    FROM unnest(
      ${rows.map((_, i) => i)}::int[], ${rows.map((m) => m.phase)}::text[], ${rows.map((m) => m.metric)}::text[],
      ${rows.map((m) => m.value)}::float8[], ${rows.map((m) => m.sampleSize)}::int[],
      ${rows.map((m) => m.windowStart)}::timestamptz[], ${rows.map((m) => m.windowEnd)}::timestamptz[],
      ${rows.map((m) => m.source)}::text[]
    ) AS m(row, phase, metric, value, sample_size, window_start, window_end, source)`;
}

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
    const { rows, problems } = checkRows(plan, raw);
    if (problems.length > 0) {
      const shown = batch
        ? problems
        : problems.map((p) => ({ ...p, path: p.path.replace('body.measurements.0', 'body') }));
      const bad = new Set(problems.map((p) => p.index)).size;
      throw new ClearwayError(
        'VALIDATION_FAILED',
        `${bad} of ${raw.length} measurements are invalid; nothing was recorded`,
        shown.slice(0, MAX_DETAILS),
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
