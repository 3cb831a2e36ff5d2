import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DirtyDirs, writeAtomic } from './atomic-write.ts';
import { signCheckpoint } from './checkpoint.ts';
import { canonicalHalves, entryEventId, INTEGRITY_MEMBER_LENGTH } from './entry.ts';
import { EventIdIndex } from './event-ids.ts';
import type { Hash, NodeReader } from './merkle.ts';
import type { NoteSigner } from './note.ts';
import { readTileIn } from './reader.ts';
import { LedgerDamagedError, recoverLog } from './recovery.ts';
import { rootOf, type TreeMark, tailStateOf } from './tail.ts';
import { type GroupWriter, tailWorker } from './tail-client.ts';
import { decodeBundle, MAX_ENTRY_BYTES, TILE_WIDTH, type TileRef, tileNodeReader } from './tiles.ts';

/**
 * One tenant's log on disk in the tlog-tiles layout. Appends are grouped, so one set of fsyncs
 * carries many events, and each caller is answered only after its group is durable. The work
 * is split over two threads: here, the event id index, canonicalisation (JCS needs the event
 * objects, which do not cross threads cheaply) and the answers; in the ledger worker
 * (tail-worker.ts), the entries' bytes, every SHA-256, the tiles and the file writes. The
 * files are the only truth: on open, and after a failed write, the state is re-derived from
 * them (recovery.ts).
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

/**
 * A group takes queued appends until it holds this many events (or the queue is empty). The
 * main thread canonicalises a group, hands it to the worker, and goes on with the next while
 * the worker hashes and writes the first: smaller groups overlap the two threads and the disk
 * better, larger ones share one set of fsyncs among more events.
 */
const GROUP_EVENTS = 4096;
/** Groups in flight per log, at most: beyond it appends queue (back-pressure on the callers). */
const MAX_IN_FLIGHT = 2;

/** A group handed to the worker and not yet answered: its first index and event ids. */
interface InFlight {
  first: number;
  ids: string[];
}

/** A tenant's append-only log. */
export class TenantLog {
  readonly dir: string;
  readonly origin: string;
  private readonly signer: NoteSigner;
  private readonly logger: Logger | undefined;

