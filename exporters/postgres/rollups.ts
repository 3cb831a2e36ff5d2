import type { Event } from '../../pipeline/event.ts';
import { outcomeOf, USAGE_COLUMNS } from './rows.ts';

/**
 * Rollups, counted once per event. The raw insert returns the ids it actually inserted
 * (`ON CONFLICT DO NOTHING RETURNING id`); only those events are folded into rollup deltas
 * here, in memory, and one statement upserts the deltas into the hourly, daily and
 * daily- and weekly-per-actor tables in the same transaction. A replay inserts nothing, so it adds
 * nothing. Aggregating in the writer rather than in SQL saves the database three hash
 * aggregates per batch; the deltas are sorted so that concurrent batches lock shared rollup
 * rows in the same order.
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

/** One rollup delta row as sent to the database (short keys keep the JSON small). */
interface Delta {
  /** grain: h(ourly), d(aily), a(ctor daily), w(eekly actor) */
  g: 'h' | 'd' | 'a' | 'w';
  /** bucket: ISO hour or YYYY-MM-DD */
  b: string;
  t: string;
  e: string;
  a: string;
  f: string;
  tl: string;
  c: string;
  p: string;
  o: string;
  n: number;
  cs: number;
  es: number;
  lw: number;
  ls: number;
  lb: number[] | null;
  ti: number;
  tt: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of the Monday (UTC) starting the ISO week of a time, as SQL date_trunc('week'). */
export function weekOf(ms: number): string {
  const day = Math.floor(ms / DAY_MS) * DAY_MS;
  const sinceMonday = (new Date(day).getUTCDay() + 6) % 7;
  return new Date(day - sinceMonday * DAY_MS).toISOString().slice(0, 10);
}

/** Accumulates the rollup deltas of the events a batch inserted. */
export class RollupDeltas {
  private readonly rows = new Map<string, Delta>();

  /** Adds one inserted activity event to the three grains. */
  add(e: Event): void {
    const u = e.usage;
    const n = u?.count ?? 1;
    const w = n / (u?.sample_rate ?? 1);
    const latency = u?.latency_ms;
    const ti = u?.tokens?.input ?? 0;
    const tt = u?.tokens?.output ?? 0;
    const ms = Date.parse(e.occurred_at);
    const hour = new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString();
    const day = hour.slice(0, 10);
    const week = weekOf(ms);
    const f = u?.feature ?? '';
    const tl = u?.tool ?? '';
    const c = u?.capability ?? '';
    const p = u?.provider ?? '';
    const o = outcomeOf(e);
    // JSON keys: no separator a value could contain can make two groups collide.
    const t = e.tenant.id;
    for (const [g, b, key] of [
      ['h', hour, JSON.stringify(['h', t, hour, e.action, e.actor.id, f, tl, c, p, o])],
      ['d', day, JSON.stringify(['d', t, day, e.action, e.actor.id, f, tl, c, p, o])],
      ['a', day, JSON.stringify(['a', t, day, e.action, e.actor.id])],
      ['w', week, JSON.stringify(['w', t, week, e.action, e.actor.id])],
    ] as const) {
      let r = this.rows.get(key);
      if (!r) {
        const coarse = g === 'a' || g === 'w';
        r = {
          g,
          b,
          t: e.tenant.id,
          e: e.action,
          a: e.actor.id,
          f: coarse ? '' : f,
          tl: coarse ? '' : tl,
          c: coarse ? '' : c,
          p: coarse ? '' : p,
          o: coarse ? '' : o,
          n: 0,
          cs: 0,
          es: 0,
          lw: 0,
          ls: 0,
          lb: coarse ? null : new Array<number>(LATENCY_BUCKETS).fill(0),
          ti: 0,
          tt: 0,
        };
        this.rows.set(key, r);
      }
      r.n += 1;
      r.cs += n;
      r.es += w;
      r.ti += ti;
      r.tt += tt;
      if (latency !== undefined && r.lb) {
        r.lw += w;
        r.ls += w * latency;
        r.lb[latencyBucket(latency)]! += w;
      }
    }
  }

