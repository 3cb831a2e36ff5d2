import {
  anyValue,
  attributes,
  count,
  double,
  enumValue,
  field,
  id,
  int64,
  invalidJson,
  type JsonObject,
  object,
  objects,
  parseJsonBody,
  resource,
  scope,
  str,
  time,
} from './json-common.ts';
import type { DataPoint, LogRecord, MetricInfo, MetricKind, Origin, Span } from './model.ts';
import { newSpan } from './proto-traces.ts';
import { Budget } from './wire.ts';

/**
 * OTLP/JSON decoding of the three export requests into the same records the protobuf decoders
 * produce, so mapping and answers do not depend on the encoding.
 */

const SEVERITY_NAMES: Record<string, number> = { SEVERITY_NUMBER_UNSPECIFIED: 0 };
for (const [i, level] of ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].entries()) {
  SEVERITY_NAMES[`SEVERITY_NUMBER_${level}`] = i * 4 + 1;
  for (let n = 2; n <= 4; n++) SEVERITY_NAMES[`SEVERITY_NUMBER_${level}${n}`] = i * 4 + n;
}
const TEMPORALITY_NAMES = {
  AGGREGATION_TEMPORALITY_UNSPECIFIED: 0,
  AGGREGATION_TEMPORALITY_DELTA: 1,
  AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
};
const SPAN_KIND_NAMES = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_NAMES = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

/** Walks resource → scope → items of an export request, giving each item its origin. */
function walk<T>(
  body: Buffer,
  names: readonly [
    resourceCamel: string,
    resourceSnake: string,
    scopeCamel: string,
    scopeSnake: string,
    itemCamel: string,
    itemSnake: string,
  ],
  each: (item: JsonObject, origin: Origin, where: string, out: T[], budget: Budget) => void,
): T[] {
  const [rc, rs, sc, ss, ic, is] = names;
  const root = parseJsonBody(body);
  const out: T[] = [];
  const budget = new Budget();
  for (const [ri, res] of objects(root, rc, rs, 'request').entries()) {
    const rw = `${rc}[${ri}]`;
    const resAttrs = resource(res, rw, budget);
    for (const [si, sco] of objects(res, sc, ss, rw).entries()) {
      const sw = `${rw}.${sc}[${si}]`;
      budget.value();
      const origin: Origin = { resource: resAttrs, scope: scope(sco, sw, budget) };
      for (const [ii, item] of objects(sco, ic, is, sw).entries())
        each(item, origin, `${sw}.${ic}[${ii}]`, out, budget);
    }
  }
  return out;
}

/** Decodes an OTLP/JSON ExportLogsServiceRequest. */
export function decodeLogsJson(body: Buffer): LogRecord[] {
  return walk<LogRecord>(
    body,
    ['resourceLogs', 'resource_logs', 'scopeLogs', 'scope_logs', 'logRecords', 'log_records'],
    (o, origin, w, out, budget) => {
      budget.record();
      out.push({
        origin,
        timeMs: time(o, 'timeUnixNano', 'time_unix_nano', w).ms,
        observedTimeMs: time(o, 'observedTimeUnixNano', 'observed_time_unix_nano', w).ms,
        severityNumber: enumValue(o, 'severityNumber', 'severity_number', SEVERITY_NAMES, w),
        severityText: str(o, 'severityText', 'severity_text', w),
        body: field(o, 'body', 'body') === undefined ? undefined : anyValue(o.body, 0, `${w}.body`, budget),
        attributes: attributes(o, w, budget),
        flags: count(o, 'flags', 'flags', w),
        traceId: id(o, 'traceId', 'trace_id', 16, w),
        spanId: id(o, 'spanId', 'span_id', 8, w),
        eventName: str(o, 'eventName', 'event_name', w),
      });
    },
  );
}

const KINDS: readonly [MetricKind, string, string][] = [
  ['gauge', 'gauge', 'gauge'],
  ['sum', 'sum', 'sum'],
  ['histogram', 'histogram', 'histogram'],
  ['exponential_histogram', 'exponentialHistogram', 'exponential_histogram'],
  ['summary', 'summary', 'summary'],
];

/** Decodes an OTLP/JSON ExportMetricsServiceRequest into data points. */
export function decodeMetricsJson(body: Buffer): DataPoint[] {
  return walk<DataPoint>(
    body,
    ['resourceMetrics', 'resource_metrics', 'scopeMetrics', 'scope_metrics', 'metrics', 'metrics'],
    (o, origin, w, out, budget) => {
      const metric: MetricInfo = {
        origin,
        name: str(o, 'name', 'name', w),
        description: str(o, 'description', 'description', w),
        unit: str(o, 'unit', 'unit', w),
        kind: 'gauge',
        temporality: 0,
        monotonic: false,
      };
      for (const [kind, camel, snake] of KINDS) {
        const data = object(o, camel, snake, w);
        if (!data) continue;
        const dw = `${w}.${camel}`;
        metric.kind = kind;
        metric.temporality = enumValue(
          data,
          'aggregationTemporality',
          'aggregation_temporality',
          TEMPORALITY_NAMES,
          dw,
        );
        const mono = field(data, 'isMonotonic', 'is_monotonic');
        metric.monotonic = mono === true;
        for (const [i, p] of objects(data, 'dataPoints', 'data_points', dw).entries())
          out.push(point(p, metric, `${dw}.dataPoints[${i}]`, budget));
      }
    },
  );
}

