// Workflow definitions bundled by the worker. Deterministic code only: no I/O, no clocks, no randomness.

/**
 * Completes immediately. Operators (and tests) start it to confirm a worker polls the task queue and
 * Temporal dispatches work to it.
 */
export async function healthcheck(): Promise<'ok'> {
  return 'ok';
}

export { changeRequest } from './change-request';
export { escalation } from './escalation';
export { rollout, stewardshipReview } from './rollout';
export { cutover } from './cutover';
