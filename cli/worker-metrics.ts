import net from 'node:net';
import type { MetricCounter } from '@temporalio/common';
import { Runtime, type InjectedSinks } from '@temporalio/worker';
import type { WorkflowMetricsSinks } from '../workflows/interceptors';

const SCRAPE_TIMEOUT_MS = 2000;

/**
 * Where the worker's metrics are served: the configured host:port, or a loopback port free right now. The Temporal
 * SDK's exporter binds it itself and cannot report a port the system chose, so the port is picked here first.
 */
export async function workerMetricsAddress(configured: string | undefined): Promise<string> {
  if (configured) return configured;
  const port = await new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: chosen } = server.address() as net.AddressInfo;
      server.close(() => resolve(chosen));
    });
  });
  return `127.0.0.1:${port}`;
}

/**
 * Prometheus options for the Temporal SDK's exporter: `_total` on counters and durations in seconds with the unit in
 * the name, as Prometheus conventions (and Clearway's own metrics) have them.
 */
export function prometheusTelemetry(bindAddress: string) {
  return {
    metrics: {
      prometheus: { bindAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true },
    },
  };
}

/** The worker's metrics as Prometheus text, read from the SDK's exporter at `address`. */
export async function scrapeWorkerMetrics(address: string): Promise<string> {
  // A wildcard bind is reached on loopback from this process.
  const local = address.replace(/^(0\.0\.0\.0|\[::\]|::):/, '127.0.0.1:');
  const res = await fetch(`http://${local}/metrics`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`the worker's metrics exporter answered ${res.status}`);
  return res.text();
}

/**
 * The sink behind workflows/interceptors.ts: counts workflow starts and outcomes by type on the SDK runtime's meter,
 * so they are exported with the worker's other metrics from whichever process runs the worker. The SDK calls it
 * outside the sandbox and never for replayed history.
 */
export function workflowMetricsSinks(): InjectedSinks<WorkflowMetricsSinks> {
  const meter = Runtime.instance().metricMeter;
  const started = meter.createCounter(
    'clearway_workflow_started',
    undefined,
    'Workflow runs started on this worker, by workflow type',
  );
  const closed = meter.createCounter(
    'clearway_workflow_closed',
    undefined,
    'Workflow runs this worker closed, by workflow type and outcome (completed, failed, canceled, continued_as_new)',
  );
  const tags = (info: { namespace: string; taskQueue: string; workflowType: string }) => ({
    namespace: info.namespace,
    task_queue: info.taskQueue,
    workflow_type: info.workflowType,
  });
  const add = (counter: MetricCounter, labels: Record<string, string>) => counter.add(1, labels);
  return {
    workflowMetrics: {
      started: { fn: (info) => add(started, tags(info)) },
      closed: { fn: (info, outcome) => add(closed, { ...tags(info), outcome }) },
    },
  };
}
