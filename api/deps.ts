import type { Tracer } from '@opentelemetry/api';
import type { Client } from '@temporalio/client';
import type { PrismaClient } from '../generated/prisma/client';
import type { ChangeControlPolicy } from '../domain/change-request-policy';
import type { EscalationPolicy } from '../domain/escalation-policy';
import type { Logger } from '../log';
import type { MetricsOptions } from './metrics';

/** Everything the API needs from the outside, injected so tests pass real but local instances. */
export interface ApiDeps {
  prisma: PrismaClient;
  log: Logger;
  /** The Temporal client; throws TEMPORAL_UNAVAILABLE while Temporal cannot be reached. */
  temporal(): Client;
  /** Readiness checks by component name; each resolves when its component answers, or throws why not. */
  checks: Record<string, () => Promise<void>>;
  version: string;
  /** How GET /metrics is served: its token and the in-process worker's metrics; open, API-only figures unless given. */
  metrics?: MetricsOptions;
  /** Records a server span per request when tracing is configured; no tracing middleware is added without it. */
  tracer?: Tracer;
  /** Base URL of a Temporal UI showing the same executions (operators get links to it), when there is one. */
  temporalUiUrl?: string;
  /** What new change requests start under: the loaded change-control policy and the workflows' task queue. */
  changeRequests?: { policy: ChangeControlPolicy; policyVersion: string; taskQueue: string };
  /** Where cutover uploads are staged (a directory the worker can read) and the workflows' task queue. */
  cutovers?: { taskQueue: string; uploadDir: string; maxUploadBytes?: number };
  /**
   * The task queue new escalations start on, the escalation policy they start under (shipped unless given), and
   * the secret that signs calls to the escalation webhook (which answers 404 without one).
   */
  escalations?: { taskQueue: string; policy?: { policy: EscalationPolicy; version: string }; webhookSecret?: string };
}
