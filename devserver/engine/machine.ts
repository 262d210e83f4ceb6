import { internal } from './errors';

type Targets<S> = S | readonly S[];

/** A declared state machine: (state, action) pairs and the states each may lead to. */
export interface Machine<S extends string, A extends string> {
  /** The next state; throws INTERNAL for an undeclared pair or a target it may not reach. */
  next(from: S, action: A, to?: S): S;
  /** Whether the pair is declared. */
  allows(from: S, action: A): boolean;
}

/** Builds a machine from `[from, action, to | [to...]]` rows; the first target is the default. */
export function machine<S extends string, A extends string>(
  name: string,
  rows: readonly (readonly [S, A, Targets<S>])[],
): Machine<S, A> {
  const table = new Map<string, readonly S[]>();
  for (const [from, action, to] of rows) table.set(`${from}:${action}`, (Array.isArray(to) ? to : [to]) as S[]);
  return {
    next(from, action, to) {
      const targets = table.get(`${from}:${action}`);
      if (!targets) throw internal(`${name}: illegal transition ${action} from ${from}`);
      if (to === undefined) return targets[0];
      if (!targets.includes(to)) throw internal(`${name}: ${action} from ${from} cannot lead to ${to}`);
      return to;
    },
    allows(from, action) {
      return table.has(`${from}:${action}`);
    },
  };
}

export type ExecutionState = 'running' | 'completed' | 'failed' | 'canceled' | 'terminated' | 'timedOut' | 'continuedAsNew';
export type ExecutionAction = 'complete' | 'fail' | 'cancel' | 'terminate' | 'timeOut' | 'continueAsNew';

/** A run is open until exactly one closing event. */
export const executionMachine = machine<ExecutionState, ExecutionAction>('execution', [
  ['running', 'complete', 'completed'],
  ['running', 'fail', 'failed'],
  ['running', 'cancel', 'canceled'],
  ['running', 'terminate', 'terminated'],
  ['running', 'timeOut', 'timedOut'],
  ['running', 'continueAsNew', 'continuedAsNew'],
]);

export type WftState = 'none' | 'scheduled' | 'started';
export type WftAction = 'schedule' | 'start' | 'complete' | 'fail' | 'timeOut' | 'forceClose';

/** One workflow task per run at a time; failures and timeouts go back to none and are rescheduled. */
export const workflowTaskMachine = machine<WftState, WftAction>('workflow task', [
  ['none', 'schedule', 'scheduled'],
  ['scheduled', 'start', 'started'],
  ['scheduled', 'timeOut', 'none'],
  ['scheduled', 'forceClose', 'none'],
  ['started', 'complete', 'none'],
  ['started', 'fail', 'none'],
  ['started', 'timeOut', 'none'],
  ['started', 'forceClose', 'none'],
]);

export type ActivityState = 'scheduled' | 'started' | 'cancelRequested' | 'closed';
export type ActivityAction = 'start' | 'complete' | 'fail' | 'timeOut' | 'requestCancel' | 'cancel' | 'retry';

/** A failed or timed-out attempt returns to scheduled (retry) or closes; cancel of an unstarted one closes at once. */
export const activityMachine = machine<ActivityState, ActivityAction>('activity', [
  ['scheduled', 'start', 'started'],
  ['scheduled', 'timeOut', 'closed'],
  ['scheduled', 'requestCancel', 'closed'],
  ['started', 'complete', 'closed'],
  ['started', 'fail', 'closed'],
  ['started', 'retry', 'scheduled'],
  ['started', 'timeOut', 'closed'],
  ['started', 'requestCancel', 'cancelRequested'],
  ['cancelRequested', 'complete', 'closed'],
  ['cancelRequested', 'fail', 'closed'],
  ['cancelRequested', 'timeOut', 'closed'],
  ['cancelRequested', 'cancel', 'closed'],
  ['cancelRequested', 'requestCancel', 'cancelRequested'],
]);

export type TimerState = 'started' | 'closed';
export type TimerAction = 'fire' | 'cancel';

/** A timer fires or is canceled, once. */
export const timerMachine = machine<TimerState, TimerAction>('timer', [
  ['started', 'fire', 'closed'],
  ['started', 'cancel', 'closed'],
]);

export type UpdateState = 'admitted' | 'accepted' | 'completed' | 'rejected' | 'aborted';
export type UpdateAction = 'accept' | 'reject' | 'complete' | 'abort';

/** An update is admitted, then accepted and completed, or rejected; closing the run aborts what is left. */
export const updateMachine = machine<UpdateState, UpdateAction>('update', [
  ['admitted', 'accept', 'accepted'],
  ['admitted', 'reject', 'rejected'],
  ['admitted', 'abort', 'aborted'],
  ['accepted', 'complete', 'completed'],
  ['accepted', 'abort', 'aborted'],
]);
