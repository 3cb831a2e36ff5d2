import {
  closeSync,
  existsSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Logger } from 'pino';
import { TEMP_MARKER } from './atomic-write.ts';
import { checkEntry, entryEventId, GENESIS_HASH } from './entry.ts';
import { CompactRange, type Hash, leafHash } from './merkle.ts';
import {
  decodeBundle,
  hashesAtLevel,
  levelsFor,
  parseTilePath,
  subtreeOf,
  TILE_WIDTH,
  type TileRef,
  tileNodeReader,
  tilePath,
} from './tiles.ts';

/**
 * Crash recovery of a tenant log. The files are the only truth: the state a writer needs to go
 * on appending (tree edge, partial bundle and tiles, chain tail, id map) is re-derived from them.
 */

/** Raised when the files of a log are inconsistent in a way recovery must not paper over. */
export class LedgerDamagedError extends Error {
  override name = 'LedgerDamagedError';
}

/** What a writer needs to go on appending, as found on disk. */
export interface RecoveredState {
  size: number;
  compact: CompactRange;
  /** Entries of the partial entry bundle. */
  bundle: Buffer[];
  /** Hashes of the partial tile at each level. */
  partial: Hash[][];
  ids: Map<string, number>;
  lastHash: string;
  /** Size in the checkpoint on disk, -1 when there is none. */
  checkpointSize: number;
}

const QUARANTINE = 'quarantine';

/**
 * Re-derives a log's state from its files: sweeps temp files, finds the durable tail (the run
 * of full entry bundles from 0 plus the widest partial after them), moves files past the tail
 * that an unacknowledged write left (never deleting them) to `quarantine/`, rebuilds missing
 * tiles from the entries, checks the tail's hash chain and tiles, and rebuilds the id map.
 */
export function recoverLog(dir: string, origin: string, logger?: Logger): RecoveredState {
  const tiles = new Map<string, TileRef>();
  for (const f of listFiles(join(dir, 'tile'))) {
    if (f.includes(TEMP_MARKER)) {
      rmSync(join(dir, 'tile', f), { force: true });
      continue;
    }
    const ref = parseTilePath(`tile/${f}`);
    if (ref) tiles.set(tilePath(ref), ref);
  }
  const has = (ref: TileRef): boolean => tiles.has(tilePath(ref));

  let fullBundles = 0;
  while (has({ level: 'entries', n: fullBundles, width: TILE_WIDTH })) fullBundles++;
  let tailWidth = 0;
  for (const ref of tiles.values()) {
    if (ref.level === 'entries' && ref.n === fullBundles && ref.width < TILE_WIDTH)
      tailWidth = Math.max(tailWidth, ref.width);
  }
  const size = fullBundles * TILE_WIDTH + tailWidth;

  const cp = readCheckpointSize(dir, origin);
  if (cp > size) {
    throw new LedgerDamagedError(
      `${dir}: the checkpoint covers ${cp} entries but only ${size} are on disk; run \`ledgerline ledger verify\``,
    );
  }

  // Anything the tree of `size` does not have is from a write that was never acknowledged.
  const levels = levelsFor(size);
  for (const [path, ref] of tiles) {
    const count = ref.level === 'entries' ? size : hashesAtLevel(size, ref.level);
    const fullTiles = Math.floor(count / TILE_WIDTH);
    const beyond =
      ref.width === TILE_WIDTH
        ? ref.n >= fullTiles
        : ref.n > fullTiles || (ref.n === fullTiles && ref.width > count % TILE_WIDTH);
    if (beyond) {
      quarantine(dir, path, logger);
      tiles.delete(path);
    }
  }

  // Rebuild tiles a crash kept from reaching the disk, lowest level first; check the tail ones.
  let rebuilt = 0;
  const entriesOf = (n: number, width: number): Buffer[] => {
    const e = decodeBundle(readFileSync(join(dir, tilePath({ level: 'entries', n, width }))));
    if (e.length !== width)
      throw new LedgerDamagedError(`${dir}: entry bundle ${n} holds ${e.length} entries, not ${width}`);
    return e;
  };
  const hashesOf = (level: number, n: number, width: number): Hash[] => {
    if (level === 0) return entriesOf(n, width).map(leafHash);
    const out: Hash[] = [];
    for (let i = 0; i < width; i++)
      out.push(subtreeOf(splitHashes(tileBytes(dir, level - 1, n * TILE_WIDTH + i, TILE_WIDTH))));
    return out;
  };
  for (let level = 0; level < levels; level++) {
    const count = hashesAtLevel(size, level);
    const fullTiles = Math.floor(count / TILE_WIDTH);
    // A crash mid-group can leave any subset of the group's files (each renamed into place
    // whole), so a missing full tile may sit below one that made it: look at every one.
    const refs: TileRef[] = [];
    for (let n = 0; n < fullTiles; n++)
      if (!has({ level, n, width: TILE_WIDTH })) refs.push({ level, n, width: TILE_WIDTH });
    if (count % TILE_WIDTH > 0) refs.push({ level, n: fullTiles, width: count % TILE_WIDTH });
    for (const ref of refs) {
      const data = Buffer.concat(hashesOf(level, ref.n, ref.width));
      if (has(ref)) {
        if (!readFileSync(join(dir, tilePath(ref))).equals(data)) {
          throw new LedgerDamagedError(`${dir}: tile ${tilePath(ref)} does not match the entries below it`);
        }
        continue;
      }
      writeSealedSync(join(dir, tilePath(ref)), data);
      tiles.set(tilePath(ref), ref);
      rebuilt++;
    }
  }
  if (rebuilt > 0)
    logger?.warn({ tiles: rebuilt, size }, 'ledger recovery rebuilt tiles a crash left unwritten');

  // State: the tree edge, the partial bundle and tiles, the chain tail, the id map.
  const compact =
    size === 0
      ? new CompactRange()
      : CompactRange.fromReader(
          tileNodeReader((l, n, w) => tileBytes(dir, l, n, w), size),
          size,
        );
  const bundle = tailWidth > 0 ? entriesOf(fullBundles, tailWidth) : [];
  const partial: Hash[][] = [];
  for (let level = 0; level < levels; level++) {
    const count = hashesAtLevel(size, level);
    const width = count % TILE_WIDTH;
    partial[level] =
      width > 0 ? splitHashes(tileBytes(dir, level, Math.floor(count / TILE_WIDTH), width)) : [];
  }
  const ids = new Map<string, number>();
  let prev = GENESIS_HASH;
  // The last bundle's chain is checked in full, linked to the entry before it: it is what the
  // next append links to. Earlier entries are only read for their event_id.
  const tailStart = Math.max(0, (tailWidth > 0 ? fullBundles : fullBundles - 1) * TILE_WIDTH - 1);
  for (let n = 0; n * TILE_WIDTH < size; n++) {
    const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
    const entries = n === fullBundles ? bundle : entriesOf(n, width);
    for (let i = 0; i < entries.length; i++) {
      const index = n * TILE_WIDTH + i;
      const e = entries[i]!;
      if (index >= tailStart) {
        const check = checkEntry(e);
        if (!check.ok) throw new LedgerDamagedError(`${dir}: entry ${index}: ${check.reason}`);
        if ((index > tailStart || index === 0) && check.prevHash !== prev) {
          throw new LedgerDamagedError(`${dir}: entry ${index} does not chain to entry ${index - 1}`);
        }
        prev = check.hash;
      }
      const id = entryEventId(e);
      if (id !== undefined) ids.set(id, index);
    }
  }
  return {
    size,
    compact,
    bundle,
    partial,
    ids,
    lastHash: size === 0 ? GENESIS_HASH : prev,
    checkpointSize: cp,
  };
}

