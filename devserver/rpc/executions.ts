import { EventType, temporal } from '../proto';
import type { Engine } from '../engine/engine';
import { invalidArgument } from '../engine/errors';
import { describeRun, getHistory, getHistoryReverse } from '../engine/read';
import { awaitUpdate, admitUpdate } from '../engine/updates';
import { queryWorkflow } from '../engine/queries';
import { requestCancelRun, signalRun, startWorkflow, terminateRun } from '../engine/workflows';
import type { CallContext, Handler } from '../grpc/server';
import { executeMultiOperation } from './multi-operation';
import { resetRun } from '../engine/reset';

const UPDATE_WAIT_MS = 20_000;
const QUERY_WAIT_MS = 30_000;

/** How long a long poll may wait: its bound, shortened to fit the caller's deadline. */
export function waitBound(ctx: CallContext, boundMs: number): number {
  return Math.max(0, Math.min(boundMs, ctx.remainingMs() - 1000));
}

/** Calls about one workflow execution: start, signal, cancel, terminate, describe, history, query, update, update-with-start, reset. */
export function executionHandlers(e: Engine): Record<string, Handler> {
  return {
    StartWorkflowExecution: (req: temporal.api.workflowservice.v1.IStartWorkflowExecutionRequest) =>
      e.transact((tx) => {
        const { run, started } = startWorkflow(e, tx, req);
        return { runId: run.runId, started };
      }),

    SignalWithStartWorkflowExecution: (req: temporal.api.workflowservice.v1.ISignalWithStartWorkflowExecutionRequest) =>
      e.transact((tx) => {
        const ns = e.namespace(req.namespace).name;
        e.checkId(req.signalName, 'SignalName');
        e.requireBlob(req.signalInput, { namespace: ns, workflowId: req.workflowId, operation: 'SignalWithStartWorkflowExecution' });
        const current = req.workflowId ? e.currentRun(ns, req.workflowId) : undefined;
        const signal = { signalName: req.signalName, input: req.signalInput, identity: req.identity, header: req.header };
        if (current?.state === 'running' && req.workflowIdConflictPolicy !== 3) {
          signalRun(e, tx, current, { ...signal, requestId: req.requestId });
          return { runId: current.runId, started: false };
        }
        const { run, started } = startWorkflow(e, tx, { ...req, workflowIdConflictPolicy: req.workflowIdConflictPolicy || 2 } as any, [
          {
            eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
            attributes: { signalName: req.signalName, input: req.signalInput ?? undefined, identity: req.identity ?? '', header: req.header ?? undefined },
          },
        ]);
        return { runId: run.runId, started };
      }),

    SignalWorkflowExecution: (req: temporal.api.workflowservice.v1.ISignalWorkflowExecutionRequest) =>
      e.transact((tx) => {
        const ns = e.namespace(req.namespace).name;
        e.checkId(req.signalName, 'SignalName');
        e.requireBlob(req.input, { namespace: ns, ...req.workflowExecution, operation: 'SignalWorkflowExecution' });
        const run = e.findRun(ns, req.workflowExecution);
        signalRun(e, tx, run, req);
        return {};
      }),

    RequestCancelWorkflowExecution: (req: temporal.api.workflowservice.v1.IRequestCancelWorkflowExecutionRequest) =>
      e.transact((tx) => {
        const ns = e.namespace(req.namespace).name;
        const run = e.findRun(ns, req.workflowExecution);
        requestCancelRun(e, tx, run, { identity: req.identity, requestId: req.requestId, reason: req.reason });
        return {};
      }),

    TerminateWorkflowExecution: (req: temporal.api.workflowservice.v1.ITerminateWorkflowExecutionRequest) =>
      e.transact((tx) => {
        const ns = e.namespace(req.namespace).name;
        const run = e.findRun(ns, req.workflowExecution);
        terminateRun(e, tx, run, req.reason ?? '', req.details, req.identity ?? '');
        return {};
      }),

    DescribeWorkflowExecution: (req: temporal.api.workflowservice.v1.IDescribeWorkflowExecutionRequest) => {
      const ns = e.namespace(req.namespace).name;
      return describeRun(e.findRun(ns, req.execution));
    },

    GetWorkflowExecutionHistory: (req: temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryRequest, ctx) => {
      const ns = e.namespace(req.namespace).name;
      return getHistory(e, e.findRun(ns, req.execution), req, ctx.signal, waitBound(ctx, 20_000));
    },

    GetWorkflowExecutionHistoryReverse: (req: temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryReverseRequest) => {
      const ns = e.namespace(req.namespace).name;
      return getHistoryReverse(e.findRun(ns, req.execution), req);
    },

    QueryWorkflow: (req: temporal.api.workflowservice.v1.IQueryWorkflowRequest, ctx) => queryWorkflow(e, req, waitBound(ctx, QUERY_WAIT_MS), ctx.signal),

    UpdateWorkflowExecution: (req: temporal.api.workflowservice.v1.IUpdateWorkflowExecutionRequest, ctx) => {
      const { run, updateId } = e.transact((tx) => admitUpdate(e, tx, req));
      return awaitUpdate(e, run, updateId, req.waitPolicy?.lifecycleStage ?? 0, waitBound(ctx, UPDATE_WAIT_MS), ctx.signal);
    },

    ExecuteMultiOperation: (req: temporal.api.workflowservice.v1.IExecuteMultiOperationRequest, ctx) =>
      executeMultiOperation(e, req, waitBound(ctx, UPDATE_WAIT_MS), ctx.signal),

    PollWorkflowExecutionUpdate: (req: temporal.api.workflowservice.v1.IPollWorkflowExecutionUpdateRequest, ctx) => {
      const ns = e.namespace(req.namespace).name;
      const ref = req.updateRef;
      if (!ref?.updateId) throw invalidArgument('Update id is not set on request.');
      const run = e.findRun(ns, ref.workflowExecution);
      return awaitUpdate(e, run, ref.updateId, req.waitPolicy?.lifecycleStage ?? 0, waitBound(ctx, UPDATE_WAIT_MS), ctx.signal);
    },

    ResetWorkflowExecution: (req: temporal.api.workflowservice.v1.IResetWorkflowExecutionRequest) => e.transact((tx) => resetRun(e, tx, req)),

    DeleteWorkflowExecution: (req: temporal.api.workflowservice.v1.IDeleteWorkflowExecutionRequest) =>
      e.transact((tx) => {
        const ns = e.namespace(req.namespace).name;
        const run = e.findRun(ns, req.workflowExecution);
        if (run.state === 'running') terminateRun(e, tx, run, 'Delete workflow execution', null, '');
        e.cancelAllDeadlines(run);
        e.deleteRun(tx, run);
        return {};
      }),
  };
}
