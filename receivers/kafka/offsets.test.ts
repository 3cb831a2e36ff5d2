import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PartitionOffsets } from './offsets.ts';

describe('PartitionOffsets', () => {
  it('commits nothing before a unit completes', () => {
    const o = new PartitionOffsets();
    o.begin(0, 9);
    expect(o.committable()).toBeUndefined();
  });

  it('never passes a unit still in flight, whatever completes after it', () => {
    const o = new PartitionOffsets();
    const a = o.begin(0, 9);
    const b = o.begin(10, 19);
    const c = o.begin(20, 29);
    o.complete(c, 29);
    expect(o.committable()).toBe(0);
    o.complete(a, 9);
    expect(o.committable()).toBe(10);
    o.committed(10);
    expect(o.committable()).toBeUndefined();
    o.complete(b, 19);
    expect(o.committable()).toBe(30);
  });

  it('handles ranges fetched again after a rebalance', () => {
    const o = new PartitionOffsets();
    const old = o.begin(10, 19);
    const again = o.begin(10, 19);
    o.complete(again, 19);
    expect(o.committable()).toBe(10);
    o.complete(old, 19);
    expect(o.committable()).toBe(20);
  });

  it('reports the records fetched but not committed', () => {
    const o = new PartitionOffsets();
    const a = o.begin(100, 149);
    expect(o.lag).toBe(50);
    o.complete(a, 149);
    o.committed(150);
    expect(o.lag).toBe(0);
  });

  it('the committable offset is always at most the first offset not yet done', () => {
    // Units of random sizes complete in a random order; after every step the committable
    // offset must not pass any record of an incomplete unit.
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 30 }),
        fc.infiniteStream(fc.nat()),
        (sizes, picks) => {
          const o = new PartitionOffsets();
          const units: { id: number; first: number; last: number; done: boolean }[] = [];
          let next = 0;
          for (const n of sizes) {
            units.push({ id: o.begin(next, next + n - 1), first: next, last: next + n - 1, done: false });
            next += n;
          }
          const it = picks[Symbol.iterator]();
          let highest = -1;
          for (let left = units.length; left > 0; left--) {
            const open = units.filter((u) => !u.done);
            const u = open[it.next().value % open.length]!;
            u.done = true;
            o.complete(u.id, u.last);
            const c = o.committable();
            const firstOpen = units.find((x) => !x.done)?.first ?? next;
            if (c !== undefined) {
              expect(c).toBeLessThanOrEqual(firstOpen);
              expect(c).toBeGreaterThan(highest);
              highest = c;
              o.committed(c);
            }
          }
          expect(highest).toBe(next);
        },
      ),
    );
  });
});
