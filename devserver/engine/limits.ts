import { invalidArgument } from './errors';
import { payloadsSize, type IPayloads } from '../proto';

/** The real server's limits. */
export interface Limits {
  payloadErrorBytes: number;
  payloadWarnBytes: number;
  idMaxLength: number;
  historyEventsError: number;
  historyEventsWarn: number;
  historyBytesError: number;
  historyBytesWarn: number;
  pendingActivities: number;
  pendingChildren: number;
  pendingSignals: number;
  pendingCancels: number;
}

/** The real server's default limits. */
export const LIMITS: Limits = {
  payloadErrorBytes: 2 * 1024 * 1024,
  payloadWarnBytes: 512 * 1024,
  idMaxLength: 1000,
  historyEventsError: 51_200,
  historyEventsWarn: 10_240,
  historyBytesError: 50 * 1024 * 1024,
  historyBytesWarn: 10 * 1024 * 1024,
  pendingActivities: 2000,
  pendingChildren: 2000,
  pendingSignals: 2000,
  pendingCancels: 2000,
};

/** Refuses payloads above the blob size limit, as the real server does. */
export function checkBlob(p: IPayloads | null | undefined): void {
  if (payloadsSize(p) > LIMITS.payloadErrorBytes) throw invalidArgument('Blob data size exceeds limit.');
}

/** Refuses a missing or over-long id. */
export function checkId(value: string | null | undefined, what: string): string {
  if (!value) throw invalidArgument(`${what} is not set on request.`);
  if (value.length > LIMITS.idMaxLength) throw invalidArgument(`${what} exceeds length limit.`);
  return value;
}
