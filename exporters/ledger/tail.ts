import { hash as digest } from 'node:crypto';
import { INTEGRITY_MEMBER_LENGTH } from './entry.ts';
import { EMPTY_ROOT, type Hash } from './merkle.ts';
import type { RecoveredState } from './recovery.ts';
import { hashesAtLevel, MAX_ENTRY_BYTES, TILE_HEIGHT, TILE_WIDTH, type TileRef } from './tiles.ts';

/**
 * The growing end of a tenant log, kept in the ledger's worker thread (tail-worker.ts): the
 * chain tail, the right edge of the Merkle tree, the partial tile of every level and the
 * partial entry bundle. It turns canonical members (from the main thread) into entries, leaf
 * and node hashes and tiles; `flush` hands over the files a group must write.
 *
 * Everything here is bytes. Entries are assembled straight into the bundle's encoding (length
 * prefix included) and the leaf hash is taken over them in place. Hashes are kept as
 * 32-character latin1 strings and written into preallocated tile buffers (Node's one-shot
 * `crypto.hash` returns a string faster than a Buffer).
 *
 * Buffers handed to a write are never changed afterwards: later entries only go past the end
 * of what was handed over, and a filled tile or bundle is replaced by a new buffer. So the next
 * group can be built while the previous one is still being written.
 */

/** A file a group writes. */
export interface TileWrite {
  ref: TileRef;
  data: Buffer;
}

/** The tree at one size, as its right edge: enough for the root, kept for each durable size. */
export interface TreeMark {
  size: number;
  /** Subtree roots, largest first, as latin1 strings. */
  edge: readonly string[];
}

/** What a tail starts from (recovery's findings, in a form that crosses to the worker). */
export interface TailState {
  size: number;
  lastHash: string;
  /** Subtree roots of the tree edge (latin1 strings) and their heights. */
  edge: string[];
  edgeLevels: number[];
  /** The partial tile of each level: its hashes, concatenated. */
  partial: Uint8Array[];
  /** The entries of the partial entry bundle. */
  bundle: Uint8Array[];
}

/** The starting state of a tail, from what recovery found on disk. */
export function tailStateOf(r: RecoveredState): TailState {
  return {
    size: r.size,
    lastHash: r.lastHash,
    edge: r.compact.hashes.map((h) => h.toString('latin1')),
    edgeLevels: r.compact.levels.slice(),
    partial: r.partial.map((hashes) => Buffer.concat(hashes)),
    bundle: r.bundle,
  };
}

/** Root hash of a marked tree. */
export function rootOf(mark: TreeMark): Hash {
  const { edge } = mark;
  if (edge.length === 0) return EMPTY_ROOT;
  let r = edge[edge.length - 1]!;
  for (let i = edge.length - 2; i >= 0; i--) r = nodeHash(edge[i]!, r);
  return Buffer.from(r, 'latin1');
}

/** SHA-256(0x01 ‖ left ‖ right). */
function nodeHash(left: string, right: string): string {
  NODE.write(left, 1, 32, 'latin1');
  NODE.write(right, 33, 32, 'latin1');
  return digest('sha256', NODE, 'binary');
}

const TILE_BYTES = TILE_WIDTH * 32;
// Scratch inputs shared by every tail of the thread (appends are synchronous): 0x01 ‖ left ‖
// right for node hashes, and `{before,after}` for the integrity hash (an entry fits 64 KiB).
const NODE = Buffer.alloc(65, 1);
const FORM = Buffer.allocUnsafe(MAX_ENTRY_BYTES + 1);
const MIN_BUNDLE_BYTES = 16 * 1024;

/** The in-memory end of a log. */
export class LogTail {
  /** Entries appended so far (durable or not). */
  size: number;
  /** `integrity.hash` of the last entry: the next entry's `prev_hash`. */
  lastHash: string;
  private readonly edge: string[] = [];
  private readonly edgeLevels: number[] = [];
  /** Partial tile of each level, and how many hashes it holds. */
  private readonly tiles: Buffer[] = [];
  private readonly widths: number[] = [];
  private readonly touched: boolean[] = [];
  /** The partial entry bundle: encoded bytes, bytes used, entries. */
  private bundle: Buffer = Buffer.alloc(0);
  private used = 0;
  private entries = 0;
  private writes: TileWrite[] = [];
  private grew = false;

  constructor(state: TailState) {
    this.size = state.size;
    this.lastHash = state.lastHash;
    this.edge.push(...state.edge);
    this.edgeLevels.push(...state.edgeLevels);
    for (let level = 0; level < state.partial.length; level++) {
      const hashes = state.partial[level]!;
      const tile = Buffer.allocUnsafe(TILE_BYTES);
      tile.set(hashes, 0);
      this.tiles[level] = tile;
      this.widths[level] = hashes.length / 32;
    }
    for (const e of state.bundle) {
      this.reserve(2 + e.length);
      this.bundle.writeUInt16BE(e.length, this.used);
      this.bundle.set(e, this.used + 2);
      this.entries++;
      this.used += 2 + e.length;
    }
  }

