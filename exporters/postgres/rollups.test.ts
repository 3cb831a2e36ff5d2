import { describe, expect, it } from 'vitest';
import { testEvent } from '../../pipeline/testing.ts';
import { PENDING_COLUMNS, RollupDeltas } from './deltas.ts';
import {
  insertStatement,
  LATENCY_BOUNDS_MS,
  LATENCY_BUCKETS,
  latencyBucket,
  latencyQuantiles,
  weekOf,
} from './rollups.ts';

describe('latency buckets', () => {
  it('has increasing bounds from 1 ms', () => {
    expect(LATENCY_BOUNDS_MS[0]).toBe(1);
    for (let i = 1; i < LATENCY_BOUNDS_MS.length; i++)
      expect(LATENCY_BOUNDS_MS[i]!).toBeGreaterThan(LATENCY_BOUNDS_MS[i - 1]!);
    expect(LATENCY_BUCKETS).toBe(LATENCY_BOUNDS_MS.length + 1);
  });

  it('puts a latency in the bucket SQL width_bucket would', () => {
    expect(latencyBucket(0.5)).toBe(0);
    expect(latencyBucket(1)).toBe(1);
    expect(latencyBucket(1.49)).toBe(1);
    expect(latencyBucket(1.5)).toBe(2);
    expect(latencyBucket(1e9)).toBe(LATENCY_BOUNDS_MS.length);
  });

  it('reads quantiles within one bucket of the truth and merges by adding', () => {
    const a = new Array(LATENCY_BUCKETS).fill(0);
    const b = new Array(LATENCY_BUCKETS).fill(0);
    for (let ms = 1; ms <= 1000; ms++) (ms % 2 ? a : b)[latencyBucket(ms)]++;
    const merged = a.map((x, i) => x + b[i]);
    const [p50, p95, p99] = latencyQuantiles(merged, [0.5, 0.95, 0.99]);
    for (const [got, want] of [
      [p50, 500],
      [p95, 950],
      [p99, 990],
    ] as const) {
      expect(got!).toBeGreaterThan(want / 1.5);
      expect(got!).toBeLessThan(want * 1.5);
    }
    expect(latencyQuantiles(new Array(LATENCY_BUCKETS).fill(0), [0.5])).toEqual([null]);
  });

  it('folds events into hourly deltas as COPY rows of the pending table, weighting by the sample rate', () => {
    const d = new RollupDeltas();
    const at = '2026-01-02T03:04:05.000Z';
    d.add(
      testEvent({ occurred_at: at, usage: { count: 2, sample_rate: 0.5, latency_ms: 10, feature: 'x' } }),
    );
    d.add(testEvent({ occurred_at: '2026-01-02T03:59:00.000Z', usage: { count: 1, feature: 'x' } }));
    d.add(testEvent({ occurred_at: '2026-01-02T04:00:00.000Z', usage: { count: 1, feature: 'y\tz' } }));
    expect(d.size).toBe(2);
    const rows = d
      .toCopy()
      .trimEnd()
      .split('\n')
      .map((l) => Object.fromEntries(l.split('\t').map((v, i) => [PENDING_COLUMNS[i], v])));
    expect(
      rows.map((r) => [r.hour, r.feature, r.events, r.count_sum, r.estimated, r.latency_weight]),
    ).toEqual([
      ['2026-01-02T03:00:00.000Z', 'x', '2', '3', '5', '4'],
      // The tab inside a value is escaped, so it cannot shift the columns.
      ['2026-01-02T04:00:00.000Z', 'y\\tz', '1', '1', '1', '0'],
    ]);
    const buckets = rows[0]!.latency_buckets!.slice(1, -1).split(',').map(Number);
    expect(buckets).toHaveLength(LATENCY_BUCKETS);
    expect(buckets[latencyBucket(10)]).toBe(4);
  });

  it('starts weeks on Monday (UTC), as date_trunc(week)', () => {
    expect(weekOf(Date.parse('2026-01-01T12:00:00Z'))).toBe('2025-12-29');
    expect(weekOf(Date.parse('2026-01-05T00:00:00Z'))).toBe('2026-01-05');
    expect(weekOf(Date.parse('2026-01-11T23:59:59.999Z'))).toBe('2026-01-05');
  });

  it('returns the inserted ids and probes the dedupe window only when asked', () => {
    expect(insertStatement('staging', 0)).toMatch(/ON CONFLICT DO NOTHING\s+RETURNING id/);
    expect(insertStatement('staging', 0)).not.toMatch(/NOT EXISTS/);
    expect(insertStatement('staging', 24)).toMatch(/interval '24 hours'/);
    // Only rows whose occurred_at the receiver stamped are probed.
    expect(insertStatement('staging', 24)).toMatch(/s\.occurred_at <> s\.recorded_at OR NOT EXISTS/);
  });
});
