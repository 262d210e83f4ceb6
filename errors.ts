/** How one error code surfaces on each boundary: HTTP status, gRPC status name, process exit code. */
export interface Surface {
  http: number;
  grpc: string;
  exit: number;
}

/**
 * Every error Clearway reports, mapped once for every surface. A new code is not usable until its row
 * names all three. This file imports nothing so workflows, the API and the CLI can all share it.
 */
export const CODES = {
  VALIDATION_FAILED: { http: 400, grpc: 'INVALID_ARGUMENT', exit: 2 },
  MALFORMED_JSON: { http: 400, grpc: 'INVALID_ARGUMENT', exit: 2 },
  USAGE: { http: 400, grpc: 'INVALID_ARGUMENT', exit: 2 },
  CONFIG_INVALID: { http: 500, grpc: 'FAILED_PRECONDITION', exit: 2 },
  UNKNOWN_ROLE: { http: 400, grpc: 'INVALID_ARGUMENT', exit: 2 },
  UNAUTHENTICATED: { http: 401, grpc: 'UNAUTHENTICATED', exit: 1 },
  ROLE_REQUIRED: { http: 403, grpc: 'PERMISSION_DENIED', exit: 1 },
  FORBIDDEN: { http: 403, grpc: 'PERMISSION_DENIED', exit: 1 },
  NOT_FOUND: { http: 404, grpc: 'NOT_FOUND', exit: 1 },
  METHOD_NOT_ALLOWED: { http: 405, grpc: 'UNIMPLEMENTED', exit: 1 },
  DUPLICATE_NAME: { http: 409, grpc: 'ALREADY_EXISTS', exit: 2 },
  CONFLICT: { http: 409, grpc: 'FAILED_PRECONDITION', exit: 1 },
  GATE_NOT_MET: { http: 409, grpc: 'FAILED_PRECONDITION', exit: 1 },
  BLACKOUT: { http: 409, grpc: 'FAILED_PRECONDITION', exit: 1 },
  SOAK_INCOMPLETE: { http: 409, grpc: 'FAILED_PRECONDITION', exit: 1 },
  REVIEW_OPEN: { http: 409, grpc: 'FAILED_PRECONDITION', exit: 1 },
  ROLLOUT_NOT_ACTIVE: { http: 409, grpc: 'FAILED_PRECONDITION', exit: 1 },
  CHANGE_NOT_APPROVED: { http: 409, grpc: 'FAILED_PRECONDITION', exit: 1 },
  SELF_APPROVAL_FORBIDDEN: { http: 409, grpc: 'FAILED_PRECONDITION', exit: 1 },
  ALREADY_DECIDED: { http: 409, grpc: 'ALREADY_EXISTS', exit: 1 },
  INVALID_STATE: { http: 409, grpc: 'FAILED_PRECONDITION', exit: 1 },
  EVIDENCE_MISSING: { http: 409, grpc: 'FAILED_PRECONDITION', exit: 1 },
  CUTOVER_NOT_READY: { http: 409, grpc: 'FAILED_PRECONDITION', exit: 1 },
  FALLBACK_NOT_REHEARSED: { http: 409, grpc: 'FAILED_PRECONDITION', exit: 1 },
  WINDOW_ALREADY_RECONCILED: { http: 409, grpc: 'ALREADY_EXISTS', exit: 1 },
  WATCH_INCOMPLETE: { http: 409, grpc: 'FAILED_PRECONDITION', exit: 1 },
  WINDOW_NOT_UPLOADED: { http: 409, grpc: 'FAILED_PRECONDITION', exit: 1 },
  RECONCILIATION_INPUT_INVALID: { http: 422, grpc: 'INVALID_ARGUMENT', exit: 1 },
  IDEMPOTENCY_IN_PROGRESS: { http: 409, grpc: 'ABORTED', exit: 1 },
  IDEMPOTENCY_KEY_REUSED: { http: 422, grpc: 'INVALID_ARGUMENT', exit: 1 },
  PAYLOAD_TOO_LARGE: { http: 413, grpc: 'RESOURCE_EXHAUSTED', exit: 1 },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, grpc: 'INVALID_ARGUMENT', exit: 1 },
  PORT_IN_USE: { http: 500, grpc: 'UNAVAILABLE', exit: 1 },
  DATABASE_UNAVAILABLE: { http: 503, grpc: 'UNAVAILABLE', exit: 1 },
  MIGRATION_FAILED: { http: 500, grpc: 'INTERNAL', exit: 1 },
  NOT_READY: { http: 503, grpc: 'UNAVAILABLE', exit: 1 },
  TEMPORAL_UNAVAILABLE: { http: 503, grpc: 'UNAVAILABLE', exit: 1 },
  INTERNAL: { http: 500, grpc: 'INTERNAL', exit: 1 },
} as const satisfies Record<string, Surface>;

/** A stable, documented error code. */
export type ErrorCode = keyof typeof CODES;

/** The one error class Clearway throws on purpose; anything else is a programmer error. */
export class ClearwayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: unknown[] = [],
  ) {
    super(message);
    this.name = 'ClearwayError';
  }

  /** The HTTP status this error answers with. */
  get http(): number {
    return CODES[this.code].http;
  }

  /** The gRPC status name this error travels as. */
  get grpc(): string {
    return CODES[this.code].grpc;
  }

  /** The process exit code a command failing with this error returns. */
  get exit(): number {
    return CODES[this.code].exit;
  }
}
