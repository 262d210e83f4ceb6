// The bundle the rollout workflow suite runs: the rollout workflows, and a stand-in for the escalation ladder
// that records what it was started with (the ladder itself is tested in its own suite).
import * as wf from '@temporalio/workflow';

export { rollout, stewardshipReview } from '../../workflows/rollout';

/** Stand-in escalation: stays open until signalled, so a test can see that, and with what, it was started. */
export async function escalation(input: unknown): Promise<unknown> {
  wf.setHandler(wf.defineQuery<unknown>('input'), () => input);
  await wf.condition(() => false);
  return input;
}
