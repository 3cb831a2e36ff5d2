import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { DirtyDirs, type KnownDirs, writeAtomic } from './atomic-write.ts';
import { LogTail, type TailState, type TileWrite } from './tail.ts';
import type { SharedSlots } from './tail-client.ts';
import { TILE_WIDTH, tilePath } from './tiles.ts';

/**
 * The ledger's worker thread: it holds the tail (tail.ts) of every open tenant log, turns the
 * canonical members the main thread sends into entries, hashes and tiles, and writes each
 * group's files (temp file, fsync, rename, directory fsync). The main thread keeps what must
 * answer synchronously (the event id index, the durable size and root) and canonicalises;
 * SHA-256 and the bytes are done here, on the other core.
 *
 * Groups of one log are built in the order they arrive and written one after the other; each
 * is answered once its own files are durable. A group whose predecessor failed is not written
 * and fails with the same error: its entries chain to entries that are not on disk. The main
 * thread then recovers from the files and opens the log here again.
 */

/** Messages from the main thread. */
export type TailRequest =
  | { op: 'open'; log: number; dir: string; state: TailState }
  | {
      /** Part of a group; the part with a `seq` ends it and is answered once it is durable. */
      op: 'append';
      log: number;
      /** 0 for a part that does not end its group. */
      seq: number;
      /**
       * Where the part is: a shared slot (tail-client.ts), or `payload` when slot is -1. UTF-8,
       * for each entry: its canonical members before `integrity`, `\n`, those after, `\n`.
       */
      slot: number;
      length: number;
      payload?: Uint8Array;
      count: number;
    }
  | { op: 'close'; log: number };

/** Answers to `append`, by `seq`. */
export type TailReply =
  | { seq: number; size: number; edge: string[] }
  | { seq: number; error: { message: string; code?: string } };

interface OpenLog {
  dir: string;
  tail: LogTail;
  /** Directories made or found (see KnownDirs). */
  dirs: KnownDirs;
  /** Settles when the last group is durable with all before it: undefined, or why not. */
  lastWrite: Promise<unknown>;
  /** Set once a group failed: later groups chain to its entries and fail too, unwritten. */
  failed: unknown;
}

const logs = new Map<number, OpenLog>();
const port = parentPort;
if (!port) throw new Error('tail-worker.ts runs as a worker thread');
const slots = workerData as SharedSlots;
const views = Array.from({ length: slots.busy.length }, (_, i) =>
  Buffer.from(slots.memory, i * slots.slotBytes, slots.slotBytes),
);

port.on('message', (m: TailRequest) => {
  if (m.op === 'open') {
    logs.set(m.log, {
      dir: m.dir,
      tail: new LogTail(m.state),
      dirs: new Map(),
      lastWrite: Promise.resolve(undefined),
      failed: undefined,
    });
  } else if (m.op === 'close') {
    logs.delete(m.log);
  } else {
    try {
      const src =
        m.slot >= 0
          ? views[m.slot]!.subarray(0, m.length)
          : Buffer.from(m.payload!.buffer, m.payload!.byteOffset, m.length);
      append(m.log, m.seq, src, m.count);
    } finally {
      // Every byte of the part has been copied into the tail by now: the slot is free.
      if (m.slot >= 0) Atomics.store(slots.busy, m.slot, 0);
    }
  }
});

function append(id: number, seq: number, src: Buffer, count: number): void {
  const log = logs.get(id);
  if (!log) {
    if (seq > 0)
      reply({ seq, error: { message: 'the ledger worker does not hold this log (it restarted)' } });
    return;
  }
  if (log.failed !== undefined) {
    if (seq > 0) reply({ seq, error: errorOf(log.failed) });
    return;
  }
  let writes: TileWrite[];
  let size: number;
  let edge: string[];
  try {
    // Canonical JSON holds no raw control characters (JCS escapes them), so `\n` separates.
    let at = 0;
    for (let i = 0; i < count; i++) {
      const mid = src.indexOf(0x0a, at);
      const end = src.indexOf(0x0a, mid + 1);
      if (mid < 0 || end < 0) throw new Error('malformed append payload');
      log.tail.append(src, at, mid, mid + 1, end);
      at = end + 1;
    }
    if (seq === 0) return;
    writes = log.tail.flush();
    ({ size, edge } = log.tail.mark() as { size: number; edge: string[] });
  } catch (err) {
    // The tail may hold part of the group: nothing more is written until the log is reopened.
    log.failed = err;
    if (seq > 0) reply({ seq, error: errorOf(err) });
    return;
  }
  // A group's files are written at once, alongside those of the group before (the disk's
  // latency, not its bandwidth, is the limit), but it is durable, and answered, only with
  // every group before it. Files of two groups never share a path (a partial tile's path has
  // its width), and recovery takes any subset of unacknowledged files (README: Recovery).
  const previous = log.lastWrite;
  const written = Promise.all([write(log, writes, previous), previous]).then(([, earlier]) => {
    if (earlier !== undefined) throw earlier;
  });
  log.lastWrite = written.then(
    () => undefined,
    (err: unknown) => {
      log.failed ??= err ?? new Error('ledger write failed');
      return log.failed;
    },
  );
  written.then(
    () => reply({ seq, size, edge }),
    (err: unknown) => reply({ seq, error: errorOf(err) }),
  );
}

/**
 * Writes a group's files, all fsynced with their directories. Partial tiles a full one replaces
 * are deleted only once the group before is done, as it may still be writing one of them.
 */
async function write(log: OpenLog, writes: TileWrite[], previous: Promise<unknown>): Promise<void> {
  if (writes.length === 0) return;
  const dirty = new DirtyDirs(log.dirs);
  // Every write settles before the group is answered, failed or not: the main thread recovers
  // from the files once nothing is in flight, and no rename may land behind its back.
  const settled = await Promise.allSettled(
    writes.map((w) => writeAtomic(join(log.dir, tilePath(w.ref)), w.data, dirty, 0o444)),
  );
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  await dirty.sync();
  const full = writes.filter((w) => w.ref.width === TILE_WIDTH);
  if (full.length === 0) return;
  await previous;
  // Partial tiles are only needed until their full tile exists (tlog-tiles allows deleting them).
  const removed = await Promise.allSettled(
    full.map((w) => {
      const partials = join(log.dir, `${tilePath(w.ref)}.p`);
      log.dirs.delete(partials);
      return rm(partials, { recursive: true, force: true });
    }),
  );
  for (const r of removed) if (r.status === 'rejected') throw r.reason;
}

function reply(r: TailReply): void {
  port!.postMessage(r);
}

function errorOf(err: unknown): { message: string; code?: string } {
  const e = err as { message?: unknown; code?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return typeof e?.code === 'string' ? { message, code: e.code } : { message };
}
