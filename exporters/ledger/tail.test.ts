import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildLeaf, canonicalHalves, GENESIS_HASH } from './entry.ts';
import { CompactRange } from './merkle.ts';
import { LogTail, rootOf, type TileWrite } from './tail.ts';
import { encodeBundle, TILE_WIDTH, tilePath } from './tiles.ts';

/**
 * The worker's tail builds entries, leaf and node hashes and tiles on bytes; these tests hold
 * it equal to the plain definitions (entry.ts `buildLeaf`, tiles.ts `encodeBundle`, merkle.ts
 * `CompactRange`) over groups of every size, across tile boundaries.
 */

const empty = { size: 0, lastHash: GENESIS_HASH, edge: [], edgeLevels: [], partial: [], bundle: [] };

/** What the main thread sends for a group: `before \n after \n` per envelope (tail-client.ts). */
function part(envelopes: Record<string, unknown>[]): Buffer {
  return Buffer.from(envelopes.map((e) => `${canonicalHalves(e).join('\n')}\n`).join(''), 'utf8');
}

function appendAll(tail: LogTail, envelopes: Record<string, unknown>[]): void {
  const src = part(envelopes);
  let at = 0;
  for (let i = 0; i < envelopes.length; i++) {
    const mid = src.indexOf(0x0a, at);
    const end = src.indexOf(0x0a, mid + 1);
    tail.append(src, at, mid, mid + 1, end);
    at = end + 1;
  }
}

/** The files a log of these envelopes has, by the definitions: path → bytes. */
function reference(envelopes: Record<string, unknown>[]): {
  files: Map<string, Buffer>;
  compact: CompactRange;
} {
  const files = new Map<string, Buffer>();
  const compact = new CompactRange();
  const levels: Buffer[][] = [[]];
  let prev = GENESIS_HASH;
  const entries: Buffer[] = [];
  const put = (level: number | 'entries', n: number, items: Buffer[]) =>
    files.set(
      tilePath({ level, n, width: items.length }),
      level === 'entries' ? encodeBundle(items) : Buffer.concat(items),
    );
  envelopes.forEach((e, i) => {
    const built = buildLeaf(e, prev);
    prev = built.hash;
    entries.push(built.bytes);
    levels[0]!.push(built.leaf);
    compact.append(built.leaf, (height, _index, hash) => {
      if (height % 8 !== 0) return;
      levels[height / 8] ??= [];
      levels[height / 8]!.push(hash);
    });
    if ((i + 1) % TILE_WIDTH === 0) put('entries', (i + 1) / TILE_WIDTH - 1, entries.splice(0));
  });
  if (entries.length > 0) put('entries', Math.floor(envelopes.length / TILE_WIDTH), entries);
  levels.forEach((hashes, level) => {
    for (let n = 0; n * TILE_WIDTH < hashes.length; n++)
      put(level, n, hashes.slice(n * TILE_WIDTH, (n + 1) * TILE_WIDTH));
  });
  return { files, compact };
}

function envelopes(n: number, salt = ''): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    event_id: `e-${salt}${i}`,
    action: i % 3 === 0 ? 'ünïcode ✓' : 'policy_changed',
    metadata: { rows: i, note: 'x'.repeat(i % 40) },
    zz: i % 2 === 0 ? undefined : [i, null, true],
  }));
}

describe('log tail', () => {
  it('writes the entries, tiles and root the definitions give, group by group (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 5 }), (groups) => {
        const all = envelopes(groups.reduce((a, b) => a + b, 0));
        const tail = new LogTail(empty);
        // The last file written at each path wins, as on disk (partials only grow).
        const written = new Map<string, Buffer>();
        let from = 0;
        for (const k of groups) {
          appendAll(tail, all.slice(from, from + k));
          from += k;
          for (const w of tail.flush() as TileWrite[]) written.set(tilePath(w.ref), Buffer.from(w.data));
        }
        const { files, compact } = reference(all);
        for (const [path, bytes] of files) {
          // A partial the reference has but the tail superseded (a later group filled it) is fine.
          if (!written.has(path) && path.includes('.p/')) continue;
          expect(written.get(path)?.equals(bytes), path).toBe(true);
        }
        expect(tail.size).toBe(all.length);
        expect(rootOf(tail.mark()).equals(compact.root())).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('goes on from a recovered state exactly as if it had never stopped', () => {
    const all = envelopes(700, 'r');
    const whole = new LogTail(empty);
    appendAll(whole, all);
    // The state recovery hands over after 300 entries: edge, partial tiles, partial bundle.
    const { compact } = reference(all.slice(0, 300));
    let prev = GENESIS_HASH;
    const chain = all.slice(0, 300).map((e) => {
      const b = buildLeaf(e, prev);
      prev = b.hash;
      return b;
    });
    const resumed = new LogTail({
      size: 300,
      lastHash: prev,
      edge: compact.hashes.map((h) => h.toString('latin1')),
      edgeLevels: compact.levels.slice(),
      // Level 0: leaves 256..299; level 1: the root of leaves 0..255 (the edge's first subtree).
      partial: [Buffer.concat(chain.slice(256).map((b) => b.leaf)), compact.hashes[0]!],
      bundle: chain.slice(256).map((b) => b.bytes),
    });
    appendAll(resumed, all.slice(300));
    expect(rootOf(resumed.mark()).equals(rootOf(whole.mark()))).toBe(true);
    const files = (t: LogTail) => new Map(t.flush().map((w) => [tilePath(w.ref), Buffer.from(w.data)]));
    const got = files(resumed);
    const want = files(whole);
    for (const path of ['tile/entries/002.p/188', 'tile/0/002.p/188', 'tile/1/000.p/2'])
      expect(got.get(path)?.equals(want.get(path)!), path).toBe(true);
  });
});
