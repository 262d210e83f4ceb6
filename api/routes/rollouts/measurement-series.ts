import { METRICS } from '../../../domain/rollout-plan';
import { findRollout } from '../../rollouts';
import { defineRoute } from '../../define-route';
import { z } from '../../schemas';
import { RolloutParams } from './schemas';
import { maxChars } from '../../../domain/text';

export const MeasurementSeriesQuery = z.object({
  phase: maxChars(z.string().min(1), 100).optional(),
  metric: z.enum(METRICS).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});

export const MeasurementPoint = z
  .object({
    phase: z.string(),
    metric: z.enum(METRICS),
    value: z.number(),
    sampleSize: z.number(),
    windowStart: z.iso.datetime(),
    windowEnd: z.iso.datetime(),
    source: z.string(),
  })
  .openapi('MeasurementPoint');

export const MeasurementSeries = z.object({ items: z.array(MeasurementPoint) }).openapi('MeasurementSeries');

/** GET /api/v1/rollouts/{id}/measurements: the recorded measurements, oldest window first, for charts and audits. */
export const listMeasurementsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/rollouts/{id}/measurements',
  summary: "A rollout's recorded measurements by phase and metric, oldest window first",
  tags: ['rollouts'],
  params: RolloutParams,
  query: MeasurementSeriesQuery,
  response: MeasurementSeries,
  async handler({ params, query, deps }) {
    await findRollout(deps, params.id);
    // The newest `limit` windows, returned oldest first.
    const rows = await deps.prisma.measurement.findMany({
      where: { rolloutId: params.id, phase: query.phase, metric: query.metric },
      orderBy: [{ windowEnd: 'desc' }, { id: 'desc' }],
      take: query.limit,
    });
    return {
      items: rows.reverse().map((r) => ({
        phase: r.phase,
        metric: r.metric as (typeof METRICS)[number],
        value: r.value,
        sampleSize: r.sampleSize,
        windowStart: r.windowStart.toISOString(),
        windowEnd: r.windowEnd.toISOString(),
        source: r.source,
      })),
    };
  },
});
