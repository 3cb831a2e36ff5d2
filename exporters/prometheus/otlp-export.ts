import { Metadata } from '@grpc/grpc-js';
import { type HrTime, ValueType } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { emptyResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type CollectionResult,
  DataPointType,
  MeterProvider,
  type MetricData,
  type MetricProducer,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import type { Registry } from 'prom-client';
import type { MetricSnapshot, MetricSource, SampleValue } from './exposition.ts';

/**
 * `service.telemetry.metrics.otlp`: pushes the same self-metrics the Prometheus endpoint serves
 * over OTLP/gRPC, through the OpenTelemetry SDK's periodic reader and OTLP exporter. The
 * prom-client registry stays the one source of truth; a MetricProducer reads it at each export
 * and translates counters to cumulative monotonic sums, gauges to gauges and histograms to
 * explicit-bucket histograms (summaries have no counterpart and are skipped).
 */

/** What the lead's `service.telemetry.metrics.otlp` section holds. */
export interface OtlpSelfTelemetryOptions {
  /** OTLP/gRPC endpoint, `http://host:4317` (plaintext) or `https://...` (TLS). */
  endpoint: string;
  /** gRPC metadata sent with every export (e.g. an authorization header). */
  headers?: Record<string, string>;
  /** Export interval in ms. Default 10000. */
  interval_ms?: number;
  /** Resource attributes; `service.name` defaults to `ledgerline`. */
  resource?: Record<string, string>;
}

/** A running OTLP push; stop it on shutdown (it flushes once more). */
export interface OtlpSelfTelemetry {
  /** Exports now, waiting for the answer. */
  forceFlush(): Promise<void>;
  /** Exports a last time and stops. Idempotent. */
  shutdown(): Promise<void>;
}

const hr = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];
const attributes = (labels: SampleValue['labels']): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const k in labels) if (k !== 'le' && labels[k] !== undefined) out[k] = String(labels[k]);
  return out;
};

/** Translates one prom-client family into OTLP metric data, or undefined for summaries. */
export function toMetricData(m: MetricSnapshot, start: HrTime, end: HrTime): MetricData | undefined {
  const descriptor = { name: m.name, description: m.help, unit: '', valueType: ValueType.DOUBLE };
  const point = (v: SampleValue) => ({
    startTime: start,
    endTime: end,
    attributes: attributes(v.labels),
    value: v.value,
  });
  if (m.type === 'counter') {
    return {
      descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: m.values.map(point),
    };
  }
  if (m.type === 'gauge') {
    return {
      descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: m.values.map(point),
    };
  }
  if (m.type !== 'histogram') return undefined;
  // Group the _bucket/_sum/_count samples by label set (without `le`).
  const series = new Map<
    string,
    { attrs: Record<string, string>; bounds: number[]; cumulative: number[]; sum: number; count: number }
  >();
  for (const v of m.values) {
    const attrs = attributes(v.labels);
    const key = JSON.stringify(attrs);
    let s = series.get(key);
    if (!s) {
      s = { attrs, bounds: [], cumulative: [], sum: 0, count: 0 };
      series.set(key, s);
    }
    if (v.metricName?.endsWith('_bucket')) {
      const le = String(v.labels.le);
      if (le !== '+Inf') s.bounds.push(Number(le));
      s.cumulative.push(v.value);
    } else if (v.metricName?.endsWith('_sum')) s.sum = v.value;
    else if (v.metricName?.endsWith('_count')) s.count = v.value;
  }
  return {
    descriptor,
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: [...series.values()].map((s) => ({
      startTime: start,
      endTime: end,
      attributes: s.attrs,
      value: {
        buckets: {
          boundaries: s.bounds,
          counts: s.cumulative.map((c, i) => c - (i === 0 ? 0 : s.cumulative[i - 1]!)),
        },
        sum: s.sum,
        count: s.count,
      },
    })),
  };
}

/** A MetricProducer reading a prom-client registry at each collection. */
export function registryProducer(registry: Registry, startMs: number): MetricProducer {
  const start = hr(startMs);
  return {
    async collect(): Promise<CollectionResult> {
      const end = hr(Date.now());
      const metrics: MetricData[] = [];
      const errors: unknown[] = [];
      for (const metric of registry.getMetricsAsArray() as unknown as MetricSource[]) {
        try {
          const data = toMetricData(await metric.get(), start, end);
          if (data) metrics.push(data);
        } catch (err) {
          errors.push(err);
        }
      }
      return {
        resourceMetrics: {
          resource: emptyResource(),
          scopeMetrics: [{ scope: { name: 'ledgerline' }, metrics }],
        },
        errors,
      };
    },
  };
}

/** Starts pushing the registry's metrics over OTLP/gRPC every `interval_ms`. */
export function startOtlpSelfTelemetry(
  registry: Registry,
  options: OtlpSelfTelemetryOptions,
): OtlpSelfTelemetry {
  const interval = options.interval_ms ?? 10_000;
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(options.headers ?? {})) metadata.set(k, v);
  const exporter = new OTLPMetricExporter({ url: options.endpoint, metadata });
  // Cumulative start time: the process start, since the registry's counters count from there.
  const startMs = Date.now() - process.uptime() * 1000;
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: interval,
    exportTimeoutMillis: Math.min(interval, 30_000),
    metricProducers: [registryProducer(registry, startMs)],
  });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'ledgerline', ...options.resource }),
    readers: [reader],
  });
  let stopped: Promise<void> | undefined;
  return {
    forceFlush: () => provider.forceFlush(),
    shutdown: () => {
      stopped ??= provider.shutdown();
      return stopped;
    },
  };
}
