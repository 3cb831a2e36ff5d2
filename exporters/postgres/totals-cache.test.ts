import { describe, expect, it } from 'vitest';
import type { ActorTotals } from './queries.ts';
import { addPending, FoldedTotalsCache } from './totals-cache.ts';

const row = (event_type: string, actor_id: string, n: number): ActorTotals => ({
  event_type,
  actor_id,
  events: n,
  count: 2 * n,
  estimated: 4 * n,
  tokens_input: n,
  tokens_output: 0,
});

describe('folded totals cache', () => {
  it('answers only under the generation it was filled with', () => {
    const c = new FoldedTotalsCache();
    const k = FoldedTotalsCache.key('t', '2026-01-01', '2026-01-05');
    c.set(k, 3, [row('a', 'u', 1)]);
    expect(c.get(k, 3)).toEqual([row('a', 'u', 1)]);
    expect(c.get(k, 4)).toBeUndefined();
    // A stale entry is dropped, not kept for a later generation.
    expect(c.has(k)).toBe(false);
  });

  it('keys by tenant, window and event types', () => {
    const k = FoldedTotalsCache.key;
    const keys = new Set([
      k('t', '2026-01-01', '2026-01-05'),
      k('t', '2026-01-02', '2026-01-05'),
      k('u', '2026-01-01', '2026-01-05'),
      k('t', '2026-01-01', '2026-01-05', ['x']),
      k('t', '2026-01-01', '2026-01-05', ['x', 'y']),
    ]);
    expect(keys.size).toBe(5);
  });

  it('keeps a bounded number of entries, dropping the least recently used', () => {
    const c = new FoldedTotalsCache();
    for (let i = 0; i < 40; i++) c.set(`k${i}`, 1, []);
    expect(c.has('k0')).toBe(false);
    expect(c.has('k39')).toBe(true);
  });

  it('adds pending totals per event type and actor without touching the cached rows', () => {
    const folded = [row('a', 'u', 1), row('b', 'u', 2)];
    const out = addPending(folded, [row('a', 'u', 10), row('a', 'v', 5)]);
    expect(out).toEqual([row('a', 'u', 11), row('b', 'u', 2), row('a', 'v', 5)]);
    expect(folded[0]).toEqual(row('a', 'u', 1));
    expect(addPending(folded, [])).toBe(folded);
  });
});
