import { moneyAtStake } from '../../../domain/impact';
import { defineRoute } from '../../define-route';
import { ImpactQuery, MoneyAtStake } from './schemas';
import { profileOf } from './store';

/** GET /api/v1/impact: the money a delay of the given systems puts at stake, across programs. */
export const impactRoute = defineRoute({
  method: 'get',
  path: '/api/v1/impact',
  summary: 'Money at stake when changes to these systems are delayed',
  tags: ['impact'],
  query: ImpactQuery,
  response: MoneyAtStake,
  async handler({ query, deps }) {
    const rows = await deps.prisma.program.findMany();
    return moneyAtStake(rows.map(profileOf), query.systems, query.delayDays);
  },
});
