import { attributesField, temporal, timestamp, timestampMs, type IFailure, type IPayloads } from '../proto';
import type { RunExtras } from '../store/store';
import type { ActivityState } from './machine';
import type { Run } from './run';

const Failure = temporal.api.failure.v1.Failure;
const Payloads = temporal.api.common.v1.Payloads;
const HistoryEvent = temporal.api.history.v1.HistoryEvent;
const UpdateRequest = temporal.api.update.v1.Request;

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64');
const enc = <T extends object>(type: { encode(m: T): { finish(): Uint8Array } }, v: T | null | undefined) => (v ? b64(type.encode(v).finish()) : null);

interface ActivityExtras {
  sid: number;
  attempt: number;
  state: ActivityState;
  attemptScheduledMs: number;
  startedMs: number;
  identity: string;
  requestId: string;
  lastFailure: string | null;
  heartbeat: string | null;
  lastHeartbeatMs: number;
  closing: boolean;
}

/**
 * The facts of a run that its history does not carry, as JSON (protobuf parts base64-encoded):
 * buffered events, activity attempts and heartbeats, admitted updates and seen request ids.
 */
export function encodeExtras(run: Run): RunExtras {
  return {
    buffered: run.buffered.map((b) => ({
      event: b64(HistoryEvent.encode({ eventType: b.eventType, eventTime: timestamp(b.timeMs), [attributesField(b.eventType)]: b.attributes }).finish()),
      refPrev: b.refPrev ?? null,
    })),
    requestIds: [...run.requestIds],
    activities: [...run.activities.values()].map(
      (a): ActivityExtras => ({
        sid: a.scheduledEventId,
        attempt: a.attempt,
        state: a.state,
        attemptScheduledMs: a.attemptScheduledMs,
        startedMs: a.startedMs,
        identity: a.startedIdentity,
        requestId: a.startedRequestId,
        lastFailure: enc(Failure, a.lastFailure),
        heartbeat: enc(Payloads, a.heartbeatDetails),
        lastHeartbeatMs: a.lastHeartbeatMs,
        closing: a.closing,
      }),
    ),
    updates: [...run.updates.values()]
      .filter((u) => u.state === 'admitted')
      .map((u) => ({ id: u.updateId, request: enc(UpdateRequest, u.request), admittedMs: u.admittedMs })),
  };
}

/** Restores what `encodeExtras` wrote onto a run rebuilt from its history. */
export function restoreExtras(run: Run, extras: RunExtras | null): void {
  if (!extras) return;
  const x = extras as {
    buffered?: { event: string; refPrev: string | null }[];
    requestIds?: string[];
    activities?: ActivityExtras[];
    updates?: { id: string; request: string | null; admittedMs: number }[];
  };
  run.buffered = (x.buffered ?? []).map((b) => {
    const e = HistoryEvent.decode(unb64(b.event)) as temporal.api.history.v1.IHistoryEvent;
    const eventType = Number(e.eventType);
    return {
      eventType,
      attributes: (e as any)[attributesField(eventType)] ?? {},
      timeMs: timestampMs(e.eventTime),
      ...(b.refPrev ? { refPrev: b.refPrev } : {}),
    };
  });
  run.requestIds = new Set(x.requestIds ?? []);
  for (const a of x.activities ?? []) {
    const act = run.activities.get(a.sid);
    if (!act) continue;
    Object.assign(act, {
      attempt: a.attempt,
      state: a.state,
      attemptScheduledMs: a.attemptScheduledMs,
      startedMs: a.startedMs,
      startedIdentity: a.identity,
      startedRequestId: a.requestId,
      lastFailure: a.lastFailure ? (Failure.decode(unb64(a.lastFailure)) as IFailure) : null,
      heartbeatDetails: a.heartbeat ? (Payloads.decode(unb64(a.heartbeat)) as IPayloads) : null,
      lastHeartbeatMs: a.lastHeartbeatMs,
      closing: a.closing,
    });
  }
  for (const u of x.updates ?? []) {
    if (run.updates.has(u.id)) continue;
    run.updates.set(u.id, {
      updateId: u.id,
      state: 'admitted',
      request: u.request ? (UpdateRequest.decode(unb64(u.request)) as temporal.api.update.v1.IRequest) : {},
      acceptedEventId: 0,
      outcome: null,
      admittedMs: u.admittedMs,
    });
  }
}
