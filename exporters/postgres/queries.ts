import type { Database } from './database.ts';
import { startOfUtcDay, utcDay } from './partitions.ts';
import { latencyQuantiles, weekOf } from './rollups.ts';
import { addPending, FoldedTotalsCache } from './totals-cache.ts';

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
// Deltas not folded yet (usage_rollup_pending, hourly grain) are added; they are read in the
// same statement, hence the same snapshot, as the folded rows or the tenant's fold generation
// (totals-cache.ts): a fold committing meanwhile is seen either wholly or not at all. Rows
// come back tagged by part ('f' folded, 'p' pending, one 'g' row carrying the generation).
const COLUMNS = 'event_type, actor_id, events, count_sum, estimated, tokens_input, tokens_output';
const FOLDED = `SELECT 'f' AS part, ${COLUMNS} FROM usage_rollup_daily_actor
  WHERE tenant_id = $1 AND day >= $2::date AND day < $3::date
  UNION ALL
  SELECT 'f', ${COLUMNS} FROM usage_rollup_weekly_actor WHERE tenant_id = $1 AND week >= $3::date`;
const PENDING = `SELECT 'p' AS part, ${COLUMNS} FROM usage_rollup_pending
  WHERE tenant_id = $1 AND hour >= ($2::date::timestamp AT TIME ZONE 'UTC')`;

/** A totals statement over `parts` plus the generation row; `filter` is the event-type list parameter. */
function totalsStatement(parts: readonly string[], filter: string | undefined): string {
  // Integer measures are summed as float8, exact below 2^53 and far cheaper per row than the
  // numeric sum(bigint) would be.
  return `SELECT part, event_type, actor_id, sum(events::float8) AS events, sum(count_sum) AS count,
  sum(estimated) AS estimated, sum(tokens_input::float8) AS tokens_input, sum(tokens_output::float8) AS tokens_output
FROM (${parts.join(' UNION ALL ')}) w
${filter ? `WHERE event_type IN (SELECT jsonb_array_elements_text(${filter}::jsonb))` : ''}
GROUP BY part, event_type, actor_id
UNION ALL
SELECT 'g', '', '', coalesce(max(generation), 0)::float8, 0, 0, 0, 0 FROM usage_rollup_generation WHERE tenant_id = $1`;
}
/** Statements by what they read: [unfiltered, filtered by event type]. */
const TOTALS = [totalsStatement([FOLDED, PENDING], undefined), totalsStatement([FOLDED, PENDING], '$4')];
const PENDING_TOTALS = [totalsStatement([PENDING], undefined), totalsStatement([PENDING], '$3')];

interface TaggedTotals extends ActorTotals {
  part: 'f' | 'p' | 'g';
}

/** Splits a totals statement's rows into the generation, the folded rows and the pending ones. */
function split(rows: readonly TaggedTotals[]): {
  generation: number;
  folded: ActorTotals[];
  pending: ActorTotals[];
} {
  let generation = 0;
  const folded: ActorTotals[] = [];
  const pending: ActorTotals[] = [];
  for (const r of rows) {
    if (r.part === 'g') {
      generation = r.events;
      continue;
    }
    // Spelled out (one object shape) rather than a rest spread: this runs for every row.
    (r.part === 'f' ? folded : pending).push({
      event_type: r.event_type,
      actor_id: r.actor_id,
      events: r.events,
      count: r.count,
      estimated: r.estimated,
      tokens_input: r.tokens_input,
      tokens_output: r.tokens_output,
    });
  }
  return { generation, folded, pending };
}

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
  private readonly rollupDays: number;
  private readonly cache = new FoldedTotalsCache();

  /** `db` is looked up per call: the exporter opens it at start. `rollupDays`: retention.rollup_days. */
  constructor(db: () => Database, maxDays: number, rollupDays: number) {
    this.db = db;
    this.maxDays = maxDays;
    this.rollupDays = rollupDays;
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
    const types = eventTypes ? [JSON.stringify(eventTypes)] : [];
    const key = FoldedTotalsCache.key(tenantId, from, weeks, eventTypes);
    // Retention deletes rollup days older than rollup_days; a window reaching near them is
    // never cached (two days of margin for clocks), so only folds change a cached window.
    const cacheable = days + 2 <= this.rollupDays;
    const filtered = eventTypes ? 1 : 0;
    return await this.db().connect(async (s) => {
      if (cacheable && this.cache.has(key)) {
        // The generation and the pending deltas in one statement: when the generation is the
        // cached one, the cached folded rows are those of this snapshot.
        const { generation, pending } = split(
          (await s.query<TaggedTotals>(PENDING_TOTALS[filtered]!, [tenantId, from, ...types])).rows,
        );
        const folded = this.cache.get(key, generation);
        if (folded) return addPending(folded, pending);
      }
      const r = split(
        (await s.query<TaggedTotals>(TOTALS[filtered]!, [tenantId, from, weeks, ...types])).rows,
      );
      if (cacheable) this.cache.set(key, r.generation, r.folded);
      return addPending(r.folded, r.pending);
    });
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
