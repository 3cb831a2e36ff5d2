import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  AggregationType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeMetricsJson } from './json-signals.ts';
import type { DataPoint } from './model.ts';
import { decodeMetricsProto } from './proto-metrics.ts';

/**
 * The metric decoders on what the SDK produces (gauge, sum, histogram, exponential histogram),
 * serialized by @opentelemetry/otlp-transformer, and on a hand-encoded summary (the JS SDK has
 * no summaries).
 */

async function collect(): Promise<Uint8Array[]> {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'billing', 'tenant.id': 'acme' }),
    readers: [reader],
    views: [{ instrumentName: 'latency.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = provider.getMeter('test-meter', '2.0');
  meter.createCounter('sql_generation', { unit: '{call}' }).add(3, { 'enduser.id': 'u-1', feature: 'sql' });
  meter.createCounter('sql_generation').add(2, { 'enduser.id': 'u-2' });
  meter.createHistogram('request.duration', { unit: 'ms' }).record(10, { route: '/a' });
  meter.createHistogram('request.duration', { unit: 'ms' }).record(30, { route: '/a' });
  meter.createHistogram('latency.exp', { unit: 's' }).record(0.5);
  meter.createGauge('queue.depth').record(7.25, { queue: 'q1' });
  meter.createUpDownCounter('sessions').add(-4);
  await reader.forceFlush();
  const data = exporter.getMetrics();
  await provider.shutdown();
  return [
    ProtobufMetricsSerializer.serializeRequest(data[0]!)!,
    JsonMetricsSerializer.serializeRequest(data[0]!)!,
  ];
}

/** A fixed64 for protobufjs's writer, which takes 64-bit values as low/high halves. */
function nanos(v: bigint): never {
  return { low: Number(v & 0xffffffffn) | 0, high: Number(v >> 32n) | 0, unsigned: true } as never;
}

function byName(points: DataPoint[], name: string): DataPoint[] {
  return points.filter((p) => p.metric.name === name);
}

describe('metric decoders', () => {
  it('decode every SDK metric kind the same from protobuf and JSON', async () => {
    const [pb, json] = await collect();
    for (const points of [decodeMetricsProto(Buffer.from(pb!)), decodeMetricsJson(Buffer.from(json!))]) {
      const sums = byName(points, 'sql_generation');
      expect(sums.map((p) => [p.value, p.attributes['enduser.id']])).toEqual([
        [3, 'u-1'],
        [2, 'u-2'],
      ]);
      expect(sums[0]!.metric).toMatchObject({ kind: 'sum', unit: '{call}', temporality: 1, monotonic: true });
      expect(sums[0]!.metric.origin.resource['service.name']).toBe('billing');
      expect(sums[0]!.metric.origin.scope).toMatchObject({ name: 'test-meter', version: '2.0' });
      expect(sums[0]!.timeMs).toBeGreaterThan(1.7e12);

      const [h] = byName(points, 'request.duration');
      expect(h).toMatchObject({ count: 2, sum: 40, min: 10, max: 30 });
      expect(h!.metric.kind).toBe('histogram');
      expect(h!.bucketCounts.reduce((a, b) => a + b, 0)).toBe(2);
      expect(h!.explicitBounds.length).toBe(h!.bucketCounts.length - 1);

      const [e] = byName(points, 'latency.exp');
      expect(e).toMatchObject({ count: 1, sum: 0.5 });
      expect(e!.metric.kind).toBe('exponential_histogram');
      expect(e!.bucketCounts.reduce((a, b) => a + b, 0) + e!.zeroCount).toBe(1);

      const [g] = byName(points, 'queue.depth');
      expect(g).toMatchObject({ value: 7.25 });
      expect(g!.metric.kind).toBe('gauge');

      const [s] = byName(points, 'sessions');
      expect(s!.value).toBe(-4);
      expect(s!.metric.monotonic).toBe(false);
    }
  });

  it('decodes summaries from protobuf (hand-encoded)', () => {
    const w = protobuf.Writer.create();
    // ExportMetricsServiceRequest.resource_metrics → ScopeMetrics → Metric{name, summary{point}}
    w.uint32((1 << 3) | 2).fork();
    w.uint32((2 << 3) | 2).fork();
    w.uint32((2 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).string('rpc.latency');
    w.uint32((3 << 3) | 2).string('ms');
    w.uint32((11 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).fork();
    w.uint32((3 << 3) | 1).fixed64(nanos(1_700_000_000_123_456_789n));
    w.uint32((4 << 3) | 1).fixed64(4);
    w.uint32((5 << 3) | 1).double(100);
    w.uint32((6 << 3) | 2)
      .fork()
      .uint32((1 << 3) | 1)
      .double(0.5)
      .uint32((2 << 3) | 1)
      .double(20)
      .ldelim();
    w.uint32((7 << 3) | 2)
      .fork()
      .uint32((1 << 3) | 2)
      .string('k')
      .uint32((2 << 3) | 2)
      .fork()
      .uint32((1 << 3) | 2)
      .string('v')
      .ldelim()
      .ldelim();
    w.ldelim().ldelim().ldelim().ldelim().ldelim();
    const [p] = decodeMetricsProto(Buffer.from(w.finish()));
    expect(p).toMatchObject({ count: 4, sum: 100, quantiles: [[0.5, 20]], timeMs: 1_700_000_000_123 });
    expect(p!.metric).toMatchObject({ name: 'rpc.latency', kind: 'summary', unit: 'ms' });
    expect(p!.attributes.k).toBe('v');
  });

  it('decodes summaries from OTLP/JSON', () => {
    const body = {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'rpc.latency',
                  unit: 'ms',
                  summary: {
                    dataPoints: [
                      {
                        timeUnixNano: '1700000000123456789',
                        count: '4',
                        sum: 100,
                        quantileValues: [{ quantile: 0.5, value: 20 }],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const [p] = decodeMetricsJson(Buffer.from(JSON.stringify(body)));
    expect(p).toMatchObject({ count: 4, sum: 100, quantiles: [[0.5, 20]], timeMs: 1_700_000_000_123 });
  });
});
