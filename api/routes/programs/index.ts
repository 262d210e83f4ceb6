import { getProgramRoute } from './get';
import { impactRoute } from './impact';
import { listProgramsRoute } from './list';
import { putProgramRoute } from './put';

/** Programs' business profiles and the money at stake they derive. */
export const programRoutes = [listProgramsRoute, getProgramRoute, putProgramRoute, impactRoute];
