// Workflow interceptors the worker bundles beside the workflows (WorkerOptions.interceptors.workflowModules). Not a
// workflow. Deterministic: it only calls sinks, which leave the sandbox, produce no commands and are not called
// while a history replays, so a replayed run is never counted twice.
import * as wf from '@temporalio/workflow';

/** How a run ended, as the worker saw it; terminations and timeouts happen on the server and are not seen here. */
export type WorkflowOutcome = 'completed' | 'failed' | 'canceled' | 'continued_as_new';

/** What the interceptor reports; the worker turns it into counters by workflow type. */
export interface WorkflowMetricsSinks extends wf.Sinks {
  workflowMetrics: {
    started(): void;
    closed(outcome: WorkflowOutcome): void;
  };
}

const { workflowMetrics } = wf.proxySinks<WorkflowMetricsSinks>();

/** The outcome an error thrown out of a workflow function gives its run, or null when it only fails the task. */
export function outcomeOf(err: unknown): WorkflowOutcome | null {
  if (err instanceof wf.ContinueAsNew) return 'continued_as_new';
  if (wf.isCancellation(err)) return 'canceled';
  // Any other error fails the workflow task, which the server retries: the run goes on and has no outcome yet.
  if (err instanceof wf.TemporalFailure) return 'failed';
  return null;
}

class MetricsInbound implements wf.WorkflowInboundCallsInterceptor {
  async execute(
    input: wf.WorkflowExecuteInput,
    next: wf.Next<wf.WorkflowInboundCallsInterceptor, 'execute'>,
  ): Promise<unknown> {
    workflowMetrics.started();
    try {
      const result = await next(input);
      workflowMetrics.closed('completed');
      return result;
    } catch (err) {
      const outcome = outcomeOf(err);
      if (outcome) workflowMetrics.closed(outcome);
      throw err;
    }
  }
}

export const interceptors = (): wf.WorkflowInterceptors => ({ inbound: [new MetricsInbound()] });
