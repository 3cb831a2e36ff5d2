/**
 * A cheap estimate of an event's serialized size, for the byte trigger and the memory
 * limiter: string lengths plus a constant per field. JSON.stringify would be exact but costs
 * as much as the rest of the pipeline.
 */

const PER_FIELD = 8;

/** Estimated JSON bytes of a value. */
export function estimateBytes(v: unknown): number {
  if (typeof v === 'string') return v.length + 2;
  if (typeof v !== 'object' || v === null) return PER_FIELD;
  let n = 2;
  if (Array.isArray(v)) {
    for (const x of v) n += estimateBytes(x) + 1;
    return n;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) n += k.length + PER_FIELD + estimateBytes(o[k]);
  return n;
}

const SAMPLE = 8;

/**
 * Estimated bytes per event of a batch: exact for small batches, else the mean of a few
 * evenly spaced events. Events of one request are alike, and the figure only sizes merged
 * batches and reports memory held; the receiver's body limit is what bounds a request.
 */
export function estimateBatchBytesPerEvent(events: readonly unknown[]): number {
  const n = events.length;
  if (n === 0) return 0;
  const k = Math.min(n, SAMPLE);
  let sum = 0;
  for (let i = 0; i < k; i++) sum += estimateBytes(events[Math.floor((i * n) / k)]);
  return Math.ceil(sum / k);
}
