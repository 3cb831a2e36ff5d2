import { USAGE_COLUMNS } from './rows.ts';

/**
 * Rollups, counted once per event. The raw insert returns the ids it actually inserted
 * (`ON CONFLICT DO NOTHING RETURNING id`); only those events are folded into hourly-grain
 * deltas in memory (deltas.ts) and COPYed into `usage_rollup_pending` in the same
 * transaction — an append, not an upsert: a replay inserts nothing, so it appends nothing.
 * `FOLD_PENDING` later moves the pending rows into the hourly, daily, daily-per-actor and
 * weekly-per-actor tables, in transactions that each delete exactly the rows they fold
 * (fold.ts), merging the keys that repeat across batches; readers add what is still pending,
 * so every answer stays exact.
 */

/**
 * Upper bounds (ms) of the fixed latency buckets: 1.5^k for k = 0..30 to 3 significant digits
 * (1 ms … 192 s, ≤ 25 % relative error). Bucket 0 is below 1 ms, the last is above 192 s.
 * Stored rollups depend on these values: changing them needs a migration.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = Array.from({ length: 31 }, (_, k) =>
  Number((1.5 ** k).toPrecision(3)),
);

/** Number of latency buckets (one more than bounds). */
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;

/** The bucket of a latency: how many bounds are ≤ it (SQL `width_bucket` semantics). */
export function latencyBucket(ms: number): number {
  let lo = 0;
  let hi = LATENCY_BOUNDS_MS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (LATENCY_BOUNDS_MS[mid]! <= ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of the Monday (UTC) starting the ISO week of a time, as SQL date_trunc('week'). */
export function weekOf(ms: number): string {
  const day = Math.floor(ms / DAY_MS) * DAY_MS;
  const sinceMonday = (new Date(day).getUTCDay() + 6) % 7;
  return new Date(day - sinceMonday * DAY_MS).toISOString().slice(0, 10);
}

const FINE = 'event_type, actor_id, feature, tool, capability, provider, outcome';
const SUM_BUCKETS = `ARRAY[${Array.from({ length: LATENCY_BUCKETS }, (_, i) => `sum(latency_buckets[${i + 1}])`).join(', ')}]`;
const SUMS = `sum(events)::bigint AS events, sum(count_sum) AS count_sum, sum(estimated) AS estimated,
    sum(tokens_input)::bigint AS tokens_input, sum(tokens_output)::bigint AS tokens_output`;
const FINE_SUMS = `${SUMS}, sum(latency_weight) AS latency_weight, sum(latency_sum) AS latency_sum,
    ${SUM_BUCKETS} AS latency_buckets`;
// Element-wise sum written out: far cheaper per upserted row than calling a SQL function.
const MERGE_BUCKETS = `ARRAY[${Array.from({ length: LATENCY_BUCKETS }, (_, i) => `r.latency_buckets[${i + 1}] + excluded.latency_buckets[${i + 1}]`).join(', ')}]`;
const MERGE_COUNTS = `events = r.events + excluded.events, count_sum = r.count_sum + excluded.count_sum,
    estimated = r.estimated + excluded.estimated, tokens_input = r.tokens_input + excluded.tokens_input,
    tokens_output = r.tokens_output + excluded.tokens_output`;
const MERGE_FINE = `${MERGE_COUNTS}, latency_weight = r.latency_weight + excluded.latency_weight,
    latency_sum = r.latency_sum + excluded.latency_sum, latency_buckets = ${MERGE_BUCKETS}`;
const MEASURES = 'events, count_sum, estimated, tokens_input, tokens_output';
const FINE_MEASURES = `${MEASURES}, latency_weight, latency_sum, latency_buckets`;

/**
 * Moves the pending deltas of one part (`$1` of `$2`, by a hash of actor_id) into the four
 * rollup tables; run in a transaction holding that part's fold lock (fold.ts). The DELETE sees
 * a snapshot: rows appended by batches committing meanwhile stay for the next fold, and rows
 * it deletes are folded exactly once. Every rollup grain includes the actor, so two parts
 * touch disjoint rollup rows and can run at once. Keys are grouped first (ON CONFLICT may
 * touch a row once per statement) and upserted in key order. The generation of every tenant
 * folded is incremented in the same transaction: it tells readers' caches (queries.ts) that
 * the tenant's rollup rows changed. Returns the number of pending rows folded.
 */
export const FOLD_PENDING = `WITH gone AS (
  DELETE FROM usage_rollup_pending WHERE (hashtext(actor_id) & 2147483647) % $2::int = $1::int RETURNING *
), h AS (
  SELECT tenant_id, hour, ${FINE}, ${FINE_SUMS} FROM gone GROUP BY tenant_id, hour, ${FINE}
), d AS (
  SELECT tenant_id, (hour AT TIME ZONE 'UTC')::date AS day, ${FINE}, ${FINE_SUMS} FROM h
  GROUP BY tenant_id, day, ${FINE}
), a AS (
  SELECT tenant_id, day, event_type, actor_id, ${SUMS} FROM d GROUP BY tenant_id, day, event_type, actor_id
), hourly AS (
  INSERT INTO usage_rollup_hourly AS r (tenant_id, hour, ${FINE}, ${FINE_MEASURES})
  SELECT tenant_id, hour, ${FINE}, ${FINE_MEASURES} FROM h ORDER BY tenant_id, hour, ${FINE}
  ON CONFLICT (tenant_id, hour, ${FINE}) DO UPDATE SET ${MERGE_FINE}
  RETURNING 1
), daily AS (
  INSERT INTO usage_rollup_daily AS r (tenant_id, day, ${FINE}, ${FINE_MEASURES})
  SELECT tenant_id, day, ${FINE}, ${FINE_MEASURES} FROM d ORDER BY tenant_id, day, ${FINE}
  ON CONFLICT (tenant_id, day, ${FINE}) DO UPDATE SET ${MERGE_FINE}
  RETURNING 1
), daily_actor AS (
  INSERT INTO usage_rollup_daily_actor AS r (tenant_id, day, event_type, actor_id, ${MEASURES})
  SELECT tenant_id, day, event_type, actor_id, ${MEASURES} FROM a ORDER BY tenant_id, day, event_type, actor_id
  ON CONFLICT (tenant_id, day, event_type, actor_id) DO UPDATE SET ${MERGE_COUNTS}
  RETURNING 1
), weekly_actor AS (
  INSERT INTO usage_rollup_weekly_actor AS r (tenant_id, week, event_type, actor_id, ${MEASURES})
  SELECT tenant_id, date_trunc('week', day::timestamp)::date AS week, event_type, actor_id, ${SUMS} FROM a
  GROUP BY tenant_id, week, event_type, actor_id ORDER BY tenant_id, week, event_type, actor_id
  ON CONFLICT (tenant_id, week, event_type, actor_id) DO UPDATE SET ${MERGE_COUNTS}
  RETURNING 1
), generations AS (
  INSERT INTO usage_rollup_generation AS g (tenant_id, generation)
  SELECT tenant_id, 1 FROM a GROUP BY tenant_id ORDER BY tenant_id
  ON CONFLICT (tenant_id) DO UPDATE SET generation = g.generation + 1
  RETURNING 1
)
SELECT (SELECT count(*) FROM gone)::int AS folded, (SELECT count(*) FROM hourly)::int
  + (SELECT count(*) FROM daily)::int + (SELECT count(*) FROM daily_actor)::int
  + (SELECT count(*) FROM weekly_actor)::int AS upserted, (SELECT count(*) FROM generations)::int AS tenants`;

/**
 * The raw insert for rows staged in `staging`, returning the ids it inserted. With
 * `dedupeWindowHours` > 0 a row whose occurred_at was stamped by the receiver (it equals
 * recorded_at: the producer sent none) is also skipped when the same id is stored with an
 * occurred_at up to that far away — such a re-send gets a new occurred_at at each receipt.
 * Rows carrying the producer's occurred_at need no probe: their replays carry the same one and
 * collide on the primary key.
 */
export function insertStatement(staging: string, dedupeWindowHours: number): string {
  const cols = USAGE_COLUMNS.join(', ');
  const window =
    dedupeWindowHours > 0
      ? `WHERE s.occurred_at <> s.recorded_at OR NOT EXISTS (SELECT 1 FROM usage_events d WHERE d.id = s.id
       AND d.occurred_at >= s.occurred_at - interval '${dedupeWindowHours} hours'
       AND d.occurred_at <= s.occurred_at + interval '${dedupeWindowHours} hours')`
      : '';
  return `INSERT INTO usage_events (${cols})
  SELECT ${USAGE_COLUMNS.map((c) => `s.${c}`).join(', ')} FROM ${staging} s ${window}
  ON CONFLICT DO NOTHING
  RETURNING id::text AS id`;
}

/** Latency quantiles (ms) from merged bucket weights, interpolating inside a bucket. */
export function latencyQuantiles(buckets: readonly number[], qs: readonly number[]): (number | null)[] {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return qs.map(() => null);
  return qs.map((q) => {
    const target = q * total;
    let seen = 0;
    for (let i = 0; i < buckets.length; i++) {
      const w = buckets[i] ?? 0;
      if (w > 0 && seen + w >= target) {
        const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!;
        const upper = i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i]! : lower;
        return lower + ((target - seen) / w) * (upper - lower);
      }
      seen += w;
    }
    return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
  });
}
