import type { ActorTotals } from './queries.ts';

/**
 * Folded per-actor totals of recent windows, kept between requests so that a repeated usage
 * summary reads only what is still pending. An entry is valid for exactly one value of the
 * tenant's fold generation (migration 006): every fold that changes the tenant's rollup rows
 * increments it in the same transaction, and the reader reads the generation together with
 * the pending deltas in one statement (one snapshot). Same generation, same folded rows —
 * whichever process folded — so cached folded part + fresh pending part is the exact answer.
 */

/** Entries kept; the least recently used one goes first. A 30-day summary of 4 000 users × types is ~0.5 MB. */
const MAX_ENTRIES = 32;

interface Entry {
  generation: number;
  folded: ActorTotals[];
}

/** A bounded LRU of folded totals per (tenant, window, event types), tagged with their generation. */
export class FoldedTotalsCache {
  private readonly entries = new Map<string, Entry>();

  /** The cache key of a window: tenant, first day, first whole week and the event-type filter. */
  static key(tenantId: string, from: string, weeks: string, eventTypes?: readonly string[]): string {
    return JSON.stringify([tenantId, from, weeks, eventTypes ?? null]);
  }

  /** The folded totals cached under `generation`, if those are the ones cached. */
  get(key: string, generation: number): ActorTotals[] | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.entries.delete(key);
    if (e.generation !== generation) return undefined;
    this.entries.set(key, e);
    return e.folded;
  }

  /** Whether anything is cached for the key (under any generation). */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  set(key: string, generation: number, folded: ActorTotals[]): void {
    this.entries.delete(key);
    this.entries.set(key, { generation, folded });
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }
}

/**
 * Folded totals plus pending ones, summed per (event type, actor) as the SQL GROUP BY would.
 * Returns `folded` itself when nothing is pending (callers only read the rows).
 */
export function addPending(folded: readonly ActorTotals[], pending: readonly ActorTotals[]): ActorTotals[] {
  if (pending.length === 0) return folded as ActorTotals[];
  // Text values never hold NUL (PostgreSQL refuses it), so it separates the two parts.
  const byKey = new Map<string, ActorTotals>();
  const out: ActorTotals[] = [];
  for (const r of folded) {
    const copy = { ...r };
    byKey.set(`${r.event_type}\u0000${r.actor_id}`, copy);
    out.push(copy);
  }
  for (const p of pending) {
    const r = byKey.get(`${p.event_type}\u0000${p.actor_id}`);
    if (r === undefined) {
      out.push({ ...p });
      continue;
    }
    r.events += p.events;
    r.count += p.count;
    r.estimated += p.estimated;
    r.tokens_input += p.tokens_input;
    r.tokens_output += p.tokens_output;
  }
  return out;
}
