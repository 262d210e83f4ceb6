import { duration, temporal, long } from '../proto';
import type { Engine } from '../engine/engine';
import { ServerError, invalidArgument } from '../engine/errors';
import type { Limits } from '../engine/limits';
import { status } from '@grpc/grpc-js';
import type { Handler } from '../grpc/server';
import type { NamespaceRecord } from '../store/store';
import { durationMs } from '../proto';

export const SERVER_VERSION = '1.27.2';

/** The NamespaceInfo + config of a namespace, as Describe/List return them. */
function describeNamespace(ns: NamespaceRecord, limits: Limits): temporal.api.workflowservice.v1.IDescribeNamespaceResponse {
  return {
    namespaceInfo: {
      name: ns.name,
      state: temporal.api.enums.v1.NamespaceState.NAMESPACE_STATE_REGISTERED,
      description: ns.description,
      ownerEmail: ns.ownerEmail,
      data: ns.data,
      id: ns.id,
      capabilities: { eagerWorkflowStart: false, syncUpdate: true, asyncUpdate: true, workerPollCompleteOnShutdown: true },
      limits: { blobSizeLimitError: limits.payloadErrorBytes, memoSizeLimitError: limits.payloadErrorBytes },
      supportsSchedules: true,
    } as any,
    config: {
      workflowExecutionRetentionTtl: duration(ns.retentionMs),
      historyArchivalState: temporal.api.enums.v1.ArchivalState.ARCHIVAL_STATE_DISABLED,
      visibilityArchivalState: temporal.api.enums.v1.ArchivalState.ARCHIVAL_STATE_DISABLED,
    },
    replicationConfig: { activeClusterName: 'active', clusters: [{ clusterName: 'active' }] },
    isGlobalNamespace: false,
    failoverVersion: long(0),
  };
}

/** Cluster-level calls: system info, namespaces, cluster info, health. */
export function clusterHandlers(e: Engine, persistence: string): Record<string, Handler> {
  return {
    GetSystemInfo: () => ({
      serverVersion: SERVER_VERSION,
      capabilities: {
        signalAndQueryHeader: true,
        internalErrorDifferentiation: true,
        activityFailureIncludeHeartbeat: true,
        supportsSchedules: true,
        encodedFailureAttributes: true,
        buildIdBasedVersioning: false,
        upsertMemo: true,
        eagerWorkflowStart: false,
        sdkMetadata: true,
        countGroupByExecutionStatus: true,
        nexus: false,
      },
    }),
    GetClusterInfo: () => ({
      supportedClients: {},
      serverVersion: SERVER_VERSION,
      clusterId: 'clearway-embedded',
      versionInfo: { current: { version: SERVER_VERSION } },
      clusterName: 'active',
      historyShardCount: 1,
      persistenceStore: persistence,
      visibilityStore: persistence,
      failoverVersionIncrement: 10,
      initialFailoverVersion: 1,
    }),
    DescribeNamespace: (req: temporal.api.workflowservice.v1.IDescribeNamespaceRequest) => {
      if (req.id) {
        const ns = [...e.namespaces.values()].find((n) => n.id === req.id);
        if (!ns) throw new ServerError(status.NOT_FOUND, `Namespace ${req.id} is not found.`);
        return describeNamespace(ns, e.limits);
      }
      return describeNamespace(e.namespace(req.namespace), e.limits);
    },
    ListNamespaces: (req: temporal.api.workflowservice.v1.IListNamespacesRequest) => {
      const all = [...e.namespaces.values()].sort((a, b) => a.name.localeCompare(b.name));
      const start = req.nextPageToken?.length ? Number(Buffer.from(req.nextPageToken).toString()) : 0;
      const size = req.pageSize && req.pageSize > 0 ? req.pageSize : 100;
      const page = all.slice(start, start + size);
      return {
        namespaces: page.map((n) => describeNamespace(n, e.limits)),
        nextPageToken: start + size < all.length ? Buffer.from(String(start + size)) : undefined,
      };
    },
    RegisterNamespace: (req: temporal.api.workflowservice.v1.IRegisterNamespaceRequest) => {
      if (!req.namespace) throw invalidArgument('Namespace not set on request.');
      if (e.namespaces.has(req.namespace)) throw new ServerError(status.ALREADY_EXISTS, 'Namespace already exists.');
      const retentionMs = durationMs(req.workflowExecutionRetentionPeriod) || e.defaultRetentionMs;
      e.transact((tx) => {
        const ns = e.ensureNamespace(tx, req.namespace!, retentionMs, req.description ?? '');
        ns.ownerEmail = req.ownerEmail ?? '';
        ns.data = { ...(req.data ?? {}) };
      });
      return {};
    },
    UpdateNamespace: (req: temporal.api.workflowservice.v1.IUpdateNamespaceRequest) => {
      const ns = e.namespace(req.namespace);
      e.transact((tx) => {
        if (req.updateInfo?.description != null) ns.description = req.updateInfo.description;
        if (req.updateInfo?.ownerEmail != null) ns.ownerEmail = req.updateInfo.ownerEmail;
        if (req.updateInfo?.data) ns.data = { ...ns.data, ...req.updateInfo.data };
        const ttl = durationMs(req.config?.workflowExecutionRetentionTtl);
        if (ttl > 0) ns.retentionMs = ttl;
        tx.namespaces.push(ns);
      });
      return { ...describeNamespace(ns, e.limits), isGlobalNamespace: false };
    },
    Check: () => ({ status: 1 }),
  };
}