function tileBytes(dir: string, level: number, n: number, width: number): Buffer {
  const data = readFileSync(join(dir, tilePath({ level, n, width })));
  if (data.length !== width * 32)
    throw new LedgerDamagedError(`${dir}: tile ${tilePath({ level, n, width })} has the wrong length`);
  return data;
}

function readCheckpointSize(dir: string, origin: string): number {
  const path = join(dir, 'checkpoint');
  if (!existsSync(path)) return -1;
  const lines = readFileSync(path, 'utf8').split('\n');
  const size = Number(lines[1]);
  if (lines[0] !== origin || !Number.isSafeInteger(size))
    throw new LedgerDamagedError(`${path} is not a checkpoint of ${origin}`);
  return size;
}

function quarantine(dir: string, path: string, logger?: Logger): void {
  const to = join(dir, QUARANTINE, `${Date.now()}`, path);
  mkdirSync(dirname(to), { recursive: true });
  renameSync(join(dir, path), to);
  logger?.warn({ file: path }, 'ledger recovery moved a file past the durable tail to quarantine/');
}

/** Splits a tile into its 32-byte hashes. */
export function splitHashes(data: Buffer): Hash[] {
  const out: Hash[] = [];
  for (let at = 0; at < data.length; at += 32) out.push(data.subarray(at, at + 32));
  return out;
}

/** Every file below `root`, relative to it (empty when it does not exist). */
export function listFiles(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(root, join(d.parentPath, d.name)));
}

function writeSealedSync(path: string, data: Buffer): void {
  // Recovery runs before anything is acknowledged, so a synchronous write + fsync is enough.
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}${TEMP_MARKER}recover`;
  const fd = openSync(tmp, 'w', 0o600);
  writeSync(fd, data);
  fsyncSync(fd);
  fchmodSync(fd, 0o444);
  closeSync(fd);
  renameSync(tmp, path);
  const dfd = openSync(dirname(path), 'r');
  fsyncSync(dfd);
  closeSync(dfd);
}
