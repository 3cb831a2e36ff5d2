import { mkdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DirtyDirs, writeAtomic } from './atomic-write.ts';
import { signCheckpoint } from './checkpoint.ts';
import { buildLeaf, GENESIS_HASH } from './entry.ts';
import { CompactRange, type Hash, type NodeReader } from './merkle.ts';
import type { NoteSigner } from './note.ts';
import { LedgerDamagedError, recoverLog } from './recovery.ts';
import {
  decodeBundle,
  encodeBundle,
  hashesAtLevel,
  MAX_ENTRY_BYTES,
  TILE_HEIGHT,
  TILE_WIDTH,
  type TileRef,
  tileNodeReader,
  tilePath,
} from './tiles.ts';

/**
 * One tenant's log on disk in the tlog-tiles layout. Appends are grouped: while one group is
 * being written, new appends queue for the next, so one set of fsyncs carries many events and
 * each caller is answered only after its group is durable. The files are the only truth: on
 * open, the state is re-derived from them (recovery.ts).
 */

/** Options of a tenant log. */
export interface TenantLogOptions {
  /** The tenant's directory (`<dir>/<tenant>`). */
  dir: string;
  /** Checkpoint origin line, `<origin>/t/<tenant>`. */
  origin: string;
  signer: NoteSigner;
  logger?: Logger;
}

/** What became of one appended envelope. */
export type AppendResult = { index: number; duplicate: boolean } | { error: string };

type Envelope = Record<string, unknown> & { event_id: string };

/** One append call waiting for its group to be written. */
interface Pending {
  envelopes: readonly Envelope[];
  resolve(results: AppendResult[]): void;
  reject(err: unknown): void;
}

/** A tenant's append-only log. */
export class TenantLog {
  readonly dir: string;
  readonly origin: string;
  private readonly signer: NoteSigner;
  private readonly logger: Logger | undefined;

  /** Durable size: every entry below it is on disk with its tiles. */
  size = 0;
  private lastHash = GENESIS_HASH;
  private compact = new CompactRange();
  /** Entries of the partial entry bundle. */
  private bundle: Buffer[] = [];
  /** Hashes of the partial tile at each level. */
  private partial: Hash[][] = [];
  private readonly ids = new Map<string, number>();
  /** Directories this log has created or seen (see DirtyDirs); cleared by recovery. */
  private readonly dirs = new Set<string>();
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  private checkpointing: Promise<void> | undefined;
  private checkpointSize = -1;
  private closed = false;

  private constructor(options: TenantLogOptions) {
    this.dir = options.dir;
    this.origin = options.origin;
    this.signer = options.signer;
    this.logger = options.logger;
  }

  /** Opens (and recovers) the log in `options.dir`, creating it when absent. */
  static async open(options: TenantLogOptions): Promise<TenantLog> {
    const log = new TenantLog(options);
    mkdirSync(options.dir, { recursive: true });
    log.recover();
    if (log.checkpointSize !== log.size) await log.checkpoint();
    return log;
  }

  /** Index of an event already in the log. */
  indexOf(eventId: string): number | undefined {
    return this.ids.get(eventId);
  }

  /** Root hash at the durable size. */
  root(): Hash {
    return this.compact.root();
  }

