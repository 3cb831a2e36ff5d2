/**
 * OTLP v1 data as the decoders produce it, the same for protobuf and JSON input. Only what
 * the mapping to the envelope uses is kept; the rest of each message is parsed (so malformed
 * input is refused) and dropped. Timestamps are exact whole milliseconds since the epoch plus
 * the nanoseconds within the millisecond where sub-millisecond durations matter (spans).
 */

/** An attribute or body value: every AnyValue kind. int64 is a bigint only past 2^53. */
export type AnyValue = string | number | bigint | boolean | Uint8Array | AnyValue[] | KeyValueList | null;

/** A `KeyValueList` (and attribute set): a null-prototype object, so no key reaches a prototype. */
export interface KeyValueList {
  [key: string]: AnyValue;
}

/** Attributes of a resource, scope, record, data point or span. */
export type Attributes = KeyValueList;

/** Creates an empty attribute set that no key (`__proto__` included) can escape. */
export function newAttributes(): Attributes {
  return Object.create(null) as Attributes;
}

/** An instrumentation scope. */
export interface Scope {
  name: string;
  version: string;
  attributes: Attributes;
}

/** The resource and scope a record was emitted under. */
export interface Origin {
  resource: Attributes;
  scope: Scope;
}

/** One log record (logs.proto LogRecord). */
export interface LogRecord {
  origin: Origin;
  /** 0 when unset. */
  timeMs: number;
  observedTimeMs: number;
  severityNumber: number;
  severityText: string;
  body: AnyValue | undefined;
  attributes: Attributes;
  flags: number;
  /** Lowercase hex; empty when absent. */
  traceId: string;
  spanId: string;
  eventName: string;
}

/** Which kind of metric a data point came from. */
export type MetricKind = 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary';

/** A metric's identity, shared by its data points. */
export interface MetricInfo {
  origin: Origin;
  name: string;
  description: string;
  unit: string;
  kind: MetricKind;
  /** 0 unspecified, 1 delta, 2 cumulative (sums and histograms). */
  temporality: number;
  monotonic: boolean;
}

/** One data point of any metric kind, with the fields the mapping reads. */
export interface DataPoint {
  metric: MetricInfo;
  attributes: Attributes;
  startTimeMs: number;
  timeMs: number;
  /** Gauge and sum points: the value (int64 as number or bigint, or double). */
  value: number | bigint | undefined;
  /** Histogram, exponential histogram and summary points. */
  count: number | undefined;
  sum: number | undefined;
  min: number | undefined;
  max: number | undefined;
  /** Histogram buckets (explicit) or exponential buckets flattened (positive then negative). */
  bucketCounts: number[];
  explicitBounds: number[];
  /** Exponential histograms: scale and zero bucket. */
  scale: number;
  zeroCount: number;
  /** Summaries: [quantile, value] pairs. */
  quantiles: [number, number][];
  flags: number;
}

/** One span (trace.proto Span) with its status. */
export interface Span {
  origin: Origin;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  /** 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startMs: number;
  startSubNs: number;
  endMs: number;
  endSubNs: number;
  attributes: Attributes;
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
  statusMessage: string;
  eventCount: number;
  linkCount: number;
  flags: number;
}

/** The three OTLP signals. */
export type Signal = 'logs' | 'metrics' | 'traces';

/** A decoded export request: the records of one signal, flattened with their origin. */
export type DecodedRequest =
  | { signal: 'logs'; records: LogRecord[] }
  | { signal: 'metrics'; records: DataPoint[] }
  | { signal: 'traces'; records: Span[] };
