import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { evidence, fields } from '../helpers/change-requests';
import { postgresAvailable } from '../helpers/db';
import { eventually, startOnPostgres, startStandInCollector, type ReceivedSpan, type Started } from './support';

// A real `clearway start` process and a real workflow bundle for the replay: minutes on a busy machine.
jest.setTimeout(300_000);

const SERVER = 2; // OTLP SpanKind
const CR = '/api/v1/change-requests';

(postgresAvailable ? describe : describe.skip)('tracing over OTLP', () => {
  let started: Started | undefined;
  let collector: Awaited<ReturnType<typeof startStandInCollector>> | undefined;
  afterAll(async () => {
    await started?.stop();
    await collector?.close();
  });

  it('tracing: when an exporter is configured, the HTTP call, the client start, the workflow and its activities share one trace', async () => {
    collector = await startStandInCollector();
    started = await startOnPostgres({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_SERVICE_NAME: 'cw-test' });
    const requester = await started.user(['integration-specialist']);

    // The caller's own trace: everything the request causes must continue it.
    const traceId = randomBytes(16).toString('hex');
    const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    const created = await started.call(
      requester.token,
      'POST',
      CR,
      { ...fields(), evidence: evidence('documentation') },
      { traceparent },
    );
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    // Withdrawing ends the workflow, which is when its run span ends and is exported.
    const withdrawn = await started.call(requester.token, 'POST', `${CR}/${id}/withdraw`, {});
    expect([withdrawn.status, withdrawn.body.status]).toEqual([200, 'withdrawn']);

    const inTrace = () => collector!.spans.filter((s) => s.traceId === traceId);
    const spans = await eventually(
      async () => inTrace(),
      (list) =>
        list.some((s) => s.name === 'RunWorkflow:changeRequest') && list.some((s) => s.name.startsWith('RunActivity:')),
      (list) => list.map((s) => s.name),
    );
    const named = (name: string): ReceivedSpan => {
      const span = spans.find((s) => s.name === name);
      if (!span) throw new Error(`no ${name} span in ${JSON.stringify(spans.map((s) => s.name))}`);
      return span;
    };
    const httpSpan = named('POST /api/v1/change-requests');
    const start = named('StartWorkflow:changeRequest');
    const run = named('RunWorkflow:changeRequest');
    expect(httpSpan).toMatchObject({
      kind: SERVER,
      service: 'cw-test',
      attributes: { 'http.route': '/api/v1/change-requests', 'http.response.status_code': 201 },
    });
    expect(start.parentSpanId).toBe(httpSpan.spanId);
    expect(start.attributes).toMatchObject({ temporalWorkflowId: `cr-${id}` });
    expect(run.parentSpanId).toBe(start.spanId);
    // Each activity the workflow ran: scheduled under the run, executed under its schedule span.
    const scheduled = spans.filter((s) => s.name.startsWith('StartActivity:'));
    expect(scheduled.length).toBeGreaterThan(0);
    for (const s of scheduled) expect(s.parentSpanId).toBe(run.spanId);
    const executed = spans.filter((s) => s.name.startsWith('RunActivity:'));
    expect(executed.length).toBeGreaterThan(0);
    for (const e of executed) {
      const parent = scheduled.find((s) => s.spanId === e.parentSpanId);
      expect(parent?.name.replace('StartActivity:', '')).toBe(e.name.replace('RunActivity:', ''));
    }
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['cw-test']));
    expect(collector.paths.every((p) => p.startsWith('POST /v1/traces application/json'))).toBe(true);

    // /metrics stays open when METRICS_TOKEN is unset.
    const metrics = await fetch(`${started.base}/metrics`);
    expect(metrics.status).toBe(200);

    // The interceptor modules the worker bundled are deterministic: the history they wrote replays with them, and
    // replay calls none of their sinks, so nothing is counted or exported twice.
    const sinkCalls: string[] = [];
    const connection = await Connection.connect({ address: started.temporalAddress });
    try {
      const history = await new Client({ connection }).workflow.getHandle(`cr-${id}`).fetchHistory();
      await Worker.runReplayHistory(
        {
          workflowsPath: require.resolve('../../workflows/index.ts'),
          interceptors: {
            workflowModules: [
              require.resolve('../../workflows/interceptors.ts'),
              require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
            ],
          },
          sinks: {
            workflowMetrics: {
              started: { fn: () => void sinkCalls.push('started') },
              closed: { fn: (_info, outcome: string) => void sinkCalls.push(outcome) },
            },
            exporter: { export: { fn: () => void sinkCalls.push('spans') } },
          },
          replayName: 'tracing',
        },
        history,
        `cr-${id}`,
      );
    } finally {
      await connection.close();
    }
    expect(sinkCalls).toEqual([]);
  });
});
