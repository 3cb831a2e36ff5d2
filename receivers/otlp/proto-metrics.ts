import type { DataPoint, MetricInfo, MetricKind, Origin } from './model.ts';
import { newAttributes } from './model.ts';
import { type FieldTable, readAttribute, skipField } from './proto-common.ts';
import { decodeExport, exportShape } from './proto-export.ts';
import { WIRE, type WireReader } from './wire.ts';

/**
 * Protobuf decoding of ExportMetricsServiceRequest (collector/metrics/v1, metrics/v1) into
 * flat data points of every kind: gauge, sum, histogram, exponential histogram and summary.
 * Repeated numbers are accepted packed and unpacked, as protobuf parsers must.
 */

const LEN = WIRE.len;
const I64 = WIRE.i64;
const VARINT = WIRE.varint;
const METRIC_FIELDS: FieldTable = {
  1: ['name', LEN],
  2: ['description', LEN],
  3: ['unit', LEN],
  5: ['gauge', LEN],
  7: ['sum', LEN],
  9: ['histogram', LEN],
  10: ['exponential_histogram', LEN],
  11: ['summary', LEN],
  12: ['metadata', LEN],
};
const AGGREGATION_FIELDS: FieldTable = {
  1: ['data_points', LEN],
  2: ['aggregation_temporality', VARINT],
  3: ['is_monotonic', VARINT],
};
const NUMBER_POINT_FIELDS: FieldTable = {
  2: ['start_time_unix_nano', I64],
  3: ['time_unix_nano', I64],
  4: ['as_double', I64],
  5: ['exemplars', LEN],
  6: ['as_int', I64],
  7: ['attributes', LEN],
  8: ['flags', VARINT],
};
const HISTOGRAM_POINT_FIELDS: FieldTable = {
  2: ['start_time_unix_nano', I64],
  3: ['time_unix_nano', I64],
  4: ['count', I64],
  5: ['sum', I64],
  8: ['exemplars', LEN],
  9: ['attributes', LEN],
  10: ['flags', VARINT],
  11: ['min', I64],
  12: ['max', I64],
};
const EXP_POINT_FIELDS: FieldTable = {
  1: ['attributes', LEN],
  2: ['start_time_unix_nano', I64],
  3: ['time_unix_nano', I64],
  4: ['count', I64],
  5: ['sum', I64],
  6: ['scale', VARINT],
  7: ['zero_count', I64],
  8: ['positive', LEN],
  9: ['negative', LEN],
  10: ['flags', VARINT],
  11: ['exemplars', LEN],
  12: ['min', I64],
  13: ['max', I64],
  14: ['zero_threshold', I64],
};
const SUMMARY_POINT_FIELDS: FieldTable = {
  2: ['start_time_unix_nano', I64],
  3: ['time_unix_nano', I64],
  4: ['count', I64],
  5: ['sum', I64],
  6: ['quantile_values', LEN],
  7: ['attributes', LEN],
  8: ['flags', VARINT],
};
const BUCKETS_FIELDS: FieldTable = { 1: ['offset', VARINT] };
const QUANTILE_FIELDS: FieldTable = { 1: ['quantile', I64], 2: ['value', I64] };

const KIND_BY_FIELD: Record<number, MetricKind> = {
  5: 'gauge',
  7: 'sum',
  9: 'histogram',
  10: 'exponential_histogram',
  11: 'summary',
};

/** Decodes an ExportMetricsServiceRequest; throws `invalid_request` when it is malformed. */
export function decodeMetricsProto(body: Buffer): DataPoint[] {
  return decodeExport(body, METRICS);
}

const METRICS = exportShape<DataPoint>(
  { message: 'Metrics', field: 'metrics', items: 'metrics' },
  readMetric,
);

function readMetric(r: WireReader, end: number, origin: Origin, out: DataPoint[]): void {
  const metric: MetricInfo = {
    origin,
    name: '',
    description: '',
    unit: '',
    kind: 'gauge',
    temporality: 0,
    monotonic: false,
  };
  while (r.pos < end) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (tag === ((1 << 3) | LEN)) metric.name = r.string('Metric.name');
    else if (tag === ((2 << 3) | LEN)) metric.description = r.string('Metric.description');
    else if (tag === ((3 << 3) | LEN)) metric.unit = r.string('Metric.unit');
    else if ((tag & 7) === LEN && KIND_BY_FIELD[field] !== undefined) {
      metric.kind = KIND_BY_FIELD[field];
      readAggregation(r, r.end(), metric, out);
    } else skipField(r, tag, METRIC_FIELDS, 'Metric');
  }
  r.close(end);
}

function readAggregation(r: WireReader, end: number, metric: MetricInfo, out: DataPoint[]): void {
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | LEN)) out.push(readPoint(r, r.end(), metric));
    else if (tag === ((2 << 3) | VARINT) && metric.kind !== 'gauge' && metric.kind !== 'summary')
      metric.temporality = r.int32();
    else if (tag === ((3 << 3) | VARINT) && metric.kind === 'sum') metric.monotonic = r.bool();
    else skipField(r, tag, AGGREGATION_FIELDS, 'Metric data');
  }
  r.close(end);
}

function newPoint(metric: MetricInfo): DataPoint {
  return {
    metric,
    attributes: newAttributes(),
    startTimeMs: 0,
    timeMs: 0,
    value: undefined,
    count: undefined,
    sum: undefined,
    min: undefined,
    max: undefined,
    bucketCounts: [],
    explicitBounds: [],
    scale: 0,
    zeroCount: 0,
    quantiles: [],
    flags: 0,
  };
}

