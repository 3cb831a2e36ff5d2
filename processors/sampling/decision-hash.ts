/**
 * The sampling decision is a pure function of the trace id (else the event id), so every
 * event of one trace — and every replay of one event — gets the same decision on every
 * instance with the same seed. FNV-1a over the UTF-16 code units, then MurmurHash3's 32-bit
 * finaliser, which spreads the timestamp-heavy prefixes of UUID v7 ids evenly.
 */

/** A uniform value in [0, 1) derived from `key` and `seed`. */
export function unitHash(key: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x100000000;
}
