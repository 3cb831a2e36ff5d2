import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Checkpoint, openCheckpoint } from './checkpoint.ts';
import { checkEntry, GENESIS_HASH } from './entry.ts';
import { CompactRange, type Hash, leafHash } from './merkle.ts';
import type { NoteVerifier } from './note.ts';
import { listFiles } from './recovery.ts';
import { decodeBundle, hashesAtLevel, parseTilePath, TILE_HEIGHT, TILE_WIDTH, tilePath } from './tiles.ts';

/**
 * Re-derives a tenant log from its files alone and reports the first thing wrong: every
 * entry's canonical form and integrity hash, the hash chain, every tile hash at every level,
 * the root against the checkpoint, and the checkpoint's signature and origin.
 */

/** What to verify against. */
export interface VerifyOptions {
  /** The log's origin; checkpoints of any other log are refused. */
  origin: string;
  /** Trusted verifier keys (any may have signed the checkpoint). */
  verifiers: readonly NoteVerifier[];
  /** Called now and then with entries checked so far and the total. */
  onProgress?(done: number, total: number): void;
}

/** The verdict on one log. */
export interface VerifyReport {
  ok: boolean;
  /** Entries the log should hold (the larger of the checkpoint's size and what is on disk). */
  size: number;
  /** Size in the checkpoint, -1 when it could not be read. */
  checkpointSize: number;
  /** First entry index at which entries or tiles are wrong. */
  firstBadIndex?: number;
  /** The file at fault, relative to the log dir. */
  file?: string;
  /** What is wrong, in words. */
  problem?: string;
}

/** Verifies the log in `dir` (a tenant directory). */
export function verifyLog(dir: string, options: VerifyOptions): VerifyReport {
  let checkpoint: Checkpoint | undefined;
  let checkpointProblem: string | undefined;
  try {
    checkpoint = openCheckpoint(
      readFileSync(join(dir, 'checkpoint'), 'utf8'),
      options.verifiers,
      options.origin,
    );
  } catch (err) {
    checkpointProblem = `checkpoint: ${(err as Error).message}`;
  }
  const disk = diskSize(dir);
  const size = Math.max(disk, checkpoint?.size ?? 0);
  const cpSize = checkpoint?.size ?? -1;
  const bad = (index: number, file: string, problem: string): VerifyReport => ({
    ok: false,
    size,
    checkpointSize: cpSize,
    firstBadIndex: index,
    file,
    problem: `entry ${index}: ${problem}`,
  });

  const tileCache = new Map<string, Buffer | undefined>();
  const tileFor = (level: number, n: number): { path: string; data: Buffer | undefined } => {
    const count = hashesAtLevel(size, level);
    const width = Math.min(TILE_WIDTH, count - n * TILE_WIDTH);
    const path = tilePath({ level, n, width });
    if (!tileCache.has(path)) {
      if (tileCache.size > 16) tileCache.delete(tileCache.keys().next().value!);
      const full = join(dir, path);
      const data = existsSync(full) ? readFileSync(full) : undefined;
      tileCache.set(path, data && data.length === width * 32 ? data : undefined);
    }
    return { path, data: tileCache.get(path) };
  };

  const compact = new CompactRange();
  const ids = new Set<string>();
  let prev = GENESIS_HASH;
  let root: Hash | undefined = size === 0 ? compact.root() : undefined;
  let nodeFault: VerifyReport | undefined;
  const onNode = (height: number, index: number, hash: Hash): void => {
    if (nodeFault || height % TILE_HEIGHT !== 0) return;
    const level = height / TILE_HEIGHT;
    const first = index * 2 ** height;
    const { path, data } = tileFor(level, Math.floor(index / TILE_WIDTH));
    const at = (index % TILE_WIDTH) * 32;
    if (!data) nodeFault = bad(first, path, `tile ${path} is missing or has the wrong length`);
    else if (!data.subarray(at, at + 32).equals(hash))
      nodeFault = bad(first, path, `tile ${path} does not match the entries below it`);
  };

  for (let n = 0; n * TILE_WIDTH < size; n++) {
    const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
    const path = tilePath({ level: 'entries', n, width });
    const start = n * TILE_WIDTH;
    if (!existsSync(join(dir, path))) return bad(start, path, `entry bundle ${path} is missing`);
    const { entries, error } = decodePrefix(readFileSync(join(dir, path)));
    for (let i = 0; i < width; i++) {
      const index = start + i;
      const e = entries[i];
      if (!e)
        return bad(index, path, error ?? `bundle ${path} holds ${entries.length} entries, not ${width}`);
      const check = checkEntry(e);
      if (!check.ok) return bad(index, path, check.reason);
      if (check.prevHash !== prev) return bad(index, path, `prev_hash does not chain to entry ${index - 1}`);
      if (ids.has(check.eventId)) return bad(index, path, `event_id ${check.eventId} appears twice`);
      ids.add(check.eventId);
      prev = check.hash;
      const leaf = leafHash(e);
      const tile = tileFor(0, n);
      if (!tile.data) return bad(index, tile.path, `tile ${tile.path} is missing or has the wrong length`);
      if (!tile.data.subarray(i * 32, i * 32 + 32).equals(leaf))
        return bad(index, tile.path, `tile ${tile.path} does not hold the entry's leaf hash`);
      compact.append(leaf, onNode);
      if (nodeFault) return nodeFault;
      if (compact.size === checkpoint?.size) root = compact.root();
      if (options.onProgress && compact.size % 65_536 === 0) options.onProgress(compact.size, size);
    }
    if (entries.length > width)
      return bad(start + width, path, `bundle ${path} holds more than ${width} entries`);
  }
  options.onProgress?.(size, size);

  const base = { size, checkpointSize: cpSize };
  if (checkpointProblem) return { ok: false, ...base, file: 'checkpoint', problem: checkpointProblem };
  if (disk < checkpoint!.size)
    return {
      ...bad(disk, 'tile/entries', `the checkpoint covers ${checkpoint!.size} entries; ${disk} are on disk`),
    };
  if (!root?.equals(checkpoint!.root)) {
    return {
      ok: false,
      ...base,
      file: 'checkpoint',
      problem: `checkpoint: the root for size ${checkpoint!.size} does not match the entries`,
    };
  }
  return { ok: true, ...base };
}

/** Entries on disk: the run of full bundles from 0 and the widest partial after them. */
export function diskSize(dir: string): number {
  const bundles = new Map<number, number>();
  for (const f of listFiles(join(dir, 'tile', 'entries'))) {
    const ref = parseTilePath(`tile/entries/${f}`);
    if (ref) bundles.set(ref.n, Math.max(bundles.get(ref.n) ?? 0, ref.width));
  }
  let n = 0;
  while (bundles.get(n) === TILE_WIDTH) n++;
  return n * TILE_WIDTH + (bundles.get(n) ?? 0);
}

function decodePrefix(data: Buffer): { entries: Buffer[]; error?: string } {
  try {
    return { entries: decodeBundle(data) };
  } catch (err) {
    // Keep the entries before the damage so the report names the first bad one.
    const entries: Buffer[] = [];
    let at = 0;
    while (at + 2 <= data.length && at + 2 + data.readUInt16BE(at) <= data.length) {
      const len = data.readUInt16BE(at);
      entries.push(data.subarray(at + 2, at + 2 + len));
      at += 2 + len;
    }
    return { entries, error: (err as Error).message };
  }
}
