import type { Database } from './database.ts';
import { startOfUtcDay, utcDay } from './partitions.ts';
import { latencyQuantiles, weekOf } from './rollups.ts';

/**
 * Read side of the exporter, for the usage API: totals over the last N UTC days, answered
 * from rollups only (never raw rows), always for one tenant.
 */

/** Totals of one event type and actor over a window. */
export interface ActorTotals {
  event_type: string;
  actor_id: string;
  /** Stored events. */
  events: number;
  /** Σ usage.count. */
  count: number;
  /** Σ count / sample_rate: the estimated number before sampling. */
  estimated: number;
  tokens_input: number;
  tokens_output: number;
}

/** Latency of one event type over a window, from merged buckets. */
export interface LatencySummary {
  event_type: string;
  /** Σ count / sample_rate of the events that carried a latency. */
  weight: number;
  mean_ms: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

/** What the postgres exporter offers readers such as the usage API extension. */
export interface UsageStore {
  /** Largest window, in days (retention.raw_days). */
  readonly maxDays: number;
  /** First UTC day of a `days` window ending today: today and the days − 1 days before. */
  windowStart(days: number, now?: number): string;
  /** Totals per event type and actor, optionally only for some event types. */
  actorTotals(
    tenantId: string,
    days: number,
    eventTypes?: readonly string[],
    now?: number,
  ): Promise<ActorTotals[]>;
  /** Latency quantiles per event type. */
  latency(tenantId: string, days: number, now?: number): Promise<LatencySummary[]>;
}

/** True when a component offers a UsageStore as `usage`. */
export function hasUsageStore(c: unknown): c is { usage: UsageStore } {
  const u = (c as { usage?: Partial<UsageStore> } | undefined)?.usage;
  return typeof u?.actorTotals === 'function' && typeof u.windowStart === 'function';
}

// Days from the window start to the first Monday on or after it come from the daily rollup,
// whole weeks from then on (the current one included, as the daily rows have no upper bound
// either) from the weekly one: a 30-day window reads ≤ 6 days + 5 weeks of rows, not 30 days.
// Deltas not folded yet (usage_rollup_pending, hourly grain) are added in the same statement,
// hence the same snapshot: a fold committing meanwhile is seen either wholly or not at all.
const TOTALS = `SELECT event_type, actor_id, sum(events)::float8 AS events, sum(count_sum) AS count,
  sum(estimated) AS estimated, sum(tokens_input)::float8 AS tokens_input, sum(tokens_output)::float8 AS tokens_output
FROM (
  SELECT event_type, actor_id, events, count_sum, estimated, tokens_input, tokens_output
  FROM usage_rollup_daily_actor WHERE tenant_id = $1 AND day >= $2::date AND day < $3::date
  UNION ALL
  SELECT event_type, actor_id, events, count_sum, estimated, tokens_input, tokens_output
  FROM usage_rollup_weekly_actor WHERE tenant_id = $1 AND week >= $3::date
  UNION ALL
  SELECT event_type, actor_id, events, count_sum, estimated, tokens_input, tokens_output
  FROM usage_rollup_pending WHERE tenant_id = $1 AND hour >= ($2::date::timestamp AT TIME ZONE 'UTC')
) w`;
const LATENCY = `SELECT event_type, ledgerline_sum_buckets(latency_buckets) AS buckets,
  sum(latency_weight) AS weight, sum(latency_sum) AS total
FROM (
  SELECT event_type, latency_buckets, latency_weight, latency_sum
  FROM usage_rollup_daily WHERE tenant_id = $1 AND day >= $2::date AND latency_weight > 0
  UNION ALL
  SELECT event_type, latency_buckets, latency_weight, latency_sum FROM usage_rollup_pending
  WHERE tenant_id = $1 AND hour >= ($2::date::timestamp AT TIME ZONE 'UTC') AND latency_weight > 0
) l
GROUP BY event_type ORDER BY event_type`;

/** The UsageStore over a database. */
export class RollupQueries implements UsageStore {
  readonly maxDays: number;
  private readonly db: () => Database;

  /** `db` is looked up per call: the exporter opens it at start. */
  constructor(db: () => Database, maxDays: number) {
    this.db = db;
    this.maxDays = maxDays;
  }

  windowStart(days: number, now: number = Date.now()): string {
    return utcDay(startOfUtcDay(now) - (days - 1) * 86_400_000);
  }

  async actorTotals(
    tenantId: string,
    days: number,
    eventTypes?: readonly string[],
    now?: number,
  ): Promise<ActorTotals[]> {
    const from = this.windowStart(days, now);
    const fromMs = Date.parse(`${from}T00:00:00Z`);
    // First Monday on or after the window start.
    const weeks = weekOf(fromMs) === from ? from : weekOf(fromMs + 7 * 86_400_000);
    const sql = eventTypes
      ? `${TOTALS} WHERE event_type IN (SELECT jsonb_array_elements_text($4::jsonb)) GROUP BY event_type, actor_id`
      : `${TOTALS} GROUP BY event_type, actor_id`;
    const params = eventTypes ? [tenantId, from, weeks, JSON.stringify(eventTypes)] : [tenantId, from, weeks];
    return await this.db().connect(async (s) => (await s.query<ActorTotals>(sql, params)).rows);
  }

  async latency(tenantId: string, days: number, now?: number): Promise<LatencySummary[]> {
    const from = this.windowStart(days, now);
    const rows = await this.db().connect(
      async (s) =>
        (
          await s.query<{ event_type: string; buckets: number[]; weight: number; total: number }>(LATENCY, [
            tenantId,
            from,
          ])
        ).rows,
    );
    return rows.map((r) => {
      const [p50, p95, p99] = latencyQuantiles(r.buckets.map(Number), [0.5, 0.95, 0.99]);
      return {
        event_type: r.event_type,
        weight: r.weight,
        mean_ms: r.weight > 0 ? r.total / r.weight : null,
        p50_ms: p50 ?? null,
        p95_ms: p95 ?? null,
        p99_ms: p99 ?? null,
      };
    });
  }
}
