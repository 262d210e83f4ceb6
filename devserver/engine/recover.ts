import { num, timestampMs } from '../proto';
import type { Run } from './run';
import type { Store } from '../store/store';
import { recoverActivity } from './activities';
import { queueKey, type Engine, type Tx } from './engine';
import { restoreExtras } from './extras';
import { applyEvent } from './run';
import { deliverableUpdates } from './updates';
import { armRetention, armRunDeadlines } from './workflows';
import { armTimer, armWorkflowTaskTimeout } from './workflow-tasks';

/**
 * Rebuilds the engine from the store: each run's state is folded from its history, then the facts
 * its history lacks are restored, then every deadline and queued task is armed again. Deadlines
 * that passed while the server was down fire at once.
 */
export function recover(e: Engine, store: Store): { runs: number; events: number } {
  let events = 0;
  let maxTaskId = 0;
  let latestMs = 0;
  e.transact((tx) => {
    for (const ns of store.loadNamespaces()) e.namespaces.set(ns.name, ns);
    for (const [name, type] of Object.entries(store.loadSearchAttributes())) e.searchAttributes.set(name, type);
    for (const stored of store.loadRuns()) {
      const run = e.addRun(tx, stored.namespace, stored.workflowId, stored.runId);
      tx.dirty.delete(run);
      for (const ev of stored.events) {
        run.events.push(ev);
        applyEvent(run, ev);
        maxTaskId = Math.max(maxTaskId, num(ev.taskId));
      }
      // A run's events are in time order: its last is its latest.
      latestMs = Math.max(latestMs, timestampMs(stored.events.at(-1)?.eventTime));
      run.persistedEvents = run.events.length;
      run.historySizeBytes = stored.historySizeBytes;
      events += run.events.length;
      restoreExtras(run, stored.extras);
    }
    e.bumpTaskId(maxTaskId);
    // Before any deadline is armed, so a skipping clock does not re-live time its histories already passed.
    e.clock.resumeFrom?.(latestMs);
    for (const run of e.runs.values()) {
      if (run.state !== 'running') {
        armRetention(e, run);
        continue;
      }
      armFoldedRun(e, tx, run);
      if (run.wft.state === 'scheduled') {
        const item = { kind: 'wft' as const, runKey: run.key, scheduledEventId: run.wft.scheduledEventId, attempt: run.wft.attempt };
        tx.after(() => e.workflowQueues.add(queueKey(run.namespace, run.taskQueue), item));
      } else if (run.wft.state === 'started') armWorkflowTaskTimeout(e, run);
      else if (run.buffered.length || deliverableUpdates(run).length) {
        e.flushBuffer(tx, run);
        e.scheduleWorkflowTask(tx, run);
      }
    }
  });
  return { runs: e.runs.size, events };
}

/** Arms what a running run folded from its history has pending: its run deadlines, timers and activities. */
export function armFoldedRun(e: Engine, tx: Tx, run: Run): void {
  armRunDeadlines(e, run);
  for (const timerId of run.timers.keys()) armTimer(e, run, timerId);
  for (const act of run.activities.values()) recoverActivity(e, tx, run, act);
}
