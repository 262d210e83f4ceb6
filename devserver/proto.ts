import { google, temporal } from '@temporalio/proto';

export { google, temporal };

export type IHistoryEvent = temporal.api.history.v1.IHistoryEvent;
export type IPayload = temporal.api.common.v1.IPayload;
export type IPayloads = temporal.api.common.v1.IPayloads;
export type IFailure = temporal.api.failure.v1.IFailure;
export type IRetryPolicy = temporal.api.common.v1.IRetryPolicy;
export type ICommand = temporal.api.command.v1.ICommand;
export type IMessage = temporal.api.protocol.v1.IMessage;
export type ITimestamp = google.protobuf.ITimestamp;
export type IDuration = google.protobuf.IDuration;

export const EventType = temporal.api.enums.v1.EventType;
export const CommandType = temporal.api.enums.v1.CommandType;
export const ExecutionStatus = temporal.api.enums.v1.WorkflowExecutionStatus;
export const RetryState = temporal.api.enums.v1.RetryState;
export const TimeoutType = temporal.api.enums.v1.TimeoutType;
export const WftFailedCause = temporal.api.enums.v1.WorkflowTaskFailedCause;
export const TaskQueueKind = temporal.api.enums.v1.TaskQueueKind;
export const UpdateStage = temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage;

/** int64 values arrive as protobufjs Long objects, numbers or strings. */
export type LongLike = number | string | { toNumber(): number } | null | undefined;

/** Converts an int64 field to a JS number (0 when absent). */
export function num(v: LongLike): number {
  if (v == null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  return v.toNumber();
}

/** Milliseconds of a protobuf Duration (0 when absent). */
export function durationMs(d: IDuration | null | undefined): number {
  if (!d) return 0;
  return num(d.seconds as LongLike) * 1000 + Math.floor((d.nanos ?? 0) / 1e6);
}

/** A protobuf Duration for a number of milliseconds. */
export function duration(ms: number): IDuration {
  return { seconds: long(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

/** Milliseconds since the epoch of a protobuf Timestamp (0 when absent). */
export function timestampMs(t: ITimestamp | null | undefined): number {
  return durationMs(t as IDuration);
}

/** A protobuf Timestamp for a number of milliseconds since the epoch. */
export function timestamp(ms: number): ITimestamp {
  return { seconds: long(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

/** True when a Duration is present and negative. */
export function isNegative(d: IDuration | null | undefined): boolean {
  return !!d && (num(d.seconds as LongLike) < 0 || (d.nanos ?? 0) < 0);
}

const eventTypeNames = temporal.api.enums.v1.EventType as unknown as Record<number, string>;

/** Name of the oneof attributes field that goes with an event type, e.g. timerFiredEventAttributes. */
export function attributesField(eventType: number): string {
  const name = eventTypeNames[eventType];
  if (!name) throw new Error(`unknown event type ${eventType}`);
  const words = name.replace(/^EVENT_TYPE_/, '').toLowerCase().split('_');
  return words.map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1))).join('') + 'EventAttributes';
}

/** Short readable name of an event type, e.g. WORKFLOW_TASK_COMPLETED. */
export function eventTypeName(eventType: number): string {
  return (eventTypeNames[eventType] ?? String(eventType)).replace(/^EVENT_TYPE_/, '');
}

const commandTypeNames = temporal.api.enums.v1.CommandType as unknown as Record<number, string>;

/** Name of a command type as the real server tags it, e.g. COMMAND_TYPE_START_TIMER. */
export function commandTypeName(commandType: number): string {
  return commandTypeNames[commandType] ?? String(commandType);
}

/** Encodes a message of a named type into an Any. */
interface CodecType {
  encode(m: object): { finish(): Uint8Array };
  decode(b: Uint8Array): unknown;
}

/** The protobufjs root with every Temporal message type. */
export const protoRoot = (temporal as unknown as { root: { lookupType(name: string): CodecType; lookupService(name: string): unknown } }).root;

/** An int64 field value; protobufjs encodes plain numbers, though its typings say Long. */
export function long(n: number): Long {
  return n as unknown as Long;
}

export type Long = import('long');

export function packAny(typeName: string, value: object): google.protobuf.IAny {
  const type = protoRoot.lookupType(typeName);
  return { type_url: `type.googleapis.com/${typeName}`, value: type.encode(value).finish() } as google.protobuf.IAny;
}

/** Decodes an Any whose type is known by the caller. */
export function unpackAny<T>(any: google.protobuf.IAny | null | undefined, typeName: string): T | null {
  if (!any?.value) return null;
  return protoRoot.lookupType(typeName).decode(any.value) as unknown as T;
}

/** Total byte size of the payloads in a Payloads message. */
export function payloadsSize(p: IPayloads | null | undefined): number {
  let n = 0;
  for (const x of p?.payloads ?? []) n += (x.data?.length ?? 0) + Object.values(x.metadata ?? {}).reduce((a, b) => a + (b?.length ?? 0), 0);
  return n;
}
