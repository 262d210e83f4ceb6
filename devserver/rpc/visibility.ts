import { temporal } from '../proto';
import type { Engine } from '../engine/engine';
import { executionInfo } from '../engine/read';
import type { Handler } from '../grpc/server';
import type { Run } from '../engine/run';

/** Runs of a namespace, newest first. */
function runsOf(e: Engine, namespace: string): Run[] {
  return [...e.runs.values()].filter((r) => r.namespace === namespace).sort((a, b) => b.startMs - a.startMs || (a.runId < b.runId ? 1 : -1));
}

function page<T>(items: T[], token: Uint8Array | null | undefined, size: number | null | undefined): { items: T[]; next?: Buffer } {
  const start = token?.length ? Number(Buffer.from(token).toString()) || 0 : 0;
  const n = size && size > 0 ? size : 1000;
  const slice = items.slice(start, start + n);
  return { items: slice, next: start + n < items.length ? Buffer.from(String(start + n)) : undefined };
}

/** Visibility: list and count the executions of a namespace. */
export function visibilityHandlers(e: Engine): Record<string, Handler> {
  return {
    ListWorkflowExecutions: (req: temporal.api.workflowservice.v1.IListWorkflowExecutionsRequest) => {
      const ns = e.namespace(req.namespace).name;
      const { items, next } = page(runsOf(e, ns), req.nextPageToken, req.pageSize);
      return { executions: items.map(executionInfo), nextPageToken: next };
    },
    CountWorkflowExecutions: (req: temporal.api.workflowservice.v1.ICountWorkflowExecutionsRequest) => {
      const ns = e.namespace(req.namespace).name;
      return { count: runsOf(e, ns).length };
    },
  };
}
