import type { Logger } from 'pino';
import { invalidArgument } from './errors';
import { payloadsSize, temporal, type IFailure, type IPayloads } from '../proto';

/** The real server's limits. */
export interface Limits {
  payloadErrorBytes: number;
  payloadWarnBytes: number;
  memoErrorBytes: number;
  memoWarnBytes: number;
  idMaxLength: number;
  historyEventsError: number;
  historyEventsWarn: number;
  historyBytesError: number;
  historyBytesWarn: number;
  /** From here on, workflow task started events tell the worker to continue as new. */
  historyEventsSuggestContinueAsNew: number;
  historyBytesSuggestContinueAsNew: number;
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
  memoErrorBytes: 2 * 1024 * 1024,
  memoWarnBytes: 2 * 1024,
  idMaxLength: 1000,
  historyEventsError: 51_200,
  historyEventsWarn: 10_240,
  historyBytesError: 50 * 1024 * 1024,
  historyBytesWarn: 10 * 1024 * 1024,
  historyEventsSuggestContinueAsNew: 4 * 1024,
  historyBytesSuggestContinueAsNew: 4 * 1024 * 1024,
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
  return sizeWithinLimit(limits.payloadWarnBytes, limits.payloadErrorBytes, log, size, site);
}

/** The same check with the memo limits (`limit.memoSize.warn`, `limit.memoSize.error`). */
export function memoWithinLimit(limits: Limits, log: Logger, size: number, site: BlobSite): boolean {
  return sizeWithinLimit(limits.memoWarnBytes, limits.memoErrorBytes, log, size, site);
}

function sizeWithinLimit(warnLimit: number, errorLimit: number, log: Logger, size: number, site: BlobSite): boolean {
  if (size <= warnLimit) return true;
  log.warn({ ...site, size, warnLimit }, 'Blob data size exceeds the warning limit.');
  return size <= errorLimit;
}

/** Refuses a request whose payloads pass the error limit with the real server's INVALID_ARGUMENT. */
export function requireBlobWithinLimit(limits: Limits, log: Logger, p: IPayloads | null | undefined, site: BlobSite): void {
  if (!blobWithinLimit(limits, log, payloadsSize(p), site)) throw invalidArgument('Blob data size exceeds limit.');
}

/** Encoded size of a memo, as the real server measures it. */
export function memoSize(memo: temporal.api.common.v1.IMemo | null | undefined): number {
  return memo ? temporal.api.common.v1.Memo.encode(memo).finish().length : 0;
}

/** Encoded size of a failure (failures carry stack traces and details, so they are measured whole). */
export function failureSize(f: IFailure | null | undefined): number {
  return f ? temporal.api.failure.v1.Failure.encode(f).finish().length : 0;
}

/**
 * The real server's per-workflow count limits (pending activities, children, signals and cancel
 * requests to other workflows): the message when one more would pass the limit, null while it
 * fits. A limit of 0 or less means none.
 */
export function pendingLimitReached(what: string, pending: number, limit: number): string | null {
  if (limit <= 0 || pending < limit) return null;
  return `the number of ${what}, ${pending}, has reached the per-workflow limit of ${limit}`;
}

/** Refuses a missing id, or one longer than the limit (`limit.maxIDLength`). */
export function checkId(limits: Limits, value: string | null | undefined, what: string): string {
  if (!value) throw invalidArgument(`${what} is not set on request.`);
  if (value.length > limits.idMaxLength) throw invalidArgument(`${what} exceeds length limit.`);
  return value;
}

/**
 * The real server's memo check on starts: past `limit.memoSize.warn` it logs, past
 * `limit.memoSize.error` the start is refused with "Memo size exceeds limit.".
 */
export function requireMemoWithinLimit(limits: Limits, log: Logger, memo: temporal.api.common.v1.IMemo | null | undefined, site: BlobSite): void {
  if (!memo) return;
  if (!memoWithinLimit(limits, log, memoSize(memo), site)) throw invalidArgument('Memo size exceeds limit.');
}

