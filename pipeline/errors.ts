/**
 * Every error the pipeline raises carries a stable code from this one list, whether it may be
 * retried, and the HTTP status and gRPC code a receiver answers with. Receivers map errors onto
 * the wire from this table only, so the answer to a given failure is the same on every transport.
 */

/** Stable error codes, with the wire answer each maps to. */
export const ERROR_CODES = {
  invalid_event: { status: 400, grpc: 3, retryable: false, message: 'the event is not valid' },
  invalid_request: { status: 400, grpc: 3, retryable: false, message: 'the request is not valid' },
  unauthenticated: { status: 401, grpc: 16, retryable: false, message: 'missing or unknown bearer token' },
  forbidden: { status: 403, grpc: 7, retryable: false, message: 'this credential may not do that' },
  not_found: { status: 404, grpc: 5, retryable: false, message: 'no such resource' },
  method_not_allowed: { status: 405, grpc: 12, retryable: false, message: 'method not allowed' },
  payload_too_large: { status: 413, grpc: 8, retryable: false, message: 'the body is over the limit' },
  unsupported_media_type: { status: 415, grpc: 3, retryable: false, message: 'unsupported content type' },
  tenant_rejected: { status: 400, grpc: 3, retryable: false, message: 'the tenant tag was rejected' },
  queue_full: { status: 429, grpc: 8, retryable: true, message: 'an exporter queue is full' },
  memory_limit: { status: 503, grpc: 8, retryable: true, message: 'memory limit reached' },
  shutting_down: { status: 503, grpc: 14, retryable: true, message: 'ledgerline is shutting down' },
  exporter_unavailable: { status: 503, grpc: 14, retryable: true, message: 'an exporter is unavailable' },
  exporter_failed: { status: 500, grpc: 13, retryable: false, message: 'an exporter refused the batch' },
  timeout: { status: 503, grpc: 4, retryable: true, message: 'timed out' },
  config_invalid: { status: 500, grpc: 13, retryable: false, message: 'the configuration is not valid' },
  internal: { status: 500, grpc: 13, retryable: false, message: 'internal error' },
} as const;

/** One of the stable error codes. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Options of a PipelineError: the cause is kept; retryable defaults to the code's. */
export interface PipelineErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  /** Seconds a client should wait before retrying (Retry-After). */
  retryAfter?: number;
  /** Field-level details, e.g. one entry per invalid field. */
  details?: unknown;
}

/** The one error class of the pipeline: a code, a message, the cause and whether to retry. */
export class PipelineError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfter: number | undefined;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, options: PipelineErrorOptions = {}) {
    super(message ?? ERROR_CODES[code].message, { cause: options.cause });
    this.name = 'PipelineError';
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.retryAfter = options.retryAfter ?? (this.retryable ? 1 : undefined);
    this.details = options.details;
  }

  /** HTTP status for this error. */
  get status(): number {
    if (this.code === 'exporter_failed' && this.retryable) return 503;
    return ERROR_CODES[this.code].status;
  }

  /** gRPC status code for this error. */
  get grpcCode(): number {
    return ERROR_CODES[this.code].grpc;
  }
}

/** Wraps anything thrown into a PipelineError, keeping it as the cause. */
export function toPipelineError(err: unknown, fallback: ErrorCode = 'internal'): PipelineError {
  if (err instanceof PipelineError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PipelineError(fallback, message, { cause: err });
}

/** True when the error may succeed on a later attempt. Unknown errors count as retryable. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof PipelineError) return err.retryable;
  return true;
}
