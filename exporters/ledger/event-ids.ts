import { randomBytes } from 'node:crypto';

/**
 * The event_id → index map of a tenant log, as an open-addressing hash table over typed arrays.
 * Every append looks its id up, so this is on the hot path: a `Map<string, number>` cost ~1.2 µs
 * per event at a few hundred thousand ids, kept every id string alive for the garbage collector
 * to trace, and stops at 2^24 entries (V8's Map limit) — a busy tenant's log passes that.
 * Here a slot is a 64-bit fingerprint of the id plus its index (16 bytes, no objects).
 *
 * A fingerprint match is not trusted: the caller's `idAt(index)` reads the stored entry's id and
 * compares it in full, so two ids that share a fingerprint stay distinct (the second is simply
 * inserted after the first and found by probing on). Matches are rare outside real replays.
 */

/** Reads the event_id of the entry at `index` (for the full comparison after a fingerprint match). */
export type IdAt = (index: number) => string | undefined;

// A process-wide random seed, so the fingerprints (and hence probe sequences) cannot be chosen
// from outside to pile ids into one run of slots.
const SEED = randomBytes(8);
const SEED_A = SEED.readInt32LE(0);
const SEED_B = SEED.readInt32LE(4);

const MIN_CAPACITY = 1024;

/** event_id → index of a log's entries. */
export class EventIdIndex {
  private hi = new Int32Array(MIN_CAPACITY);
  private lo = new Int32Array(MIN_CAPACITY);
  /** Index + 1 of the entry in each slot; 0 marks an empty slot. */
  private at = new Float64Array(MIN_CAPACITY);
  private count = 0;
  private readonly idAt: IdAt;
  // The fingerprint of the id last hashed, so `get` followed by `set` of one id hashes once.
  private lastId: string | undefined;
  private lastHi = 0;
  private lastLo = 0;

  constructor(idAt: IdAt) {
    this.idAt = idAt;
  }

  /** Number of ids held. */
  get size(): number {
    return this.count;
  }

  /** The index of `id`, or undefined when it is not in the log. */
  get(id: string): number | undefined {
    this.fingerprint(id);
    const hi = this.lastHi;
    const lo = this.lastLo;
    const mask = this.at.length - 1;
    for (let slot = lo & mask; ; slot = (slot + 1) & mask) {
      const stored = this.at[slot]!;
      if (stored === 0) return undefined;
      if (this.hi[slot] === hi && this.lo[slot] === lo && this.idAt(stored - 1) === id) return stored - 1;
    }
  }

  /** Records `id` at `index`; the caller has checked that `id` is not held yet. */
  set(id: string, index: number): void {
    if ((this.count + 1) * 2 > this.at.length) this.grow();
    this.fingerprint(id);
    this.insert(this.lastHi, this.lastLo, index + 1);
    this.count++;
  }

  /** Forgets every id. */
  clear(): void {
    this.hi = new Int32Array(MIN_CAPACITY);
    this.lo = new Int32Array(MIN_CAPACITY);
    this.at = new Float64Array(MIN_CAPACITY);
    this.count = 0;
    this.lastId = undefined;
  }

  private insert(hi: number, lo: number, stored: number): void {
    const mask = this.at.length - 1;
    let slot = lo & mask;
    while (this.at[slot] !== 0) slot = (slot + 1) & mask;
    this.hi[slot] = hi;
    this.lo[slot] = lo;
    this.at[slot] = stored;
  }

  private grow(): void {
    const { hi, lo, at } = this;
    const capacity = at.length * 2;
    this.hi = new Int32Array(capacity);
    this.lo = new Int32Array(capacity);
    this.at = new Float64Array(capacity);
    for (let slot = 0; slot < at.length; slot++)
      if (at[slot] !== 0) this.insert(hi[slot]!, lo[slot]!, at[slot]!);
  }

  /** Two independent 32-bit hashes of the UTF-16 code units (FNV-1a style, murmur3 finalised). */
  private fingerprint(id: string): void {
    if (id === this.lastId) return;
    let a = SEED_A ^ 0x811c9dc5;
    let b = SEED_B ^ 0x01000193;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
    this.lastId = id;
    this.lastHi = fmix(a ^ id.length);
    this.lastLo = fmix(b ^ Math.imul(id.length, 0x9e3779b1));
  }
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