function readPoint(r: WireReader, end: number, metric: MetricInfo): DataPoint {
  r.budget.record();
  const p = newPoint(metric);
  switch (metric.kind) {
    case 'gauge':
    case 'sum':
      readNumberPoint(r, end, p);
      break;
    case 'histogram':
      readHistogramPoint(r, end, p);
      break;
    case 'exponential_histogram':
      readExponentialPoint(r, end, p);
      break;
    case 'summary':
      readSummaryPoint(r, end, p);
      break;
  }
  r.close(end);
  return p;
}

function readNumberPoint(r: WireReader, end: number, p: DataPoint): void {
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case (2 << 3) | I64:
        p.startTimeMs = r.timeMs();
        break;
      case (3 << 3) | I64:
        p.timeMs = r.timeMs();
        break;
      case (4 << 3) | I64:
        p.value = r.double();
        break;
      case (6 << 3) | I64:
        p.value = r.sfixed64();
        break;
      case (7 << 3) | LEN:
        readAttribute(r, p.attributes);
        break;
      case (8 << 3) | VARINT:
        p.flags = r.uint32();
        break;
      default:
        skipField(r, tag, NUMBER_POINT_FIELDS, 'NumberDataPoint');
    }
  }
}

function readHistogramPoint(r: WireReader, end: number, p: DataPoint): void {
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case (2 << 3) | I64:
        p.startTimeMs = r.timeMs();
        break;
      case (3 << 3) | I64:
        p.timeMs = r.timeMs();
        break;
      case (4 << 3) | I64:
        p.count = r.fixed64Number();
        break;
      case (5 << 3) | I64:
        p.sum = r.double();
        break;
      case (6 << 3) | LEN:
        readPacked(r, r.end(), p.bucketCounts, I64);
        break;
      case (6 << 3) | I64:
        p.bucketCounts.push(r.fixed64Number());
        break;
      case (7 << 3) | LEN:
        readPacked(r, r.end(), p.explicitBounds, -1);
        break;
      case (7 << 3) | I64:
        p.explicitBounds.push(r.double());
        break;
      case (9 << 3) | LEN:
        readAttribute(r, p.attributes);
        break;
      case (10 << 3) | VARINT:
        p.flags = r.uint32();
        break;
      case (11 << 3) | I64:
        p.min = r.double();
        break;
      case (12 << 3) | I64:
        p.max = r.double();
        break;
      default:
        skipField(r, tag, HISTOGRAM_POINT_FIELDS, 'HistogramDataPoint');
    }
  }
}

function readExponentialPoint(r: WireReader, end: number, p: DataPoint): void {
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case (1 << 3) | LEN:
        readAttribute(r, p.attributes);
        break;
      case (2 << 3) | I64:
        p.startTimeMs = r.timeMs();
        break;
      case (3 << 3) | I64:
        p.timeMs = r.timeMs();
        break;
      case (4 << 3) | I64:
        p.count = r.fixed64Number();
        break;
      case (5 << 3) | I64:
        p.sum = r.double();
        break;
      case (6 << 3) | VARINT:
        p.scale = r.sint32();
        break;
      case (7 << 3) | I64:
        p.zeroCount = r.fixed64Number();
        break;
      case (8 << 3) | LEN:
      case (9 << 3) | LEN:
        readBuckets(r, r.end(), p.bucketCounts);
        break;
      case (10 << 3) | VARINT:
        p.flags = r.uint32();
        break;
      case (12 << 3) | I64:
        p.min = r.double();
        break;
      case (13 << 3) | I64:
        p.max = r.double();
        break;
      default:
        skipField(r, tag, EXP_POINT_FIELDS, 'ExponentialHistogramDataPoint');
    }
  }
}

function readBuckets(r: WireReader, end: number, into: number[]): void {
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((2 << 3) | LEN)) readPacked(r, r.end(), into, VARINT);
    else if (tag === ((2 << 3) | VARINT)) into.push(r.uint64());
    else if (tag === ((1 << 3) | VARINT)) r.sint32();
    else skipField(r, tag, BUCKETS_FIELDS, 'Buckets');
  }
  r.close(end);
}

function readSummaryPoint(r: WireReader, end: number, p: DataPoint): void {
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case (2 << 3) | I64:
        p.startTimeMs = r.timeMs();
        break;
      case (3 << 3) | I64:
        p.timeMs = r.timeMs();
        break;
      case (4 << 3) | I64:
        p.count = r.fixed64Number();
        break;
      case (5 << 3) | I64:
        p.sum = r.double();
        break;
      case (6 << 3) | LEN:
        p.quantiles.push(readQuantile(r, r.end()));
        break;
      case (7 << 3) | LEN:
        readAttribute(r, p.attributes);
        break;
      case (8 << 3) | VARINT:
        p.flags = r.uint32();
        break;
      default:
        skipField(r, tag, SUMMARY_POINT_FIELDS, 'SummaryDataPoint');
    }
  }
}

function readQuantile(r: WireReader, end: number): [number, number] {
  const q: [number, number] = [0, 0];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | I64)) q[0] = r.double();
    else if (tag === ((2 << 3) | I64)) q[1] = r.double();
    else skipField(r, tag, QUANTILE_FIELDS, 'ValueAtQuantile');
  }
  r.close(end);
  return q;
}

/** Reads a packed repeated field: fixed64 counts (I64), varint counts (VARINT) or doubles (-1). */
function readPacked(r: WireReader, end: number, into: number[], kind: number): void {
  while (r.pos < end) {
    if (kind === I64) into.push(r.fixed64Number());
    else if (kind === VARINT) into.push(r.uint64());
    else into.push(r.double());
  }
  r.close(end);
}