  /** Durable size: every entry below it is on disk with its tiles. */
  size = 0;
  /** The tree at the durable size (checkpoints sign its root). */
  private durable: TreeMark = { size: 0, edge: [] };
  /** Index the next new entry gets: ahead of `size` while groups are in flight. */
  private next = 0;
  /** This log in the worker (tail-worker.ts), which holds its tail and writes its files. */
  private readonly id = tailWorker.newLog();
  private readonly ids = new EventIdIndex((index) => this.idAt(index));
  private queue: Pending[] = [];
  private kickScheduled = false;
  private readonly inFlight: InFlight[] = [];
  /** Settles when the last group is durable (rejects when it or one before it failed). */
  private lastOutcome: Promise<unknown> = Promise.resolve();
  /** Settles when the last group has been answered. */
  private lastDone: Promise<void> = Promise.resolve();
  /** A group failed: the worker's tail is ahead of the files until recovery, once nothing is in flight. */
  private failed = false;
  /** The bundle last read from disk to compare an event_id (replays hit the same bundles). */
  private readCache: { n: number; width: number; entries: Buffer[] } | undefined;
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
    return rootOf(this.durable);
  }

  /**
   * Appends envelopes in order; resolves once they are durable. An event_id already in the
   * log resolves with its existing index (replays do not duplicate).
   */
  append(envelopes: readonly Envelope[]): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new Error('the ledger is closed'));
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.queue.push({ envelopes, resolve, reject });
      // Appends made in the same turn of the event loop (callers answered together come back
      // together) go into one group rather than a group each.
      if (!this.kickScheduled) {
        this.kickScheduled = true;
        setImmediate(() => {
          this.kickScheduled = false;
          this.kick();
        });
      }
    });
  }

  /**
   * Canonicalises the queued appends into a group and hands it to the worker. The worker
   * builds and writes a log's groups one after the other and answers each only after its own
   * files are fsynced, so callers are answered in order; canonicalising the next group while
   * the worker and the disk work on the previous one is what the pipeline buys. A failed group
   * fails every group built on it (their entries chain to its entries), and the state is then
   * re-derived from the files.
   */
  private kick(): void {
    while (!this.failed && this.inFlight.length < MAX_IN_FLIGHT && this.queue.length > 0) {
      let take = 0;
      for (let events = 0; take < this.queue.length && events < GROUP_EVENTS; take++)
        events += this.queue[take]!.envelopes.length;
      const group = this.queue.splice(0, take);
      // In flight from the start: a replay later in this very group compares its id with
      // the entries of the group (see idAt).
      const flight: InFlight = { first: this.next, ids: [] };
      this.inFlight.push(flight);
      const writer = tailWorker.group(this.id);
      let answers: AppendResult[][];
      try {
        answers = this.build(group, flight.ids, writer);
      } catch (err) {
        writer.abandon();
        this.inFlight.pop();
        for (const p of group) p.reject(err);
        this.fail();
        continue;
      }
      // A group of replays and refusals only has nothing to write, but it answers after the
      // group before it, and fails with it (a replay may name an entry of that group).
      const outcome: Promise<TreeMark | undefined> =
        writer.entries > 0 ? writer.commit() : this.lastOutcome.then(() => undefined);
      this.lastOutcome = outcome;
      this.lastDone = outcome
        .then(
          (mark) => {
            if (mark) {
              this.durable = mark;
              this.size = mark.size;
            }
            for (let i = 0; i < group.length; i++) group[i]!.resolve(answers[i]!);
          },
          (err: unknown) => {
            for (const p of group) p.reject(err);
            this.failed = true;
          },
        )
        .finally(() => {
          this.inFlight.splice(this.inFlight.indexOf(flight), 1);
          if (this.failed) this.fail();
          this.kick();
        });
    }
  }

  /** After a failed group: once nothing is in flight, re-derive the state from the files. */
  private fail(): void {
    this.failed = true;
    if (this.inFlight.length > 0) return;
    try {
      this.recover();
      this.failed = false;
    } catch (e) {
      this.logger?.error({ err: e }, 'ledger recovery after a failed write failed');
      this.closed = true;
      const queued = this.queue;
      this.queue = [];
      for (const p of queued) p.reject(e);
    }
  }

  /**
   * Canonicalises a group's new envelopes for the worker and gives each its index; the answer
   * of each append call. Throws when an envelope cannot be canonicalised.
   */
  private build(group: Pending[], ids: string[], writer: GroupWriter): AppendResult[][] {
    const answers: AppendResult[][] = [];
    for (const p of group) {
      const results: AppendResult[] = [];
      answers.push(results);
      for (const envelope of p.envelopes) {
        const id = envelope.event_id;
        // Ids are recorded before the write is durable; a failed write re-derives the index.
        const known = this.ids.get(id);
        if (known !== undefined) {
          results.push({ index: known, duplicate: true });
          continue;
        }
        const [before, after] = canonicalHalves(envelope);
        const bytes = entryBytes(before, after);
        if (bytes > MAX_ENTRY_BYTES) {
          results.push({
            error: `the canonical entry is ${bytes} bytes; the ledger holds at most ${MAX_ENTRY_BYTES}`,
          });
          continue;
        }
        writer.add(before, after);
        const index = this.next++;
        this.ids.set(id, index);
        ids.push(id);
        results.push({ index, duplicate: false });
      }
    }
    return answers;
  }

  /** The event_id of entry `index`, for the event id index's full comparison. */
  private idAt(index: number): string | undefined {
    for (const f of this.inFlight) {
      if (index >= f.first && index < f.first + f.ids.length) return f.ids[index - f.first];
    }
    if (index >= this.size) return undefined;
    const n = Math.floor(index / TILE_WIDTH);
    const width = Math.min(TILE_WIDTH, this.size - n * TILE_WIDTH);
    const cached = this.readCache;
    if (cached?.n !== n || cached.width !== width) {
      this.readCache = { n, width, entries: decodeBundle(this.readTile({ level: 'entries', n, width })) };
    }
    const bytes = this.readCache!.entries[index % TILE_WIDTH];
    return bytes && entryEventId(bytes);
  }

  /** Signs and writes a checkpoint for the durable size, when it changed since the last one. */
  async checkpoint(): Promise<void> {
    while (this.checkpointing) await this.checkpointing;
    if (this.checkpointSize === this.size) return;
    const size = this.size;
    const note = signCheckpoint({ origin: this.origin, size, root: this.root() }, [this.signer]);
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
    for (;;) {
      // Appends still waiting for their scheduled kick are built now.
      if (this.inFlight.length === 0) this.kick();
      if (this.inFlight.length === 0 && this.queue.length === 0) break;
      await this.lastDone;
    }
    this.closed = true;
    await this.checkpoint();
    tailWorker.close(this.id);
  }

  /**
   * Reads a tile or bundle file. The worker may already have deleted a partial this thread
   * still reads at its older size (its full tile exists): then it is cut from the full tile.
   */
  readTile(ref: TileRef): Buffer {
    return readTileIn(this.dir, ref);
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

  /** Re-derives the state from the files (see recovery.ts) and restarts the log in the worker. */
  private recover(): void {
    const r = recoverLog(this.dir, this.origin, this.logger);
    tailWorker.open(this.id, this.dir, tailStateOf(r));
    this.size = r.size;
    this.next = r.size;
    this.durable = { size: r.size, edge: r.compact.hashes.map((h) => h.toString('latin1')) };
    this.checkpointSize = r.checkpointSize;
    this.readCache = undefined;
    this.lastOutcome = Promise.resolve();
    this.ids.clear();
    for (const [id, index] of r.ids) this.ids.set(id, index);
  }
}

/** UTF-8 length of the entry made of two canonical halves and the integrity member. */
function entryBytes(before: string, after: string): number {
  const chars = before.length + after.length + INTEGRITY_MEMBER_LENGTH + 4;
  // UTF-8 takes at least one byte per UTF-16 code unit and at most three: count only when it matters.
  if (chars > MAX_ENTRY_BYTES || 3 * chars <= MAX_ENTRY_BYTES) return chars;
  return Buffer.byteLength(before) + Buffer.byteLength(after) + INTEGRITY_MEMBER_LENGTH + 4;
}
