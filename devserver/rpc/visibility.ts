import { status } from '@grpc/grpc-js';
import { long, temporal, timestamp, timestampMs } from '../proto';
import { queueKey, stickyQueueKey, type Engine } from '../engine/engine';
import { ServerError, invalidArgument, notFound } from '../engine/errors';
import { executionInfo } from '../engine/read';
import { executionStatus, type Run } from '../engine/run';
import type { Handler } from '../grpc/server';
import { parseQuery } from '../visibility/query';
import { STATUS_NAMES, SYSTEM_ATTRIBUTES, matches, resolveTypes, sortRuns } from '../visibility/search';

const DEFAULT_PAGE = 1000;

/** Runs of a namespace that match a query, in the query's order. */
export function selectRuns(e: Engine, namespace: string, query: string | null | undefined): { runs: Run[]; groupBy: string[] } {
  const q = parseQuery(query);
  const types = resolveTypes(q, e.searchAttributes);
  const runs = [...e.runs.values()].filter((r) => r.namespace === namespace && matches(r, q.where, types));
  return { runs: sortRuns(runs, q, types), groupBy: q.groupBy };
}

/** One page of `items` by the offset a next-page token holds (1,000 to a page unless `size` says otherwise). */
export function page<T>(items: T[], token: Uint8Array | null | undefined, size: number | null | undefined): { items: T[]; next?: Buffer } {
  let start = 0;
  if (token?.length) {
    start = Number(Buffer.from(token).toString());
    if (!Number.isInteger(start) || start < 0) throw invalidArgument('Invalid NextPageToken.');
  }
  const n = size && size > 0 ? size : DEFAULT_PAGE;
  return { items: items.slice(start, start + n), next: start + n < items.length ? Buffer.from(String(start + n)) : undefined };
}

const keyword = (s: string) => ({ metadata: { encoding: Buffer.from('json/plain'), type: Buffer.from('Keyword') }, data: Buffer.from(JSON.stringify(s)) });

/** Visibility (list, count, scan, open/closed) and the search-attribute registry. */
export function visibilityHandlers(e: Engine): Record<string, Handler> {
  const list = (req: { namespace?: string | null; query?: string | null; pageSize?: number | null; nextPageToken?: Uint8Array | null }) => {
    const ns = e.namespace(req.namespace).name;
    const { items, next } = page(selectRuns(e, ns, req.query).runs, req.nextPageToken, req.pageSize);
    return { executions: items.map(executionInfo), nextPageToken: next };
  };
  const legacy = (open: boolean) => (req: temporal.api.workflowservice.v1.IListOpenWorkflowExecutionsRequest & { statusFilter?: { status?: number } }) => {
    const ns = e.namespace(req.namespace).name;
    const from = timestampMs(req.startTimeFilter?.earliestTime);
    const to = timestampMs(req.startTimeFilter?.latestTime) || Infinity;
    const runs = [...e.runs.values()]
      .filter((r) => r.namespace === ns && (r.state === 'running') === open)
      .filter((r) => r.startMs >= from && r.startMs <= to)
      .filter((r) => !req.executionFilter?.workflowId || r.workflowId === req.executionFilter.workflowId)
      .filter((r) => !req.typeFilter?.name || r.start.workflowType?.name === req.typeFilter.name)
      .filter((r) => !req.statusFilter?.status || executionStatus(r.state) === req.statusFilter.status)
      .sort((a, b) => b.startMs - a.startMs);
    const { items, next } = page(runs, req.nextPageToken, req.maximumPageSize);
    return { executions: items.map(executionInfo), nextPageToken: next };
  };
  const checkName = (name: string) => {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw invalidArgument(`Search attribute name ${name} is not valid.`);
    if (name in SYSTEM_ATTRIBUTES) throw invalidArgument(`Search attribute ${name} is reserved by system.`);
  };
  return {
    ListWorkflowExecutions: list,
    ScanWorkflowExecutions: list,
    ListOpenWorkflowExecutions: legacy(true),
    ListClosedWorkflowExecutions: legacy(false),
    CountWorkflowExecutions: (req: temporal.api.workflowservice.v1.ICountWorkflowExecutionsRequest) => {
      const ns = e.namespace(req.namespace).name;
      const { runs, groupBy } = selectRuns(e, ns, req.query);
      if (!groupBy.length) return { count: long(runs.length) };
      const counts = new Map<number, number>();
      for (const r of runs) {
        const status = executionStatus(r.state);
        counts.set(status, (counts.get(status) ?? 0) + 1);
      }
      // Groups come in status order (Running first), as the real server's SQL visibility returns them.
      const groups = [...counts].sort(([a], [b]) => a - b);
      return { count: long(runs.length), groups: groups.map(([status, count]) => ({ groupValues: [keyword(STATUS_NAMES[status])], count: long(count) })) };
    },
    GetSearchAttributes: () => ({ keys: { ...SYSTEM_ATTRIBUTES, ...Object.fromEntries(e.searchAttributes) } }),
    AddSearchAttributes: (req: temporal.api.operatorservice.v1.IAddSearchAttributesRequest) => {
      const add = Object.entries(req.searchAttributes ?? {});
      if (!add.length) throw invalidArgument('Search attributes are not set on request.');
      for (const [name, type] of add) {
        checkName(name);
        if (!type) throw invalidArgument(`Unknown search attribute type for ${name}.`);
        const existing = e.searchAttributes.get(name);
        if (existing !== undefined && existing !== type)
          throw new ServerError(status.ALREADY_EXISTS, `Search attribute ${name} already exists with a different type.`);
      }
      e.transact((tx) => {
        for (const [name, type] of add) e.searchAttributes.set(name, Number(type));
        tx.searchAttributesChanged = true;
      });
      return {};
    },
    RemoveSearchAttributes: (req: temporal.api.operatorservice.v1.IRemoveSearchAttributesRequest) => {
      for (const name of req.searchAttributes ?? []) if (!e.searchAttributes.has(name)) throw notFound(`Search attribute ${name} doesn't exist.`);
      e.transact((tx) => {
        for (const name of req.searchAttributes ?? []) e.searchAttributes.delete(name);
        tx.searchAttributesChanged = true;
      });
      return {};
    },
    ListSearchAttributes: () => ({
      customAttributes: Object.fromEntries(e.searchAttributes),
      systemAttributes: SYSTEM_ATTRIBUTES,
      storageSchema: {},
    }),
    DescribeTaskQueue: (req: temporal.api.workflowservice.v1.IDescribeTaskQueueRequest) => {
      const ns = e.namespace(req.namespace).name;
      if (!req.taskQueue?.name) throw invalidArgument('TaskQueue is not set on request.');
      const activity = req.taskQueueType === temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;
      const sticky = req.taskQueue.kind === temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_STICKY;
      const key = sticky ? stickyQueueKey(ns, req.taskQueue.name) : queueKey(ns, req.taskQueue.name);
      const pollers = (activity ? e.activityQueues : e.workflowQueues).pollers(key);
      const backlog = (activity ? e.activityQueues : e.workflowQueues).backlog(key).length;
      return {
        pollers: [...pollers].map(([identity, at]) => ({ identity, lastAccessTime: timestamp(at), ratePerSecond: 100000 })),
        taskQueueStatus: { backlogCountHint: long(backlog), readLevel: long(0), ackLevel: long(0), ratePerSecond: 100000 },
        stats: { approximateBacklogCount: long(backlog) },
      };
    },
  };
}
