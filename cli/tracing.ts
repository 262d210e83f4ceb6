import type { Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config';
import type { Logger } from '../log';
import { version } from '../package.json';

/** OpenTelemetry tracing for this process: what the API, the Temporal client and the worker record spans with. */
export interface Tracing {
  tracer: Tracer;
  /** Where workflow spans, made inside the workflow sandbox and handed out through a sink, are sent. */
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Where spans are exported, for the log. */
  url: string;
  /** Exports what is still buffered, then stops. */
  stop(): Promise<void>;
}

/** The traces URL the configuration names, or null when no exporter is configured (tracing stays off). */
export function tracesUrl(config: Config): string | null {
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (config.OTEL_EXPORTER_OTLP_ENDPOINT) return `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return null;
}

/** `key=value,...` as OTLP headers; keys and values are percent-decoded as the OpenTelemetry spec says. */
function parseHeaders(spec: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (spec ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}

/**
 * Starts exporting spans over OTLP/HTTP when an endpoint is configured, and registers the process-wide tracer
 * provider, W3C trace-context propagation and an AsyncLocalStorage context manager (the Temporal interceptors
 * inject and extract through the global propagator). Returns null, installing nothing, when no endpoint is set.
 */
export function startTracing(config: Config, log: Logger): Tracing | null {
  const url = tracesUrl(config);
  if (!url) return null;
  const resource = new Resource({ 'service.name': config.OTEL_SERVICE_NAME, 'service.version': version });
  const exporter = new OTLPTraceExporter({ url, headers: parseHeaders(config.OTEL_EXPORTER_OTLP_HEADERS) });
  const spanProcessor = new BatchSpanProcessor(exporter);
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // No propagator given: the SDK's default, W3C trace context and baggage.
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  log.info({ component: 'tracing', url, service: config.OTEL_SERVICE_NAME }, 'exporting traces');
  return {
    tracer: provider.getTracer('clearway', version),
    spanProcessor,
    resource,
    url,
    async stop() {
      await provider.shutdown().catch((e: unknown) => log.warn({ err: e }, 'could not export the last spans'));
    },
  };
}
