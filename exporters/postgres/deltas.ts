import type { Event } from '../../pipeline/event.ts';
import { LATENCY_BUCKETS, latencyBucket } from './rollups.ts';
import { copyText, outcomeOf } from './rows.ts';

/**
 * The hourly rollup deltas of the events one batch inserted, as COPY rows of
 * `usage_rollup_pending` (rollups.ts FOLD_PENDING moves them into the rollup tables later).
 * This runs once per stored event on the sink's hot path, so the lookup of an event's delta
 * walks nested maps keyed by the strings the event already holds — V8 caches a string's hash,
 * so that costs a few hash probes — instead of joining and hashing a key string per event;
 * the escaped COPY text of a key is built once, when its delta is created.
 */

/** One hourly rollup delta (the pending table's row). */
interface Delta {
  /** The key columns as a COPY line prefix (tab-separated escaped fields cannot collide). */
  line: string;
  n: number;
  cs: number;
  es: number;
  lw: number;
  ls: number;
  lb: number[];
  ti: number;
  tt: number;
}

/** One level of the key: value → next level, or the delta at the last level. */
type Level = Map<string, unknown>;

/** Columns of usage_rollup_pending, in COPY order. */
export const PENDING_COLUMNS = [
  'hour',
  'tenant_id',
  'event_type',
  'actor_id',
  'feature',
  'tool',
  'capability',
  'provider',
  'outcome',
  'events',
  'count_sum',
  'estimated',
  'latency_weight',
  'latency_sum',
  'latency_buckets',
  'tokens_input',
  'tokens_output',
] as const;

const HOUR_MS = 3_600_000;

/**
 * `YYYY-MM-DDTHH` of the UTC hour of an occurred_at. Events carry it normalised by
 * `toISOString()` (24 characters ending in `Z`), so it is a prefix; anything else is parsed.
 */
function hourPrefix(occurredAt: string): string {
  if (occurredAt.length === 24 && occurredAt.charCodeAt(23) === 90 && occurredAt.charCodeAt(10) === 84)
    return occurredAt.slice(0, 13);
  const ms = Date.parse(occurredAt);
  return new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString().slice(0, 13);
}

function level(m: Level, key: string): Level {
  let next = m.get(key) as Level | undefined;
  if (next === undefined) {
    next = new Map();
    m.set(key, next);
  }
  return next;
}

/** Accumulates the hourly rollup deltas of the events a batch inserted. */
export class RollupDeltas {
  private readonly root: Level = new Map();
  private readonly rows: Delta[] = [];

  /** Adds one inserted activity event. */
  add(e: Event): void {
    const u = e.usage;
    const hour = hourPrefix(e.occurred_at);
    const feature = u?.feature ?? '';
    const tool = u?.tool ?? '';
    const capability = u?.capability ?? '';
    const provider = u?.provider ?? '';
    const outcome = outcomeOf(e);
    const last = level(
      level(
        level(level(level(level(level(this.root, hour), e.tenant.id), e.action), e.actor.id), feature),
        tool,
      ),
      capability,
    );
    const byOutcome = level(last, provider);
    let r = byOutcome.get(outcome) as Delta | undefined;
    if (r === undefined) {
      r = {
        line: `${hour}:00:00.000Z\t${copyText(e.tenant.id)}\t${copyText(e.action)}\t${copyText(e.actor.id)}\t${copyText(feature)}\t${copyText(tool)}\t${copyText(capability)}\t${copyText(provider)}\t${outcome}`,
        n: 0,
        cs: 0,
        es: 0,
        lw: 0,
        ls: 0,
        lb: new Array<number>(LATENCY_BUCKETS).fill(0),
        ti: 0,
        tt: 0,
      };
      byOutcome.set(outcome, r);
      this.rows.push(r);
    }
    const n = u?.count ?? 1;
    const w = n / (u?.sample_rate ?? 1);
    r.n += 1;
    r.cs += n;
    r.es += w;
    if (u === undefined) return;
    r.ti += u.tokens?.input ?? 0;
    r.tt += u.tokens?.output ?? 0;
    const latency = u.latency_ms;
    if (latency !== undefined) {
      r.lw += w;
      r.ls += w * latency;
      r.lb[latencyBucket(latency)]! += w;
    }
  }

  /** Number of delta rows. */
  get size(): number {
    return this.rows.length;
  }

  /** The deltas as COPY text rows of `usage_rollup_pending` (PENDING_COLUMNS). */
  toCopy(): string {
    let out = '';
    for (const r of this.rows)
      out += `${r.line}\t${r.n}\t${r.cs}\t${r.es}\t${r.lw}\t${r.ls}\t{${r.lb.join(',')}}\t${r.ti}\t${r.tt}\n`;
    return out;
  }
}