  /**
   * Appends envelopes in order; resolves once they are durable. An event_id already in the
   * log resolves with its existing index (replays do not duplicate).
   */
  append(envelopes: readonly Envelope[]): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new Error('the ledger is closed'));
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.queue.push({ envelopes, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.writing || this.queue.length === 0) return;
    const group = this.queue;
    this.queue = [];
    this.writing = this.commit(group)
      .catch((err: unknown) => {
        for (const p of group) p.reject(err);
        // The files are the truth: after a failed write, re-derive the state (and id map) from them.
        try {
          this.recover();
        } catch (e) {
          this.logger?.error({ err: e }, 'ledger recovery after a failed write failed');
          this.closed = true;
        }
      })
      .finally(() => {
        this.writing = undefined;
        this.kick();
      });
  }

  /** Writes one group: new entries, their tiles, all fsynced, then answers every caller. */
  private async commit(group: Pending[]): Promise<void> {
    const startSize = this.size;
    let size = this.size;
    let lastHash = this.lastHash;
    const compact = new CompactRange();
    compact.hashes.push(...this.compact.hashes);
    compact.levels.push(...this.compact.levels);
    compact.size = this.compact.size;
    let bundle = this.bundle.slice();
    const partial = this.partial.map((p) => p.slice());
    const touched = new Set<number>();
    const writes: { ref: TileRef; data: Buffer }[] = [];
    const answers: AppendResult[][] = [];

    const push = (level: number, hash: Hash): void => {
      partial[level] ??= [];
      const tile = partial[level]!;
      tile.push(hash);
      touched.add(level);
      if (tile.length === TILE_WIDTH) {
        const n = Math.floor(hashesAtLevel(size, level) / TILE_WIDTH) - 1;
        writes.push({ ref: { level, n, width: TILE_WIDTH }, data: Buffer.concat(tile) });
        partial[level] = [];
      }
    };
    // The tree edge computes every interior node anyway; those at heights 8, 16, ... are the
    // hashes of tile levels 1, 2, ..., so they are taken from it rather than hashed again.
    const onNode = (height: number, _index: number, hash: Hash): void => {
      if (height % TILE_HEIGHT === 0) push(height / TILE_HEIGHT, hash);
    };

    for (const p of group) {
      const results: AppendResult[] = [];
      answers.push(results);
      for (const envelope of p.envelopes) {
        const id = envelope.event_id;
        // Ids are recorded before the write is durable; a failed write re-derives the map.
        const known = this.ids.get(id);
        if (known !== undefined) {
          results.push({ index: known, duplicate: true });
          continue;
        }
        const entry = buildLeaf(envelope, lastHash);
        if (entry.bytes.length > MAX_ENTRY_BYTES) {
          results.push({
            error: `the canonical entry is ${entry.bytes.length} bytes; the ledger holds at most ${MAX_ENTRY_BYTES}`,
          });
          continue;
        }
        const leaf = entry.leaf;
        bundle.push(entry.bytes);
        size++;
        lastHash = entry.hash;
        this.ids.set(id, size - 1);
        results.push({ index: size - 1, duplicate: false });
        if (bundle.length === TILE_WIDTH) {
          writes.push({
            ref: { level: 'entries', n: size / TILE_WIDTH - 1, width: TILE_WIDTH },
            data: encodeBundle(bundle),
          });
          bundle = [];
        }
        // Level 0 first: a tile the leaf completes is written before its hash goes up a level.
        push(0, leaf);
        compact.append(leaf, onNode);
      }
    }

    if (size > startSize) {
      if (bundle.length > 0) {
        writes.push({
          ref: { level: 'entries', n: Math.floor(size / TILE_WIDTH), width: bundle.length },
          data: encodeBundle(bundle),
        });
      }
      for (const level of touched) {
        const tile = partial[level];
        if (tile && tile.length > 0) {
          const n = Math.floor(hashesAtLevel(size, level) / TILE_WIDTH);
          writes.push({ ref: { level, n, width: tile.length }, data: Buffer.concat(tile) });
        }
      }
      const dirty = new DirtyDirs(this.dirs);
      await Promise.all(
        writes.map((w) => writeAtomic(join(this.dir, tilePath(w.ref)), w.data, dirty, 0o444)),
      );
      await dirty.sync();
      // Partial tiles are only needed until their full tile exists (tlog-tiles allows deleting them).
      await Promise.all(
        writes
          .filter((w) => w.ref.width === TILE_WIDTH)
          .map((w) => {
            const partials = join(this.dir, `${tilePath(w.ref)}.p`);
            this.dirs.delete(partials);
            return rm(partials, { recursive: true, force: true });
          }),
      );
    }

    this.size = size;
    this.lastHash = lastHash;
    this.compact = compact;
    this.bundle = bundle;
    this.partial = partial;
    for (let i = 0; i < group.length; i++) group[i]!.resolve(answers[i]!);
  }

  /** Signs and writes a checkpoint for the durable size, when it changed since the last one. */
  async checkpoint(): Promise<void> {
    while (this.checkpointing) await this.checkpointing;
    if (this.checkpointSize === this.size) return;
    const size = this.size;
    const note = signCheckpoint({ origin: this.origin, size, root: this.compact.root() }, [this.signer]);
    this.checkpointing = (async () => {
      const dirty = new DirtyDirs();
      await writeAtomic(join(this.dir, 'checkpoint'), note, dirty, 0o644);
      await dirty.sync();
      this.checkpointSize = size;
    })().finally(() => {
      this.checkpointing = undefined;
    });
    await this.checkpointing;
  }

  /** The latest checkpoint note on disk. */
  latestCheckpoint(): string {
    return readFileSync(join(this.dir, 'checkpoint'), 'utf8');
  }

  /** Waits for queued appends and writes a final checkpoint. Idempotent. */
  async close(): Promise<void> {
    while (this.writing) await this.writing;
    this.closed = true;
    await this.checkpoint();
  }

  /** Reads a tile or bundle file. */
  readTile(ref: TileRef): Buffer {
    return readFileSync(join(this.dir, tilePath(ref)));
  }

  /** Node hashes of the tree of `size` (at most the durable size), from the tiles. */
  nodeReader(size: number): NodeReader {
    return tileNodeReader((level, n, width) => this.readTile({ level, n, width }), size);
  }

  /** Entries of the bundle holding `index`, at the durable size. */
  readEntry(index: number): Buffer {
    const n = Math.floor(index / TILE_WIDTH);
    const width = Math.min(TILE_WIDTH, this.size - n * TILE_WIDTH);
    const entries = decodeBundle(this.readTile({ level: 'entries', n, width }));
    const e = entries[index % TILE_WIDTH];
    if (!e) throw new LedgerDamagedError(`entry ${index} is missing from its bundle`);
    return e;
  }

  /** Re-derives the state from the files (see recovery.ts). */
  private recover(): void {
    const r = recoverLog(this.dir, this.origin, this.logger);
    this.size = r.size;
    this.compact = r.compact;
    this.bundle = r.bundle;
    this.partial = r.partial;
    this.lastHash = r.lastHash;
    this.checkpointSize = r.checkpointSize;
    this.ids.clear();
    this.dirs.clear();
    for (const [id, index] of r.ids) this.ids.set(id, index);
  }
}
