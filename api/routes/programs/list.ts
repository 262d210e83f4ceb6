import { defineRoute } from '../../define-route';
import { ProgramList } from './schemas';
import { programView } from './store';

/** GET /api/v1/programs: every program with its business figures. */
export const listProgramsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/programs',
  summary: 'Programs and what a delay of their systems costs',
  tags: ['impact'],
  response: ProgramList,
  async handler({ deps }) {
    const rows = await deps.prisma.program.findMany({ orderBy: { id: 'asc' } });
    return { items: rows.map(programView) };
  },
});
