import type { CutoverProcessView } from '../../../workflows/cutover';
import { findCutover, publicView } from '../../cutovers';
import { defineRoute } from '../../define-route';
import { Cutover, CutoverParams } from './schemas';

/** GET /api/v1/cutovers/{id}: state, windows with their rates, clean streak, rehearsal and switch approvals. */
export const getCutoverRoute = defineRoute({
  method: 'get',
  path: '/api/v1/cutovers/{id}',
  summary: 'A cutover: state, windows with rates, clean streak',
  tags: ['cutovers'],
  params: CutoverParams,
  response: Cutover,
  async handler({ params, deps }) {
    const row = await findCutover(deps, params.id);
    return publicView(row.view as unknown as CutoverProcessView);
  },
});
