import { PipelineError } from '../../pipeline/errors.ts';

/**
 * Which database errors may succeed later and which never will (as Vector's
 * `is_retriable_error`). Retryable ones go back to the exporter queue, which retries with
 * backoff; data errors are narrowed down to the offending events, which are dead-lettered.
 */

/** What to do about a failure. */
export type FailureKind = 'retry' | 'data' | 'fatal';

const RETRY_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
// SQLSTATE classes: 08 connection, 53 resources, 57 operator intervention (shutdown, statement
// timeout), 58 I/O, 40 serialization/deadlock, XX internal; 55P03 lock not available.
const RETRY_CLASSES = new Set(['08', '53', '57', '58', '40', 'XX']);
// 22 data exception (bad bytes, out of range), 23 integrity (checks, not null), 54 program
// limit (index row too large): the same row will fail every time.
const DATA_CLASSES = new Set(['22', '23', '54']);
const RETRY_MESSAGES =
  /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Connection ended|socket hang up|closed/i;

/** A SQLSTATE of a database error, when it has one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  // Node's system codes (EPIPE, ECONNRESET) can look like SQLSTATEs; no SQLSTATE class starts with E.
  return typeof code === 'string' && /^[0-9A-DF-Z][0-9A-Z]{4}$/.test(code) ? code : undefined;
}

/** True for "no partition of relation ... found for row": a partition is missing, not bad data. */
export function isMissingPartition(err: unknown): boolean {
  return sqlState(err) === '23514' && /no partition of relation/i.test((err as Error).message ?? '');
}

/** Classifies an error thrown while writing. */
export function classify(err: unknown): FailureKind {
  if (isMissingPartition(err)) return 'retry';
  const state = sqlState(err);
  if (state) {
    if (state === '55P03') return 'retry';
    const cls = state.slice(0, 2);
    if (RETRY_CLASSES.has(cls)) return 'retry';
    if (DATA_CLASSES.has(cls)) return 'data';
    return 'fatal';
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && RETRY_NODE_CODES.has(code)) return 'retry';
  if (err instanceof Error && RETRY_MESSAGES.test(err.message)) return 'retry';
  // Unknown failures (a dropped socket without a code, a wasm abort) may clear: retry.
  return 'retry';
}

/** The PipelineError the exporter answers with for a failure that is not a data error. */
export function toExportError(err: unknown): PipelineError {
  if (err instanceof PipelineError) return err;
  const message = `postgres: ${(err as Error)?.message ?? String(err)}`;
  if (sqlState(err) === '57014')
    return new PipelineError('timeout', message, { cause: err, retryable: true });
  if (classify(err) === 'fatal')
    return new PipelineError('exporter_failed', message, { cause: err, retryable: false });
  return new PipelineError('exporter_unavailable', message, { cause: err, retryable: true });
}
