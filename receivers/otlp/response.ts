import type { Signal } from './model.ts';

/**
 * The answers OTLP defines, in protobuf or JSON as the request came: Export*ServiceResponse
 * (empty when everything was accepted, `partial_success` otherwise) and google.rpc.Status for
 * failures, with a google.rpc.RetryInfo detail when the client should retry later.
 */

/** The encoding of a request, and so of its answer. */
export type Encoding = 'protobuf' | 'json';

/** JSON name of the rejected-count field of each signal's partial success. */
const REJECTED_FIELD: Record<Signal, string> = {
  logs: 'rejectedLogRecords',
  metrics: 'rejectedDataPoints',
  traces: 'rejectedSpans',
};

const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo';

function varint(out: number[], v: number): void {
  let n = Math.max(0, Math.floor(v));
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

function lengthDelimited(out: number[], field: number, bytes: Uint8Array | number[]): void {
  varint(out, (field << 3) | 2);
  varint(out, bytes.length);
  for (const b of bytes) out.push(b);
}

/** Encodes an Export*ServiceResponse: empty when nothing was rejected and nothing to say. */
export function exportResponse(
  signal: Signal,
  rejected: number,
  message: string,
  encoding: Encoding,
): Buffer {
  if (encoding === 'json') {
    if (rejected === 0 && message === '') return Buffer.from('{}');
    // int64 is a decimal string in the protobuf JSON mapping.
    return Buffer.from(
      JSON.stringify({
        partialSuccess: { [REJECTED_FIELD[signal]]: String(rejected), errorMessage: message },
      }),
    );
  }
  if (rejected === 0 && message === '') return Buffer.alloc(0);
  const partial: number[] = [];
  if (rejected > 0) {
    varint(partial, (1 << 3) | 0);
    varint(partial, rejected);
  }
  if (message !== '') lengthDelimited(partial, 2, Buffer.from(message, 'utf8'));
  const out: number[] = [];
  lengthDelimited(out, 1, partial);
  return Buffer.from(out);
}

/** Encodes a google.rpc.Status, with RetryInfo when `retryAfterSeconds` is given. */
export function statusMessage(
  code: number,
  message: string,
  retryAfterSeconds: number | undefined,
  encoding: Encoding,
): Buffer {
  if (encoding === 'json') {
    const status: Record<string, unknown> = { code, message };
    if (retryAfterSeconds !== undefined)
      status.details = [{ '@type': RETRY_INFO_TYPE, retryDelay: `${retryAfterSeconds}s` }];
    return Buffer.from(JSON.stringify(status));
  }
  const out: number[] = [];
  if (code !== 0) {
    varint(out, (1 << 3) | 0);
    varint(out, code);
  }
  if (message !== '') lengthDelimited(out, 2, Buffer.from(message, 'utf8'));
  if (retryAfterSeconds !== undefined) lengthDelimited(out, 3, retryInfoAny(retryAfterSeconds));
  return Buffer.from(out);
}

/** google.protobuf.Any holding google.rpc.RetryInfo { retry_delay: Duration { seconds } }. */
export function retryInfoAny(seconds: number): number[] {
  const duration: number[] = [];
  varint(duration, (1 << 3) | 0);
  varint(duration, seconds);
  const retryInfo: number[] = [];
  lengthDelimited(retryInfo, 1, duration);
  const any: number[] = [];
  lengthDelimited(any, 1, Buffer.from(RETRY_INFO_TYPE));
  lengthDelimited(any, 2, retryInfo);
  return any;
}
