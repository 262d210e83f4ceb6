import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;
type Failure = temporal.api.failure.v1.IFailure | null | undefined;

const EventType = temporal.api.enums.v1.EventType;
const names = EventType as unknown as Record<number, string>;
const SUMMARY_CHARS = 160;

/** A protobuf timestamp as ISO text. */
export function isoTime(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): string {
  return new Date(Number(ts?.seconds ?? 0) * 1000 + Math.floor((ts?.nanos ?? 0) / 1e6)).toISOString();
}

/** EVENT_TYPE_ACTIVITY_TASK_SCHEDULED -> ActivityTaskScheduled, as Temporal's tools show it. */
export function eventTypeLabel(eventType: number | null | undefined): string {
  const raw = names[eventType ?? 0] ?? String(eventType);
  return raw
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)(\w)/g, (_m, _s, c: string) => c.toUpperCase());
}

const shorten = (s: string) => (s.length > SUMMARY_CHARS ? `${s.slice(0, SUMMARY_CHARS - 1)}…` : s);

/** Payloads decoded where the default converter can (JSON, plain text), shortened for a timeline. */
export function payloadSummary(p: Payloads): string {
  const parts = (p?.payloads ?? []).map((payload) => {
    try {
      const value = defaultPayloadConverter.fromPayload<unknown>(payload);
      return value === undefined ? '' : JSON.stringify(value);
    } catch {
      return `<${payload.data?.length ?? 0} bytes>`;
    }
  });
  return shorten(parts.join(', '));
}

function failureSummary(f: Failure): string {
  if (!f) return '';
  const type = f.applicationFailureInfo?.type;
  return shorten(`${type ? `${type}: ` : ''}${f.message ?? ''}`);
}

function seconds(d: { seconds?: unknown; nanos?: number | null } | null | undefined): string {
  const s = Number(d?.seconds ?? 0) + (d?.nanos ?? 0) / 1e9;
  return s >= 3600 ? `${+(s / 3600).toFixed(2)} h` : s >= 60 ? `${+(s / 60).toFixed(2)} min` : `${+s.toFixed(3)} s`;
}

/** The attributes object of an event, whatever its type. */
function attributesOf(e: HistoryEvent): Record<string, any> {
  const key = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]);
  return key ? ((e as Record<string, any>)[key] as Record<string, any>) : {};
}

/** Who caused an event, where the history records it: the worker, client or user identity. */
function whoOf(a: Record<string, any>): string | null {
  return a.identity || a.acceptedRequest?.meta?.identity || a.request?.meta?.identity || null;
}

function summaryOf(e: HistoryEvent, a: Record<string, any>): string {
  const T = EventType;
  switch (e.eventType) {
    case T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
      return shorten(`${a.workflowType?.name} on ${a.taskQueue?.name}(${payloadSummary(a.input)})`);
    case T.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
      return payloadSummary(a.result);
    case T.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
    case T.EVENT_TYPE_ACTIVITY_TASK_FAILED:
    case T.EVENT_TYPE_WORKFLOW_TASK_FAILED:
      return failureSummary(a.failure);
    case T.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
      return failureSummary(a.failure);
    case T.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
      return shorten(a.reason ?? '');
    case T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
      return shorten(`${a.activityType?.name}(${payloadSummary(a.input)})`);
    case T.EVENT_TYPE_ACTIVITY_TASK_STARTED:
      return `attempt ${a.attempt ?? 1}`;
    case T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      return payloadSummary(a.result);
    case T.EVENT_TYPE_TIMER_STARTED:
      return `timer ${a.timerId} for ${seconds(a.startToFireTimeout)}`;
    case T.EVENT_TYPE_TIMER_FIRED:
    case T.EVENT_TYPE_TIMER_CANCELED:
      return `timer ${a.timerId}`;
    case T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
      return shorten(`${a.signalName}(${payloadSummary(a.input)})`);
    case T.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
      return shorten(`${a.acceptedRequest?.input?.name}(${payloadSummary(a.acceptedRequest?.input?.args)})`);
    case T.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
      return a.outcome?.failure ? `failed: ${failureSummary(a.outcome.failure)}` : payloadSummary(a.outcome?.success);
    case T.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
      return shorten(`${a.workflowType?.name} as ${a.workflowId}`);
    case T.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
    case T.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
      return shorten(`${a.workflowExecution?.workflowId ?? ''} ${payloadSummary(a.result)}`.trim());
    case T.EVENT_TYPE_MARKER_RECORDED:
      return a.markerName ?? '';
    default:
      return '';
  }
}

/** One history event as an operator reads it: what happened, when, caused by whom, carrying what. */
export function describeEvent(e: HistoryEvent): { eventId: string; type: string; time: string; who: string | null; summary: string } {
  const a = attributesOf(e);
  return { eventId: String(e.eventId ?? ''), type: eventTypeLabel(e.eventType), time: isoTime(e.eventTime), who: whoOf(a), summary: summaryOf(e, a) };
}
