import type { WorkflowHandle } from '@temporalio/client';
import type { z } from 'zod';
import type { Actor } from '../../../domain/actor';
import type { Role } from '../../../domain/roles';
import {
  type cutover,
  type CutoverProcessView,
  abortCutover,
  decommissionCutover,
  freezeCutover,
  rehearseFallback,
  rollbackCutover,
  switchCutover,
} from '../../../workflows/cutover';
import { updateCutover, workflowActor } from '../../cutovers';
import { defineRoute } from '../../define-route';
import { Cutover, CutoverParams, ReasonBody, RehearsalBody } from './schemas';

const route = <B extends z.ZodType>(
  action: string,
  summary: string,
  roles: readonly Role[],
  body: B,
  run: (h: WorkflowHandle<typeof cutover>, actor: Actor, body: z.output<B>) => Promise<CutoverProcessView>,
) =>
  defineRoute({
    method: 'post',
    path: `/api/v1/cutovers/{id}/${action}`,
    summary,
    tags: ['cutovers'],
    params: CutoverParams,
    body,
    response: Cutover,
    roles,
    handler: ({ params, body: input, actor, deps }) =>
      updateCutover(deps, params.id, (h) => run(h, workflowActor(actor), input as z.output<B>)),
  });

/** POST /api/v1/cutovers/{id}/rehearse-fallback: records a rehearsal of every fallback step and whether it passed. */
export const rehearseFallbackRoute = route(
  'rehearse-fallback',
  'Record a rehearsal of the fallback procedure',
  ['rollout-lead', 'integration-specialist', 'operations'],
  RehearsalBody,
  (h, actor, body) => h.executeUpdate(rehearseFallback, { args: [{ actor, steps: body.steps }] }),
);

/** POST /api/v1/cutovers/{id}/freeze: freezes both systems once the cutover is ready. */
export const freezeCutoverRoute = route(
  'freeze',
  'Freeze both systems (the cutover must be ready)',
  ['rollout-lead'],
  ReasonBody.partial(),
  (h, actor) => h.executeUpdate(freezeCutover, { args: [{ actor }] }),
);

/** POST /api/v1/cutovers/{id}/switch: the rollout lead's request or the CCB chair's approval; both switch. */
export const switchCutoverRoute = route(
  'switch',
  'Request (rollout lead) or approve (CCB chair) the switch; refused unless frozen, ready and rehearsed',
  ['rollout-lead', 'ccb-chair'],
  ReasonBody.partial(),
  (h, actor) => h.executeUpdate(switchCutover, { args: [{ actor }] }),
);

/** POST /api/v1/cutovers/{id}/rollback: returns to the legacy system after the switch. */
export const rollbackCutoverRoute = route(
  'rollback',
  'Roll back to the legacy system',
  ['rollout-lead', 'ccb-chair'],
  ReasonBody,
  (h, actor, body) => h.executeUpdate(rollbackCutover, { args: [{ actor, reason: body.reason }] }),
);

/** POST /api/v1/cutovers/{id}/abort: stops a cutover that has not switched. */
export const abortCutoverRoute = route(
  'abort',
  'Abort the cutover before the switch',
  ['rollout-lead', 'ccb-chair'],
  ReasonBody,
  (h, actor, body) => h.executeUpdate(abortCutover, { args: [{ actor, reason: body.reason }] }),
);

/** POST /api/v1/cutovers/{id}/decommission: retires the legacy system after a clean watch period. */
export const decommissionCutoverRoute = route(
  'decommission',
  'Decommission the legacy system after the watch period',
  ['rollout-lead'],
  ReasonBody.partial(),
  (h, actor) => h.executeUpdate(decommissionCutover, { args: [{ actor }] }),
);