function point(o: JsonObject, metric: MetricInfo, w: string, budget: Budget): DataPoint {
  budget.record();
  const p: DataPoint = {
    metric,
    attributes: attributes(o, w, budget),
    startTimeMs: time(o, 'startTimeUnixNano', 'start_time_unix_nano', w).ms,
    timeMs: time(o, 'timeUnixNano', 'time_unix_nano', w).ms,
    value: undefined,
    count: undefined,
    sum: double(o, 'sum', 'sum', w),
    min: double(o, 'min', 'min', w),
    max: double(o, 'max', 'max', w),
    bucketCounts: [],
    explicitBounds: [],
    scale: 0,
    zeroCount: 0,
    quantiles: [],
    flags: count(o, 'flags', 'flags', w),
  };
  if (metric.kind === 'gauge' || metric.kind === 'sum') {
    const d = double(o, 'asDouble', 'as_double', w);
    const i = field(o, 'asInt', 'as_int');
    p.value = i !== undefined ? int64(i, `${w}.asInt`) : d;
    return p;
  }
  p.count = count(o, 'count', 'count', w);
  if (metric.kind === 'histogram') {
    p.bucketCounts = numbers(o, 'bucketCounts', 'bucket_counts', w, true);
    p.explicitBounds = numbers(o, 'explicitBounds', 'explicit_bounds', w, false);
  } else if (metric.kind === 'exponential_histogram') {
    const scale = field(o, 'scale', 'scale');
    p.scale = scale === undefined ? 0 : Number(int64(scale, `${w}.scale`));
    p.zeroCount = count(o, 'zeroCount', 'zero_count', w);
    for (const side of ['positive', 'negative']) {
      const b = object(o, side, side, w);
      if (b) p.bucketCounts.push(...numbers(b, 'bucketCounts', 'bucket_counts', `${w}.${side}`, true));
    }
  } else {
    for (const q of objects(o, 'quantileValues', 'quantile_values', w)) {
      p.quantiles.push([double(q, 'quantile', 'quantile', w) ?? 0, double(q, 'value', 'value', w) ?? 0]);
    }
  }
  return p;
}

function numbers(o: JsonObject, camel: string, snake: string, w: string, integers: boolean): number[] {
  const v = field(o, camel, snake);
  if (v === undefined) return [];
  if (!Array.isArray(v)) return invalidJson(`${w}.${camel} must be an array`);
  const where = `${w}.${camel}`;
  return v.map((x) => (integers ? count({ x }, 'x', 'x', where) : (double({ x }, 'x', 'x', where) ?? 0)));
}

/** Decodes an OTLP/JSON ExportTraceServiceRequest into spans. */
export function decodeTracesJson(body: Buffer): Span[] {
  return walk<Span>(
    body,
    ['resourceSpans', 'resource_spans', 'scopeSpans', 'scope_spans', 'spans', 'spans'],
    (o, origin, w, out, budget) => {
      budget.record();
      const s = newSpan(origin);
      s.traceId = id(o, 'traceId', 'trace_id', 16, w);
      s.spanId = id(o, 'spanId', 'span_id', 8, w);
      s.parentSpanId = id(o, 'parentSpanId', 'parent_span_id', 8, w);
      s.traceState = str(o, 'traceState', 'trace_state', w);
      s.name = str(o, 'name', 'name', w);
      s.kind = enumValue(o, 'kind', 'kind', SPAN_KIND_NAMES, w);
      const start = time(o, 'startTimeUnixNano', 'start_time_unix_nano', w);
      const end = time(o, 'endTimeUnixNano', 'end_time_unix_nano', w);
      s.startMs = start.ms;
      s.startSubNs = start.subNs;
      s.endMs = end.ms;
      s.endSubNs = end.subNs;
      s.attributes = attributes(o, w, budget);
      s.eventCount = objects(o, 'events', 'events', w).length;
      s.linkCount = objects(o, 'links', 'links', w).length;
      s.flags = count(o, 'flags', 'flags', w);
      const status = object(o, 'status', 'status', w);
      if (status) {
        s.statusCode = enumValue(status, 'code', 'code', STATUS_NAMES, `${w}.status`);
        s.statusMessage = str(status, 'message', 'message', `${w}.status`);
      }
      out.push(s);
    },
  );
}
