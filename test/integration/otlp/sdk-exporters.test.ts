import { Metadata } from '@grpc/grpc-js';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter as JsonMetricExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  InMemoryLogRecordExporter,
  LoggerProvider,
  type LogRecordExporter,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISO_TIME, type OtlpLedgerline, startOtlpLedgerline, UUID_V7 } from './ledgerline.ts';

/**
 * The stock OpenTelemetry JS SDK (providers, batch processors, the OTLP exporters for gRPC,
 * HTTP/protobuf and HTTP/JSON) pointed at a real ledgerline process with a tenant token; the
 * exact envelopes that land in the file sink are checked: attribute types, ids, timestamps,
 * tenant.
 */

let ll: OtlpLedgerline;
beforeAll(async () => {
  ll = await startOtlpLedgerline();
}, 60_000);
afterAll(async () => {
  await ll?.stop();
});

type Transport = 'grpc' | 'http/protobuf' | 'http/json';
const TRANSPORTS: Transport[] = ['grpc', 'http/protobuf', 'http/json'];

function grpcOptions() {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${ll.token}`);
  return { url: ll.grpc, metadata };
}
function httpOptions(path: string) {
  return { url: `${ll.http}${path}`, headers: { Authorization: `Bearer ${ll.token}` } };
}

function logExporter(t: Transport): LogRecordExporter {
  if (t === 'grpc') return new GrpcLogExporter(grpcOptions());
  if (t === 'http/protobuf') return new ProtoLogExporter(httpOptions('/v1/logs'));
  return new JsonLogExporter(httpOptions('/v1/logs'));
}
function traceExporter(t: Transport): SpanExporter {
  if (t === 'grpc') return new GrpcTraceExporter(grpcOptions());
  if (t === 'http/protobuf') return new ProtoTraceExporter(httpOptions('/v1/traces'));
  return new JsonTraceExporter(httpOptions('/v1/traces'));
}
function metricExporter(t: Transport): PushMetricExporter {
  const delta = { temporalityPreference: AggregationTemporalityPreference.DELTA };
  if (t === 'grpc') return new GrpcMetricExporter({ ...grpcOptions(), ...delta });
  if (t === 'http/protobuf') return new ProtoMetricExporter({ ...httpOptions('/v1/metrics'), ...delta });
  return new JsonMetricExporter({ ...httpOptions('/v1/metrics'), ...delta });
}

/** Events of this suite's tenant whose details carry `run` (each test sends its own). */
function eventsOf(run: string) {
  return ll.events().filter((e) => e.metadata?.details?.run === run);
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

describe.each(TRANSPORTS)('OpenTelemetry SDK over %s', (transport) => {
  const newRun = (what: string) => `${transport}-${what}-${Math.random().toString(36).slice(2, 8)}`;

  it('lands log records as envelopes with the exact fields', async () => {
    const run = newRun('logs');
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'it-app' }),
      processors: [new BatchLogRecordProcessor({ exporter: logExporter(transport) })],
    });
    const logger = provider.getLogger('it-logger', '1.0.0');
    const spanContext = trace.setSpanContext(context.active(), {
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: 1,
    });
    logger.emit({
      eventName: 'report.exported',
      timestamp: new Date('2026-01-02T03:04:05.678Z'),
      severityNumber: 9,
      body: 'report 7 exported',
      context: spanContext,
      attributes: {
        run,
        'enduser.id': 'u-1',
        rows: 12,
        ratio: 0.5,
        ok: true,
        tags: ['a', 'b'],
        'usage.feature': 'reports',
      },
    });
    logger.emit({
      timestamp: new Date('2026-01-02T03:04:06.000Z'),
      body: {
        event_type: 'audit',
        action: 'policy_changed',
        actor: { type: 'user', id: 'admin-1' },
        entity: { type: 'policy', id: 'p-9' },
        result: 'denied',
        metadata: { details: { run } },
      },
    });
    await provider.forceFlush();
    await provider.shutdown();

    const events = eventsOf(run);
    expect(events).toHaveLength(2);
    const activity = events.find((e) => e.event_type === 'activity')!;
    const audit = events.find((e) => e.event_type === 'audit')!;
    expect(activity.event_id).toMatch(UUID_V7);
    expect(activity.recorded_at).toMatch(ISO_TIME);
    expect(activity).toEqual({
      event_id: activity.event_id,
      recorded_at: activity.recorded_at,
      event_type: 'activity',
      occurred_at: '2026-01-02T03:04:05.678Z',
      actor: { type: 'user', id: 'u-1' },
      tenant: { id: ll.tenant },
      action: 'report_exported',
      result: 'success',
      correlation: { trace_id: TRACE_ID, span_id: SPAN_ID },
      metadata: {
        safe_fields_only: true,
        details: {
          'service.name': 'it-app',
          body: 'report 7 exported',
          run,
          rows: 12,
          ratio: 0.5,
          ok: true,
          tags: '["a","b"]',
        },
      },
      usage: { feature: 'reports', count: 1, outcome: 'ok', sample_rate: 1 },
    });
    expect(audit).toEqual({
      event_id: audit.event_id,
      recorded_at: audit.recorded_at,
      event_type: 'audit',
      occurred_at: '2026-01-02T03:04:06.000Z',
      actor: { type: 'user', id: 'admin-1' },
      tenant: { id: ll.tenant },
      entity: { type: 'policy', id: 'p-9' },
      action: 'policy_changed',
      result: 'denied',
      correlation: {},
      metadata: { safe_fields_only: true, details: { run, 'service.name': 'it-app' } },
    });
  });

  it('lands spans as usage events with latency and outcome', async () => {
    const run = newRun('spans');
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'it-api' }),
      spanProcessors: [new BatchSpanProcessor(traceExporter(transport))],
    });
    const tracer = provider.getTracer('it-tracer');
    const span = tracer.startSpan('GET /reports', {
      startTime: new Date('2026-02-03T04:05:06.000Z'),
      attributes: { run, 'enduser.id': 'u-2', 'http.response.status_code': 500 },
    });
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'db down' });
    span.end(new Date('2026-02-03T04:05:06.250Z'));
    await provider.forceFlush();
    await provider.shutdown();

    const [e] = eventsOf(run);
    expect(e).toEqual({
      event_id: expect.stringMatching(UUID_V7),
      recorded_at: expect.stringMatching(ISO_TIME),
      event_type: 'activity',
      occurred_at: '2026-02-03T04:05:06.000Z',
      actor: { type: 'user', id: 'u-2' },
      tenant: { id: ll.tenant },
      action: 'get_reports',
      result: 'failure',
      correlation: { trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId },
      metadata: {
        safe_fields_only: true,
        details: {
          'service.name': 'it-api',
          'status.message': 'db down',
          run,
          'http.response.status_code': 500,
        },
      },
      usage: { count: 1, latency_ms: 250, outcome: 'error', sample_rate: 1 },
    });
  });

  it('lands metric data points as usage events with count', async () => {
    const run = newRun('metrics');
    const reader = new PeriodicExportingMetricReader({
      exporter: metricExporter(transport),
      exportIntervalMillis: 3_600_000,
    });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'it-worker' }),
      readers: [reader],
    });
    const meter = provider.getMeter('it-meter');
    meter.createCounter('sql.generation').add(5, { run, 'enduser.id': 'u-3', 'usage.feature': 'sql' });
    meter.createHistogram('query.duration', { unit: 'ms' }).record(40, { run });
    meter.createHistogram('query.duration', { unit: 'ms' }).record(60, { run });
    await reader.forceFlush();
    await provider.shutdown();

    const events = eventsOf(run);
    const sum = events.find((e) => e.action === 'sql_generation');
    expect(sum).toEqual({
      event_id: expect.stringMatching(UUID_V7),
      recorded_at: expect.stringMatching(ISO_TIME),
      occurred_at: expect.stringMatching(ISO_TIME),
      event_type: 'activity',
      actor: { type: 'user', id: 'u-3' },
      tenant: { id: ll.tenant },
      action: 'sql_generation',
      result: 'success',
      correlation: {},
      metadata: {
        safe_fields_only: true,
        details: { 'service.name': 'it-worker', 'metric.name': 'sql.generation', 'metric.type': 'sum', run },
      },
      usage: { feature: 'sql', count: 5, outcome: 'ok', sample_rate: 1 },
    });
    const hist = events.find((e) => e.action === 'query_duration');
    expect(hist).toMatchObject({
      actor: { type: 'service', id: 'it-worker' },
      usage: { count: 2, latency_ms: 50 },
      metadata: { details: { 'metric.type': 'histogram', 'metric.unit': 'ms' } },
    });
  });
});

describe('authentication with the SDK exporters', () => {
  it('refuses a token of no tenant (the exporter reports the failure) and lands nothing', async () => {
    const run = `badtoken-${Math.random().toString(36).slice(2, 8)}`;
    const memory = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'x' }),
      processors: [new SimpleLogRecordProcessor({ exporter: memory })],
    });
    provider.getLogger('l').emit({ eventName: 'e', attributes: { run } });
    await provider.forceFlush();
    const exporter = new ProtoLogExporter({
      url: `${ll.http}/v1/logs`,
      headers: { Authorization: 'Bearer not-a-token' },
    });
    const result = await new Promise<{ code: number; error?: Error }>((resolve) =>
      exporter.export(memory.getFinishedLogRecords(), resolve),
    );
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(String(result.error)).toMatch(/Unauthorized/);
    expect(eventsOf(run)).toHaveLength(0);
  });
});
