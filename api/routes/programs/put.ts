import { defineRoute } from '../../define-route';
import { Program, ProgramParams, ProgramProfileBody } from './schemas';
import { programView } from './store';

/** PUT /api/v1/programs/{id}: sets a program's whole profile; the change and its author are audited. */
export const putProgramRoute = defineRoute({
  method: 'put',
  path: '/api/v1/programs/{id}',
  summary: "Create or replace a program's business profile",
  tags: ['impact'],
  params: ProgramParams,
  body: ProgramProfileBody,
  response: Program,
  roles: ['admin', 'finance', 'ccb-chair'],
  async handler({ params, body, actor, deps }) {
    const data = { ...body, updatedAt: new Date(), updatedBy: actor.id };
    const [row] = await deps.prisma.$transaction([
      deps.prisma.program.upsert({ where: { id: params.id }, create: { id: params.id, ...data }, update: data }),
      deps.prisma.auditEvent.create({
        data: { actor: actor.id, action: 'PROGRAM_PROFILE_SET', subjectType: 'program', subjectId: params.id, payload: body },
      }),
    ]);
    return programView(row);
  },
});
