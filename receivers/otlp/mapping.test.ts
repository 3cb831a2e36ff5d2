import { describe, expect, it } from 'vitest';
import { testAuth } from '../../pipeline/testing.ts';
import { toAction } from './map-common.ts';
import { mapLogs } from './map-logs.ts';
import { mapMetrics } from './map-metrics.ts';
import { mapTraces } from './map-traces.ts';
import {
  type AnyValue,
  type Attributes,
  type DataPoint,
  type LogRecord,
  type MetricInfo,
  newAttributes,
  type Origin,
} from './model.ts';
import { newSpan } from './proto-traces.ts';

/** The mapping table of README.md, row by row. */

const PROTO = '__proto__';
const ctx = { auth: testAuth('acme'), now: new Date('2026-05-01T00:00:00Z') };

function attrs(o: Record<string, AnyValue>): Attributes {
  return Object.assign(newAttributes(), o);
}

function origin(resource: Record<string, AnyValue> = { 'service.name': 'billing' }): Origin {
  return { resource: attrs(resource), scope: { name: 's', version: '', attributes: newAttributes() } };
}

function log(over: Partial<LogRecord>): LogRecord {
  return {
    origin: origin(),
    timeMs: 1_700_000_000_123,
    observedTimeMs: 0,
    severityNumber: 9,
    severityText: '',
    body: undefined,
    attributes: newAttributes(),
    flags: 0,
    traceId: '0102030405060708090a0b0c0d0e0f10',
    spanId: '0102030405060708',
    eventName: '',
    ...over,
  };
}