  /**
   * Appends the entry whose canonical members before and after `integrity` are the UTF-8 bytes
   * `src[b0, b1)` and `src[a0, a1)` (the main thread checked that the entry fits a bundle).
   * The integrity hash covers `{before,after}`; the entry is `{before,integrity,after}`.
   */
  append(src: Buffer, b0: number, b1: number, a0: number, a1: number): void {
    const hasBefore = b1 > b0;
    const hasAfter = a1 > a0;
    if (b1 - b0 + a1 - a0 + 3 > FORM.length) throw new RangeError('entry too large for a bundle');
    const form = FORM;
    let n = 0;
    form[n++] = 0x7b; // {
    n += src.copy(form, n, b0, b1);
    if (hasBefore && hasAfter) form[n++] = 0x2c; // ,
    n += src.copy(form, n, a0, a1);
    form[n++] = 0x7d; // }
    const hash = digest('sha256', form.subarray(0, n), 'hex');
    const integrity = `"integrity":{"hash":"${hash}","prev_hash":"${this.lastHash}"}`;

    this.reserve(2 + n + INTEGRITY_MEMBER_LENGTH + 2);
    const bundle = this.bundle;
    const at = this.used;
    let p = at + 2;
    bundle[p++] = 0x7b;
    p += src.copy(bundle, p, b0, b1);
    if (hasBefore) bundle[p++] = 0x2c;
    p += bundle.write(integrity, p, 'latin1');
    if (hasAfter) bundle[p++] = 0x2c;
    p += src.copy(bundle, p, a0, a1);
    bundle[p++] = 0x7d;
    const length = p - at - 2;
    // The leaf hash is SHA-256(0x00 ‖ entry): the prefix byte goes where the length's low byte
    // will be, so the entry is hashed where it lies; then the length is written over it.
    bundle[at + 1] = 0;
    const leaf = digest('sha256', bundle.subarray(at + 1, p), 'binary');
    bundle.writeUInt16BE(length, at);
    this.used = p;
    this.entries++;
    this.lastHash = hash;
    this.size++;
    this.grew = true;
    if (this.entries === TILE_WIDTH) this.sealBundle();
    // Level 0 first: a tile the leaf completes is queued before its hash goes up a level.
    this.pushHash(0, leaf);
    this.appendToEdge(leaf);
  }

  /** The files to write for everything appended since the last flush: full, then partial. */
  flush(): TileWrite[] {
    const writes = this.writes;
    this.writes = [];
    if (!this.grew) return writes;
    this.grew = false;
    if (this.entries > 0) {
      writes.push({
        ref: { level: 'entries', n: Math.floor(this.size / TILE_WIDTH), width: this.entries },
        data: this.bundle.subarray(0, this.used),
      });
    }
    for (let level = 0; level < this.touched.length; level++) {
      if (!this.touched[level]) continue;
      this.touched[level] = false;
      const width = this.widths[level]!;
      if (width === 0) continue;
      const n = Math.floor(hashesAtLevel(this.size, level) / TILE_WIDTH);
      writes.push({ ref: { level, n, width }, data: this.tiles[level]!.subarray(0, width * 32) });
    }
    return writes;
  }

  /** The tree at the current size (cheap: the edge is at most ~50 strings). */
  mark(): TreeMark {
    return { size: this.size, edge: this.edge.slice() };
  }

  private reserve(bytes: number): void {
    if (this.used + bytes <= this.bundle.length) return;
    // Grown into a new buffer: what was handed to a write keeps the old one.
    const grown = Buffer.allocUnsafe(Math.max(MIN_BUNDLE_BYTES, 2 * this.bundle.length, this.used + bytes));
    this.bundle.copy(grown, 0, 0, this.used);
    this.bundle = grown;
  }

  private sealBundle(): void {
    const n = this.size / TILE_WIDTH - 1;
    const data = this.bundle.subarray(0, this.used);
    this.writes.push({ ref: { level: 'entries', n, width: TILE_WIDTH }, data });
    this.bundle = Buffer.allocUnsafe(Math.max(MIN_BUNDLE_BYTES, this.used));
    this.used = 0;
    this.entries = 0;
  }

  private pushHash(level: number, hash: string): void {
    let tile = this.tiles[level];
    if (!tile) {
      tile = Buffer.allocUnsafe(TILE_BYTES);
      this.tiles[level] = tile;
      this.widths[level] = 0;
    }
    const width = this.widths[level]!;
    tile.write(hash, width * 32, 32, 'latin1');
    this.touched[level] = true;
    if (width + 1 < TILE_WIDTH) {
      this.widths[level] = width + 1;
      return;
    }
    const n = hashesAtLevel(this.size, level) / TILE_WIDTH - 1;
    this.writes.push({ ref: { level, n, width: TILE_WIDTH }, data: tile });
    this.tiles[level] = Buffer.allocUnsafe(TILE_BYTES);
    this.widths[level] = 0;
  }

  // The tree edge computes every interior node anyway; those at heights 8, 16, ... are the
  // hashes of tile levels 1, 2, ..., so they are taken from it rather than hashed again.
  private appendToEdge(leaf: string): void {
    let h = leaf;
    let level = 0;
    const { edge, edgeLevels } = this;
    while (edgeLevels.length > 0 && edgeLevels[edgeLevels.length - 1] === level) {
      h = nodeHash(edge.pop()!, h);
      edgeLevels.pop();
      level++;
      if (level % TILE_HEIGHT === 0) this.pushHash(level / TILE_HEIGHT, h);
    }
    edge.push(h);
    edgeLevels.push(level);
  }
}
