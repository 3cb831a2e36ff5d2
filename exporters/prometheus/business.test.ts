import { describe, expect, it } from 'vitest';
import { testEvent } from '../../pipeline/testing.ts';
import { BusinessMetrics } from './business.ts';
import { prometheusConfigSchema } from './config.ts';
import type { MetricSnapshot } from './exposition.ts';
import { OTHER } from './series.ts';

const config = (over: Record<string, unknown> = {}) => prometheusConfigSchema.parse(over);

function sample(m: MetricSnapshot, labels: Record<string, string>, metricName?: string): number | undefined {
  return m.values.find(
    (v) =>
      (v.metricName ?? m.name) === (metricName ?? m.name) &&
      Object.entries(labels).every(([k, x]) => v.labels[k] === x),
  )?.value;
}

describe('business series', () => {
  it('re-weights usage by count / sample_rate and maps outcomes', () => {
    const b = new BusinessMetrics(config());
    b.apply(
      [
        testEvent({ action: 'sql_generation', usage: { sample_rate: 0.25 } }),
        testEvent({ action: 'sql_generation', usage: { count: 3, sample_rate: 0.5 } }),
        testEvent({ action: 'sql_generation', usage: { outcome: 'error' } }),
        testEvent({ action: 'dashboard_viewed', result: 'failure' }),
      ],
      0,
    );
    const m = b.usageEvents.get();
    expect(sample(m, { event_type: 'sql_generation', outcome: 'ok' })).toBe(4 + 6);
    expect(sample(m, { event_type: 'sql_generation', outcome: 'error' })).toBe(1);
    expect(sample(m, { event_type: 'dashboard_viewed', outcome: 'error' })).toBe(1);
    expect(m.values).toHaveLength(3);
  });

  it('counts audit events, denials by reason and tokens by direction', () => {
    const b = new BusinessMetrics(config());
    const audit = { event_type: 'audit', entity: { type: 'policy', id: 'p1' } };
    b.apply(
      [
        testEvent({ ...audit, action: 'export_requested', result: 'denied', reason: 'no_consent' }),
        testEvent({ ...audit, action: 'export_requested', result: 'denied', reason: 'no_consent' }),
        testEvent({ ...audit, action: 'role_assigned', result: 'success' }),
        testEvent({
          action: 'chat',
          usage: { provider: 'openai', sample_rate: 0.5, tokens: { input: 10, output: 3 } },
        }),
      ],
      0,
    );
    expect(sample(b.auditEvents.get(), { action: 'export_requested', result: 'denied' })).toBe(2);
    expect(sample(b.auditEvents.get(), { action: 'role_assigned', result: 'success' })).toBe(1);
    expect(
      sample(b.deniedEvents.get(), {
        event_class: 'audit',
        action: 'export_requested',
        reason: 'no_consent',
      }),
    ).toBe(2);
    expect(sample(b.llmTokens.get(), { provider: 'openai', direction: 'input' })).toBe(20);
    expect(sample(b.llmTokens.get(), { provider: 'openai', direction: 'output' })).toBe(6);
  });

  it('observes latency in seconds into le buckets, weighted', () => {
    const b = new BusinessMetrics(config({ latency_buckets_seconds: [0.1, 1] }));
    b.apply(
      [
        testEvent({ usage: { feature: 'f', tool: 't', latency_ms: 50, sample_rate: 0.5 } }),
        testEvent({ usage: { feature: 'f', tool: 't', latency_ms: 100 } }),
        testEvent({ usage: { feature: 'f', tool: 't', latency_ms: 5000 } }),
      ],
      0,
    );
    const m = b.usageLatency.get();
    const bucket = 'usage_latency_seconds_bucket';
    expect(sample(m, { feature: 'f', tool: 't', le: '0.1' }, bucket)).toBe(3);
    expect(sample(m, { feature: 'f', tool: 't', le: '1' }, bucket)).toBe(3);
    expect(sample(m, { feature: 'f', tool: 't', le: '+Inf' }, bucket)).toBe(4);
    expect(sample(m, { feature: 'f', tool: 't' }, 'usage_latency_seconds_count')).toBe(4);
    expect(sample(m, { feature: 'f', tool: 't' }, 'usage_latency_seconds_sum')).toBeCloseTo(
      0.05 * 2 + 0.1 + 5,
    );
  });

  it('adds a tenant label only where configured', () => {
    const b = new BusinessMetrics(config({ tenant_label: ['usage_events_total'] }));
    b.apply([testEvent({ tenant: { id: 'globex' }, usage: { latency_ms: 1 } })], 0);
    expect(b.usageEvents.get().values[0]!.labels).toEqual({
      tenant: 'globex',
      event_type: 'dashboard_viewed',
      outcome: 'ok',
    });
    expect(b.usageLatency.get().values[0]!.labels.tenant).toBeUndefined();
  });

  it('folds label sets past the cap into __other__ and counts them once per batch', () => {
    const b = new BusinessMetrics(
      config({ tenant_label: ['usage_events_total'], max_series_per_metric: 10 }),
    );
    const events = Array.from({ length: 25 }, (_, i) => testEvent({ tenant: { id: `t${i}` } }));
    const r1 = b.apply(events, 0);
    expect(r1.folded.get('usage_events_total')).toBe(25 - 9);
    const m = b.usageEvents.get();
    expect(m.values).toHaveLength(10);
    expect(sample(m, { tenant: OTHER, event_type: OTHER, outcome: OTHER })).toBe(16);
    // Known label sets keep counting in place; no new fold.
    const r2 = b.apply([testEvent({ tenant: { id: 't0' } })], 1);
    expect(r2.folded.size).toBe(0);
    expect(sample(b.usageEvents.get(), { tenant: 't0' })).toBe(2);
    // The total is conserved across real and folded series.
    expect(b.usageEvents.get().values.reduce((s, v) => s + v.value, 0)).toBe(26);
  });

  it('expires idle label sets after the TTL, freeing their slots', () => {
    const b = new BusinessMetrics(
      config({ tenant_label: ['usage_events_total'], max_series_per_metric: 3, series_ttl_ms: 1000 }),
    );
    b.apply(
      [
        testEvent({ tenant: { id: 'a' } }),
        testEvent({ tenant: { id: 'b' } }),
        testEvent({ tenant: { id: 'c' } }),
      ],
      0,
    );
    expect(b.usageEvents.table.size).toBe(3);
    b.apply([testEvent({ tenant: { id: 'a' } })], 900);
    expect(b.expire(1500)).toBe(2); // b and __other__ (c was folded) went; a was refreshed
    expect(b.usageEvents.get().values.map((v) => v.labels.tenant)).toEqual(['a']);
    const r = b.apply([testEvent({ tenant: { id: 'd' } })], 1600);
    expect(r.folded.size).toBe(0);
  });
});
