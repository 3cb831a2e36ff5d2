import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Checkpoint, openCheckpoint, parseCheckpoint } from './checkpoint.ts';
import { entryEventId } from './entry.ts';
import { consistencyProof, type Hash, inclusionProof, type NodeReader, rootHash } from './merkle.ts';
import type { NoteVerifier } from './note.ts';
import { formatProof } from './proof-file.ts';
import { decodeBundle, TILE_WIDTH, type TileRef, tileNodeReader, tilePath } from './tiles.ts';
import { diskSize } from './verify.ts';

/**
 * Read-only access to a tenant log's files, for the CLI and the read API: it never writes, so
 * it is safe beside a running writer. Proofs are made against the latest checkpoint, reading
 * a partial tile from its full tile once the partial has been deleted.
 */
export class LogReader {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** True when the directory holds a log. */
  exists(): boolean {
    return existsSync(join(this.dir, 'checkpoint'));
  }

  /** The latest signed checkpoint note, verbatim. */
  checkpointNote(): string {
    return readFileSync(join(this.dir, 'checkpoint'), 'utf8');
  }

  /** The latest checkpoint, signature-checked when verifiers are given. */
  checkpoint(verifiers?: readonly NoteVerifier[], origin?: string): Checkpoint {
    const note = this.checkpointNote();
    if (verifiers) return openCheckpoint(note, verifiers, origin);
    return parseCheckpoint(note.slice(0, note.indexOf('\n\n') + 1));
  }

  /** A tile or bundle's bytes; a deleted partial is cut from its full tile. */
  readTile(ref: TileRef): Buffer {
    return readTileIn(this.dir, ref);
  }

  /** Node hashes of the tree of `size`. */
  nodeReader(size: number): NodeReader {
    return tileNodeReader((level, n, width) => this.readTile({ level, n, width }), size);
  }

  /** The entry at `index` of a tree of at least `size` entries. */
  entry(index: number, size: number): Buffer {
    const n = Math.floor(index / TILE_WIDTH);
    const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
    const e = decodeBundle(this.readTile({ level: 'entries', n, width }))[index % TILE_WIDTH];
    if (!e) throw new Error(`entry ${index} is not in the log`);
    return e;
  }

  /** Index of an event by scanning the entries on disk (the writer keeps a map; we do not). */
  findEvent(eventId: string): number | undefined {
    const size = diskSize(this.dir);
    for (let n = 0; n * TILE_WIDTH < size; n++) {
      const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
      const entries = decodeBundle(this.readTile({ level: 'entries', n, width }));
      for (let i = 0; i < entries.length; i++)
        if (entryEventId(entries[i]!) === eventId) return n * TILE_WIDTH + i;
    }
    return undefined;
  }

  /**
   * A c2sp.org/tlog-proof@v1 file for the entry at `index` against the latest checkpoint. The
   * entry itself goes in `extra`, so the file alone is enough to check the record.
   */
  proveInclusion(index: number): string {
    const note = this.checkpointNote();
    const c = this.checkpoint();
    if (index >= c.size)
      throw new RangeError(
        `entry ${index} is not covered by the latest checkpoint (size ${c.size}) yet; retry in a moment`,
      );
    const proof = inclusionProof(this.nodeReader(c.size), index, c.size);
    return formatProof({ index, proof, checkpoint: note, extra: this.entry(index, c.size) });
  }

  /** A consistency proof between two sizes, both at most the latest checkpoint's. */
  proveConsistency(
    from: number,
    to: number,
  ): { from: number; to: number; rootFrom: Hash; rootTo: Hash; proof: Hash[]; checkpoint: string } {
    const note = this.checkpointNote();
    const c = this.checkpoint();
    if (
      !(Number.isSafeInteger(from) && Number.isSafeInteger(to) && from >= 0 && from <= to && to <= c.size)
    ) {
      throw new RangeError(`need 0 <= from <= to <= ${c.size} (the latest checkpoint)`);
    }
    const read = this.nodeReader(c.size);
    return {
      from,
      to,
      rootFrom: rootHash(read, from),
      rootTo: rootHash(read, to),
      proof: consistencyProof(read, from, to),
      checkpoint: note,
    };
  }
}

/**
 * A tile or bundle's bytes from a log directory. The writer deletes a partial once its full
 * tile exists — possibly while we read, or before the reader has learnt the new size — so a
 * missing partial is cut from its full tile (tlog-tiles: a partial is a prefix of the full one).
 */
export function readTileIn(dir: string, ref: TileRef): Buffer {
  try {
    return readFileSync(join(dir, tilePath(ref)));
  } catch (err) {
    if (ref.width === TILE_WIDTH || (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const full = readFileSync(join(dir, tilePath({ ...ref, width: TILE_WIDTH })));
  if (ref.level !== 'entries') return full.subarray(0, ref.width * 32);
  return Buffer.concat(
    decodeBundle(full)
      .slice(0, ref.width)
      .map((e) => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(e.length);
        return Buffer.concat([len, e]);
      }),
  );
}