  /** Number of delta rows. */
  get size(): number {
    return this.rows.size;
  }

  /** The deltas as one JSON parameter, in a stable order (the lock order). */
  toJson(): string {
    const keys = [...this.rows.keys()].sort();
    return JSON.stringify(keys.map((k) => this.rows.get(k)));
  }
}

const FINE_KEY = 'tenant_id, BUCKET, event_type, actor_id, feature, tool, capability, provider, outcome';
// Element-wise sum written out: far cheaper per upserted row than calling a SQL function.
const MERGE_BUCKETS = `ARRAY[${Array.from({ length: LATENCY_BUCKETS }, (_, i) => `r.latency_buckets[${i + 1}] + excluded.latency_buckets[${i + 1}]`).join(', ')}]`;
const MERGE_COUNTS = `events = r.events + excluded.events, count_sum = r.count_sum + excluded.count_sum,
    estimated = r.estimated + excluded.estimated, tokens_input = r.tokens_input + excluded.tokens_input,
    tokens_output = r.tokens_output + excluded.tokens_output`;

function fine(table: string, bucket: string, cast: string, grain: string): string {
  const key = FINE_KEY.replace('BUCKET', bucket);
  return `INSERT INTO ${table} AS r (${key}, events, count_sum, estimated, latency_weight, latency_sum, latency_buckets, tokens_input, tokens_output)
  SELECT t, b::${cast}, e, a, f, tl, c, p, o, n, cs, es, lw, ls, lb, ti, tt FROM d WHERE g = '${grain}'
  ON CONFLICT (${key}) DO UPDATE SET ${MERGE_COUNTS},
    latency_weight = r.latency_weight + excluded.latency_weight, latency_sum = r.latency_sum + excluded.latency_sum,
    latency_buckets = ${MERGE_BUCKETS}
  RETURNING 1`;
}

/** Upserts the deltas of `RollupDeltas.toJson()` (parameter $1) into the four rollup tables. */
export const UPSERT_ROLLUPS = `WITH d AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(g text, b text, t text, e text, a text, f text, tl text, c text,
    p text, o text, n bigint, cs double precision, es double precision, lw double precision, ls double precision,
    lb double precision[], ti bigint, tt bigint)
), hourly AS (
  ${fine('usage_rollup_hourly', 'hour', 'timestamptz', 'h')}
), daily AS (
  ${fine('usage_rollup_daily', 'day', 'date', 'd')}
), daily_actor AS (
  INSERT INTO usage_rollup_daily_actor AS r (tenant_id, day, event_type, actor_id, events, count_sum, estimated, tokens_input, tokens_output)
  SELECT t, b::date, e, a, n, cs, es, ti, tt FROM d WHERE g = 'a'
  ON CONFLICT (tenant_id, day, event_type, actor_id) DO UPDATE SET ${MERGE_COUNTS}
  RETURNING 1
), weekly_actor AS (
  INSERT INTO usage_rollup_weekly_actor AS r (tenant_id, week, event_type, actor_id, events, count_sum, estimated, tokens_input, tokens_output)
  SELECT t, b::date, e, a, n, cs, es, ti, tt FROM d WHERE g = 'w'
  ON CONFLICT (tenant_id, week, event_type, actor_id) DO UPDATE SET ${MERGE_COUNTS}
  RETURNING 1
)
SELECT (SELECT count(*) FROM hourly)::int + (SELECT count(*) FROM daily)::int + (SELECT count(*) FROM daily_actor)::int
  + (SELECT count(*) FROM weekly_actor)::int AS upserted`;

/**
 * The raw insert for rows staged in `staging`, returning the ids it inserted. With
 * `dedupeWindowHours` > 0 a row is also skipped when the same id is stored with an occurred_at
 * up to that far away (a producer that re-sent an event id without occurred_at gets a new one
 * at each receipt).
 */
export function insertStatement(staging: string, dedupeWindowHours: number): string {
  const cols = USAGE_COLUMNS.join(', ');
  const window =
    dedupeWindowHours > 0
      ? `WHERE NOT EXISTS (SELECT 1 FROM usage_events d WHERE d.id = s.id
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
