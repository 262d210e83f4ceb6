// A workflow that reconciles one window, with the activity options the cutover workflow uses.
import * as wf from '@temporalio/workflow';
import type { ReconcileInput, ReconcileResult } from '../../activities/reconcile';
import type { createReconcileActivities } from '../../activities/reconcile';

const { reconcileWindow } = wf.proxyActivities<ReturnType<typeof createReconcileActivities>>({
  taskQueue: 'cutover-reconcile-test',
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 seconds',
  retry: { initialInterval: '100 milliseconds', backoffCoefficient: 1, maximumAttempts: 5 },
});

/** Reconciles one window and returns what the activity reported. */
export async function reconcileOnce(input: ReconcileInput): Promise<ReconcileResult> {
  return reconcileWindow(input);
}
