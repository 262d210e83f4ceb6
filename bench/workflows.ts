// Workflows measured by the embedded server benchmark.
import * as wf from '@temporalio/workflow';
import type * as activities from './activities';

const { touch } = wf.proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });
export const go = wf.defineSignal('go');

/** One workflow task and done. */
export async function oneTask(x: number): Promise<number> {
  return x;
}

/** One activity, one 100 ms timer and one signal. */
export async function activityTimerSignal(): Promise<string> {
  let signalled = false;
  wf.setHandler(go, () => void (signalled = true));
  const r = await touch();
  await wf.sleep(100);
  await wf.condition(() => signalled);
  return r;
}
