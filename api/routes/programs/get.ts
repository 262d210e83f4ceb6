import { ClearwayError } from '../../../errors';
import { defineRoute } from '../../define-route';
import { Program, ProgramParams } from './schemas';
import { programView } from './store';

/** GET /api/v1/programs/{id}: one program's profile and figures. */
export const getProgramRoute = defineRoute({
  method: 'get',
  path: '/api/v1/programs/{id}',
  summary: 'A program: business profile, delay exposure, churn loss, spend against budget',
  tags: ['impact'],
  params: ProgramParams,
  response: Program,
  async handler({ params, deps }) {
    const row = await deps.prisma.program.findUnique({ where: { id: params.id } });
    if (!row) throw new ClearwayError('NOT_FOUND', `no program ${params.id}`);
    return programView(row);
  },
});
