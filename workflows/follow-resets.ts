import * as wf from '@temporalio/workflow';

/**
 * Keeps a workflow's projection with it through a reset. The record activity answers with the run it executed for;
 * in a run a reset started, the answers replayed from before the reset point name the ended run. Once this run
 * executes past that point, `reproject` is called once so the projection shows the state the reset went back to,
 * not the ended run's.
 *
 * Whether to re-project is recorded in the history as the marker of a numbered patch: replaying the copied prefix
 * finds no marker there and does nothing, replaying the run after it finds the marker where the write was made; a
 * second reset numbers its marker one higher.
 *
 * Returns `watch`, through which each record activity's answer passes: it hears the answer beside the caller's own
 * chain and hands back the very same promise, so histories recorded before see their promises settle as before.
 */
export function followResets(reproject: () => void): <T>(answer: Promise<T>) => Promise<T> {
  let writtenBy: string | undefined;
  let reprojections = 0;
  let checkedAt = -1;
  // Replaying, every activation asks: a replayer may know the run only by the id the copied start event holds (the
  // offline replayer does), and asking where no marker is records nothing. Executing, only a run behind its
  // projection asks, since asking then records the marker.
  const due = () => {
    const info = wf.workflowInfo();
    if (info.historyLength === checkedAt) return false;
    return info.unsafe.isReplaying || (writtenBy !== undefined && writtenBy !== info.runId);
  };
  void (async () => {
    for (;;) {
      await wf.condition(due);
      checkedAt = wf.workflowInfo().historyLength;
      if (wf.patched(`clearway-reproject-${reprojections + 1}`)) {
        reprojections++;
        writtenBy = wf.workflowInfo().runId;
        reproject();
      }
    }
  })();
  const hear = (answer: unknown) => {
    // Answers recorded before activities named their run are plain strings and leave this be.
    const runId = (answer as { runId?: unknown } | null)?.runId;
    if (typeof runId === 'string') writtenBy = runId;
  };
  return (answer) => {
    void answer.then(hear, () => undefined);
    return answer;
  };
}