describe('logs → envelope', () => {
  it('maps attributes, ids, time, service and the caller tenant', () => {
    const r = mapLogs(
      [
        log({
          eventName: 'dashboard.publish',
          attributes: attrs({
            'enduser.id': 'u-7',
            'enduser.role': 'analyst',
            'entity.type': 'dashboard',
            'entity.id': 'd-1',
            'request.id': 'req-1',
            rows: 42,
            'usage.feature': 'dashboards',
            'gen_ai.usage.input_tokens': 12,
          }),
        }),
      ],
      ctx,
    );
    expect(r.rejected).toBe(0);
    const [e] = r.events;
    expect(e).toMatchObject({
      event_type: 'activity',
      action: 'dashboard_publish',
      occurred_at: '2023-11-14T22:13:20.123Z',
      recorded_at: '2026-05-01T00:00:00.000Z',
      tenant: { id: 'acme' },
      actor: { type: 'user', id: 'u-7', role: 'analyst' },
      entity: { type: 'dashboard', id: 'd-1' },
      result: 'success',
      correlation: {
        trace_id: '0102030405060708090a0b0c0d0e0f10',
        span_id: '0102030405060708',
        request_id: 'req-1',
      },
      metadata: { safe_fields_only: true, details: { 'service.name': 'billing', rows: 42 } },
      usage: { feature: 'dashboards', count: 1, outcome: 'ok', sample_rate: 1, tokens: { input: 12 } },
    });
  });

  it('takes a map body with envelope fields as the envelope, filling tenant, time and ids', () => {
    const body = attrs({
      event_type: 'audit',
      action: 'policy_acknowledged',
      actor: attrs({ type: 'user', id: 'u-1' }),
      entity: attrs({ type: 'policy', id: 'p-9' }),
      result: 'success',
    });
    const [e] = mapLogs([log({ body })], ctx).events;
    expect(e).toMatchObject({
      event_type: 'audit',
      action: 'policy_acknowledged',
      tenant: { id: 'acme' },
      occurred_at: '2023-11-14T22:13:20.123Z',
      correlation: { trace_id: '0102030405060708090a0b0c0d0e0f10' },
      metadata: { details: { 'service.name': 'billing' } },
    });
  });

  it('takes a JSON string body as the envelope and keeps its own tenant and event_id', () => {
    const id = '0190b6a0-0000-7000-8000-000000000001';
    const body = JSON.stringify({
      event_id: id,
      event_type: 'activity',
      action: 'sql_generation',
      actor: { type: 'service', id: 'bot' },
      tenant: { id: 'globex' },
    });
    const [e] = mapLogs([log({ body })], ctx).events;
    expect(e).toMatchObject({ event_id: id, tenant: { id: 'globex' }, action: 'sql_generation' });
  });

  it('rejects records with no action or no actor, and invalid envelopes, naming the reason', () => {
    const r = mapLogs(
      [
        log({ body: 'just text' }),
        log({ eventName: 'x', origin: origin({}) }),
        log({ body: attrs({ action: 'Not Snake', actor: attrs({ type: 'user', id: 'u' }) }) }),
        log({ eventName: 'ok_event' }),
      ],
      ctx,
    );
    expect(r.events).toHaveLength(1);
    expect(r.rejected).toBe(3);
    expect(r.reasons[0]).toMatch(/^log record 0: no action/);
    expect(r.reasons[1]).toMatch(/^log record 1: no actor/);
    expect(r.reasons[2]).toMatch(/^log record 2: action: must be a snake_case verb/);
  });

  it('marks ERROR-severity records as failures and a tenant.id attribute wins over the caller', () => {
    const [e] = mapLogs(
      [log({ eventName: 'e', severityNumber: 17, attributes: attrs({ 'tenant.id': 'globex' }) })],
      ctx,
    ).events;
    expect(e).toMatchObject({
      result: 'failure',
      tenant: { id: 'globex' },
      actor: { type: 'service', id: 'billing' },
    });
  });

  it('a `__proto__` key (attribute or envelope body) never reaches a prototype', () => {
    // Set as the decoders do: these attribute sets have no prototype, so `__proto__` is a key.
    const a = newAttributes();
    a[PROTO] = attrs({ polluted: true });
    const body = attrs({ action: 'a', actor: attrs({ type: 'user', id: 'u' }) });
    body[PROTO] = attrs({ polluted: true });
    const r = mapLogs([log({ eventName: 'e', attributes: a }), log({ body })], ctx);
    expect(Object.getPrototypeOf(r.events[0]!.metadata.details)).toBe(Object.prototype);
    expect((r.events[0]!.metadata.details as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The envelope is strict: an unknown `__proto__` field is refused, not applied.
    expect(r.rejected).toBe(1);
    expect(r.reasons[0]).toMatch(/__proto__: unknown field/);
  });
});

function point(metric: Partial<MetricInfo>, over: Partial<DataPoint>): DataPoint {
  const m: MetricInfo = {
    origin: origin(),
    name: 'sql.generation',
    description: '',
    unit: '',
    kind: 'sum',
    temporality: 1,
    monotonic: true,
    ...metric,
  };
  return {
    metric: m,
    attributes: newAttributes(),
    startTimeMs: 0,
    timeMs: 1_700_000_000_000,
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
    ...over,
  };
}

describe('metric data points → usage events', () => {
  it('sums give count, histograms count and mean latency, no-value points are skipped', () => {
    const r = mapMetrics(
      [
        point({}, { value: 3, attributes: attrs({ 'enduser.id': 'u-1' }) }),
        point({ name: 'request.duration', kind: 'histogram', unit: 's' }, { count: 4, sum: 2 }),
        point({}, { flags: 1 }),
        point({}, { value: -1 }),
      ],
      ctx,
    );
    expect(r.events[0]).toMatchObject({
      action: 'sql_generation',
      actor: { type: 'user', id: 'u-1' },
      occurred_at: '2023-11-14T22:13:20.000Z',
      usage: { count: 3 },
      metadata: {
        details: { 'metric.name': 'sql.generation', 'metric.type': 'sum', 'service.name': 'billing' },
      },
    });
    expect(r.events[1]).toMatchObject({ action: 'request_duration', usage: { count: 4, latency_ms: 500 } });
    expect(r.skipped).toBe(1);
    expect(r.rejected).toBe(1);
    expect(r.reasons[0]).toMatch(/data point 3 of metric "sql.generation": usage.count/);
  });
});

describe('spans → usage events', () => {
  it('give latency from the times and outcome from the status', () => {
    const ok = {
      ...newSpan(origin()),
      name: 'GET /users',
      startMs: 1_700_000_000_000,
      startSubNs: 100_000,
      endMs: 1_700_000_000_002,
      endSubNs: 600_000,
    };
    const failed = {
      ...ok,
      statusCode: 2,
      statusMessage: 'boom',
      attributes: attrs({ 'event.name': 'export.run' }),
    };
    const r = mapTraces([ok, failed], ctx);
    expect(r.events[0]).toMatchObject({
      action: 'get_users',
      result: 'success',
      usage: { latency_ms: 2.5, outcome: 'ok', count: 1 },
    });
    expect(r.events[1]).toMatchObject({
      action: 'export_run',
      result: 'failure',
      usage: { outcome: 'error' },
      metadata: { details: { 'status.message': 'boom' } },
    });
  });
});

describe('toAction', () => {
  it('turns names into snake_case verbs', () => {
    expect(toAction('checkout.completed')).toBe('checkout_completed');
    expect(toAction('GET /api/v1/users')).toBe('get_api_v1_users');
    expect(toAction('200 ok')).toBe('n_200_ok');
    expect(toAction('..')).toBe('');
  });
});
