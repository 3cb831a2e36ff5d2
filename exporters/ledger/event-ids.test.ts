import { describe, expect, it } from 'vitest';
import { EventIdIndex } from './event-ids.ts';

describe('event id index', () => {
  it('finds every id it holds and none it does not, across growth', () => {
    const stored: string[] = [];
    const index = new EventIdIndex((i) => stored[i]);
    for (let i = 0; i < 50_000; i++) {
      const id = i % 7 === 0 ? `ü-${i}` : `0190${i.toString(16).padStart(8, '0')}-aaaa-7bbb-8ccc-${i}`;
      expect(index.get(id)).toBeUndefined();
      stored.push(id);
      index.set(id, i);
    }
    expect(index.size).toBe(50_000);
    for (let i = 0; i < 50_000; i += 97) expect(index.get(stored[i]!)).toBe(i);
    expect(index.get('')).toBeUndefined();
    expect(index.get('not-there')).toBeUndefined();
    index.set('', 50_000);
    stored.push('');
    expect(index.get('')).toBe(50_000);
  });

  it('trusts a fingerprint only after comparing the stored id in full', () => {
    // As if the entry at the fingerprint's slot held another id (a 64-bit collision).
    const index = new EventIdIndex(() => 'someone-else');
    index.set('e-1', 0);
    expect(index.get('e-1')).toBeUndefined();
  });

  it('forgets everything on clear', () => {
    const stored = ['a', 'b'];
    const index = new EventIdIndex((i) => stored[i]);
    index.set('a', 0);
    index.set('b', 1);
    index.clear();
    expect(index.get('a')).toBeUndefined();
    expect(index.size).toBe(0);
    index.set('b', 1);
    expect(index.get('b')).toBe(1);
  });
});
