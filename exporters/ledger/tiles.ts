import { type Hash, type NodeReader, nodeHash } from './merkle.ts';

/**
 * C2SP tlog-tiles: where each tile and entry bundle lives, how bundles are encoded, which
 * tiles a tree of a given size has, and reading any node hash back out of tiles.
 */

/** Tile height: every tile spans 8 tree levels, 256 hashes wide when full. */
export const TILE_HEIGHT = 8;
/** Hashes (or entries) in a full tile. */
export const TILE_WIDTH = 256;
/** Largest entry an entry bundle can hold (its length prefix is a uint16). */
export const MAX_ENTRY_BYTES = 0xffff;

/** A tile at `level` (or the entry bundle, level 'entries'), index `n`, `width` hashes (256 = full). */
export interface TileRef {
  level: number | 'entries';
  n: number;
  width: number;
}

/** `<N>` as zero-padded 3-digit path elements, all but the last prefixed with `x`. */
export function encodeIndex(n: number): string {
  let digits = String(n);
  while (digits.length % 3 !== 0) digits = `0${digits}`;
  const parts: string[] = [];
  for (let i = 0; i < digits.length; i += 3) parts.push(digits.slice(i, i + 3));
  return parts.map((p, i) => (i < parts.length - 1 ? `x${p}` : p)).join('/');
}

/** Path of a tile below the log prefix: `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`. */
export function tilePath(t: TileRef): string {
  const suffix = t.width === TILE_WIDTH ? '' : `.p/${t.width}`;
  return `tile/${t.level}/${encodeIndex(t.n)}${suffix}`;
}

const TILE_PATH = /^tile\/(entries|0|[1-9]\d?)\/((?:x\d{3}\/)*)(\d{3})(?:\.p\/([1-9]\d{0,2}))?$/;

/** Parses a tile path strictly (canonical form only), or undefined when it is not one. */
export function parseTilePath(path: string): TileRef | undefined {
  const m = TILE_PATH.exec(path);
  if (!m) return undefined;
  const level = m[1] === 'entries' ? 'entries' : Number(m[1]);
  if (level !== 'entries' && level > 63) return undefined;
  const digits = m[2]!.replaceAll('x', '').replaceAll('/', '') + m[3]!;
  const n = Number(digits);
  const width = m[4] === undefined ? TILE_WIDTH : Number(m[4]);
  if (width < 1 || (width > 255 && width !== TILE_WIDTH)) return undefined;
  const ref = { level, n, width } satisfies TileRef;
  // Only the canonical spelling is a tile (no `x000/005` for 5).
  return tilePath(ref) === path ? ref : undefined;
}

/** Number of hashes at tile level `level` in a tree of `size` (the tile-level width of the tree). */
export function hashesAtLevel(size: number, level: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/** Every tile a tree of `size` has at `level`: full tiles, then the partial one if any. */
export function tilesAtLevel(size: number, level: number): TileRef[] {
  const count = hashesAtLevel(size, level);
  const out: TileRef[] = [];
  const full = Math.floor(count / TILE_WIDTH);
  for (let n = 0; n < full; n++) out.push({ level, n, width: TILE_WIDTH });
  if (count % TILE_WIDTH > 0) out.push({ level, n: full, width: count % TILE_WIDTH });
  return out;
}

/** Tile levels that hold at least one hash for a tree of `size`. */
export function levelsFor(size: number): number {
  let levels = 0;
  while (hashesAtLevel(size, levels) > 0) levels++;
  return levels;
}

/** Encodes entries as a bundle: each a big-endian uint16 length then its bytes. */
export function encodeBundle(entries: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const e of entries) {
    if (e.length > MAX_ENTRY_BYTES)
      throw new RangeError(`entry of ${e.length} bytes is over ${MAX_ENTRY_BYTES}`);
    size += 2 + e.length;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const e of entries) {
    out.writeUInt16BE(e.length, at);
    out.set(e, at + 2);
    at += 2 + e.length;
  }
  return out;
}

/** Decodes a bundle; throws when a length runs past the end. */
export function decodeBundle(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + 2 > data.length) throw new RangeError(`bundle truncated in a length prefix at byte ${at}`);
    const len = data.readUInt16BE(at);
    if (at + 2 + len > data.length) throw new RangeError(`bundle entry ${out.length} runs past the end`);
    out.push(data.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return out;
}

/** Reads one tile's bytes (`width` hashes of 32 bytes) from wherever tiles live. */
export type TileReader = (level: number, n: number, width: number) => Buffer;

/**
 * A NodeReader over the tiles of a tree of `size`: a node of height h = 8L + r is the
 * hash of 2^r consecutive hashes of one level-L tile. Tiles read are cached per reader.
 */
export function tileNodeReader(readTile: TileReader, size: number, cacheTiles = 64): NodeReader {
  const cache = new Map<string, Buffer>();
  const tile = (level: number, n: number): Buffer => {
    const count = hashesAtLevel(size, level);
    const width = Math.min(TILE_WIDTH, count - n * TILE_WIDTH);
    if (width <= 0) throw new RangeError(`no tile ${level}/${n} in a tree of ${size}`);
    const key = `${level}/${n}/${width}`;
    let data = cache.get(key);
    if (!data) {
      data = readTile(level, n, width);
      if (data.length !== width * 32)
        throw new RangeError(
          `tile ${tilePath({ level, n, width })} is ${data.length} bytes, not ${width * 32}`,
        );
      if (cache.size >= cacheTiles) cache.delete(cache.keys().next().value!);
      cache.set(key, data);
    }
    return data;
  };
  return (height, index) => {
    const level = Math.floor(height / TILE_HEIGHT);
    const r = height % TILE_HEIGHT;
    const first = index * 2 ** r;
    const data = tile(level, Math.floor(first / TILE_WIDTH));
    const at = first % TILE_WIDTH;
    const hashes: Hash[] = [];
    for (let i = 0; i < 2 ** r; i++) {
      if ((at + i + 1) * 32 > data.length) throw new RangeError(`node ${height}/${index} is past the tree`);
      hashes.push(data.subarray((at + i) * 32, (at + i + 1) * 32));
    }
    return subtreeOf(hashes);
  };
}

/** Root of a perfect subtree given its 2^k bottom hashes. */
export function subtreeOf(hashes: readonly Hash[]): Hash {
  let level = hashes.slice();
  while (level.length > 1) {
    const up: Hash[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(nodeHash(level[i]!, level[i + 1]!));
    level = up;
  }
  return level[0]!;
}
