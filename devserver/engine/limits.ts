import type { Logger } from 'pino';
import { invalidArgument } from './errors';
import { payloadsSize, temporal, type IFailure, type IPayloads } from '../proto';

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
  /** Updates admitted or accepted and not yet completed or rejected, per run. */
  updatesInFlight: number;
  /** Updates a run may take in its life (in flight, completed or rejected). */
  updatesTotal: number;
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
  updatesInFlight: 10,
  updatesTotal: 2000,
};

/** Where a blob arrived, named in the size warning as the real server names it. */
export interface BlobSite {
  namespace: string;
  workflowId?: string | null;
  runId?: string | null;
  operation: string;
}

/**
 * The real server's blob check: past the warning limit it logs "Blob data size exceeds the warning
 * limit." with the workflow and operation; past the error limit the caller refuses or fails the
 * blob. Returns false past the error limit.
 */
export function blobWithinLimit(limits: Limits, log: Logger, size: number, site: BlobSite): boolean {
  if (size <= limits.payloadWarnBytes) return true;
  log.warn({ ...site, size, warnLimit: limits.payloadWarnBytes }, 'Blob data size exceeds the warning limit.');
  return size <= limits.payloadErrorBytes;
}

/** Refuses a request whose payloads pass the error limit with the real server's INVALID_ARGUMENT. */
export function requireBlobWithinLimit(limits: Limits, log: Logger, p: IPayloads | null | undefined, site: BlobSite): void {
  if (!blobWithinLimit(limits, log, payloadsSize(p), site)) throw invalidArgument('Blob data size exceeds limit.');
}

/** Encoded size of a failure (failures carry stack traces and details, so they are measured whole). */
export function failureSize(f: IFailure | null | undefined): number {
  return f ? temporal.api.failure.v1.Failure.encode(f).finish().length : 0;
}

/** Refuses a missing or over-long id. */
export function checkId(value: string | null | undefined, what: string): string {
  if (!value) throw invalidArgument(`${what} is not set on request.`);
  if (value.length > LIMITS.idMaxLength) throw invalidArgument(`${what} exceeds length limit.`);
  return value;
}
