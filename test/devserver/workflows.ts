// Workflows that exercise the embedded server through the real SDK.
import * as wf from '@temporalio/workflow';
import type * as activities from './activities';

const acts = wf.proxyActivities<typeof activities>({ startToCloseTimeout: '10s', retry: { initialInterval: '50ms', backoffCoefficient: 1 } });

export const unblock = wf.defineSignal<[string]>('unblock');
export const state = wf.defineQuery<string>('state');
export const failingQuery = wf.defineQuery<string>('failingQuery');
export const setValue = wf.defineUpdate<string, [string]>('setValue');

/** Returns its input: the smallest workflow. */
export async function echo(x: string): Promise<string> {
  return x;
}

/** Calls one activity. */
export async function greet(name: string): Promise<string> {
  return await acts.greet(name);
}

/** Waits for a signal, answering queries and updates meanwhile. */
export async function waiter(): Promise<string> {
  let value = 'initial';
  const received: string[] = [];
  wf.setHandler(state, () => value);
  wf.setHandler(failingQuery, () => {
    throw new Error('query handler failed on purpose');
  });
  wf.setHandler(unblock, (s) => void received.push(s));
  wf.setHandler(
    setValue,
    (v) => {
      value = v;
      return `set:${v}`;
    },
    {
      validator: (v) => {
        if (v === 'bad') throw new Error('bad value refused');
      },
    },
  );
  await wf.condition(() => received.length > 0);
  return `${value}/${received.join(',')}`;
}

/** Sleeps, then returns. */
export async function sleeper(ms: number): Promise<string> {
  await wf.sleep(ms);
  return 'slept';
}

/** Activity, timer and signal together. */
export async function mixed(): Promise<string> {
  let got = '';
  wf.setHandler(unblock, (s) => void (got = s));
  const a = await acts.greet('mix');
  await wf.sleep(100);
  await wf.condition(() => got !== '');
  return `${a}|${got}`;
}
