import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpSelfTelemetry } from '../../../exporters/prometheus/otlp-export.ts';
import { createTelemetry, type Telemetry } from '../../../pipeline/telemetry.ts';

/**
 * The self-metrics reach an OTLP/gRPC receiver through the real OpenTelemetry SDK exporter.
 * The receiver is a small gRPC server decoding ExportMetricsServiceRequest with protobufjs.
 */

const root = protobuf.parse(
  readFileSync(join(import.meta.dirname, 'testdata/otlp-metrics-subset.proto'), 'utf8'),
).root;
const Request = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');

interface DecodedMetric {
  name: string;
  sum?: {
    dataPoints: { asDouble: number; attributes: { key: string; value: { stringValue: string } }[] }[];
    isMonotonic: boolean;
  };
  gauge?: {
    dataPoints: { asDouble: number; attributes: { key: string; value: { stringValue: string } }[] }[];
  };
  histogram?: {
    dataPoints: { count: string; sum: number; bucketCounts: string[]; explicitBounds: number[] }[];
  };
}

const requests: { metadata: grpc.Metadata; metrics: DecodedMetric[]; resource: Record<string, string> }[] =
  [];
let server: grpc.Server;
let endpoint: string;

beforeAll(async () => {
  server = new grpc.Server();
  server.addService(
    {
      Export: {
        path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: () => Buffer.alloc(0),
        responseDeserialize: (b: Buffer) => b,
      },
    },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const req = Request.toObject(Request.decode(call.request), { longs: String, defaults: true }) as {
          resourceMetrics: {
            resource: { attributes: { key: string; value: { stringValue: string } }[] };
            scopeMetrics: { metrics: DecodedMetric[] }[];
          }[];
        };
        for (const rm of req.resourceMetrics) {
          const resource = Object.fromEntries(
            rm.resource.attributes.map((a) => [a.key, a.value.stringValue]),
          );
          requests.push({
            metadata: call.metadata,
            metrics: rm.scopeMetrics.flatMap((s) => s.metrics),
            resource,
          });
        }
        callback(null, Buffer.alloc(0));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  endpoint = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
});

describe('OTLP self-telemetry', () => {
  let telemetry: Telemetry;

  it('exports counters, gauges and histograms of the registry with headers and resource', async () => {
    telemetry = createTelemetry();
    telemetry.receiverAccepted.inc({ receiver: 'otlp', transport: 'grpc' }, 7);
    telemetry.exporterQueueSize.set({ exporter: 'postgres' }, 3);
    telemetry.batchSize.observe({ component: 'redaction' }, 5);
    telemetry.batchSize.observe({ component: 'redaction' }, 500);
    const otlp = startOtlpSelfTelemetry(telemetry.registry, {
      endpoint,
      headers: { authorization: 'Bearer otlp-test-token' },
      interval_ms: 60_000,
      resource: { 'service.instance.id': 'it-1' },
    });
    try {
      await otlp.forceFlush();
    } finally {
      await otlp.shutdown();
    }
    expect(requests.length).toBeGreaterThan(0);
    const { metadata, metrics, resource } = requests[0]!;
    expect(metadata.get('authorization')).toEqual(['Bearer otlp-test-token']);
    expect(resource).toMatchObject({ 'service.name': 'ledgerline', 'service.instance.id': 'it-1' });
    const byName = new Map(metrics.map((m) => [m.name, m]));

    const accepted = byName.get('ledgerline_receiver_accepted_events_total')!;
    expect(accepted.sum!.isMonotonic).toBe(true);
    expect(accepted.sum!.dataPoints).toHaveLength(1);
    expect(accepted.sum!.dataPoints[0]!.asDouble).toBe(7);
    expect(accepted.sum!.dataPoints[0]!.attributes.map((a) => [a.key, a.value.stringValue])).toEqual([
      ['receiver', 'otlp'],
      ['transport', 'grpc'],
    ]);

    expect(byName.get('ledgerline_exporter_queue_size')!.gauge!.dataPoints[0]!.asDouble).toBe(3);

    const hist = byName.get('ledgerline_batch_size_events')!.histogram!.dataPoints[0]!;
    expect(hist.count).toBe('2');
    expect(hist.sum).toBe(505);
    expect(hist.explicitBounds).toEqual([1, 10, 100, 1000, 8192, 65536]);
    expect(hist.bucketCounts).toEqual(['0', '1', '0', '1', '0', '0', '0']);
  });
});
