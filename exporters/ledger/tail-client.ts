import { Worker } from 'node:worker_threads';
import type { TailState, TreeMark } from './tail.ts';
import type { TailReply, TailRequest } from './tail-worker.ts';

/**
 * The main thread's side of the ledger worker (tail-worker.ts): one worker per process, shared
 * by every tenant log, started on first use. One, because this is a two-core target: the main
 * thread canonicalises and the worker hashes and writes; more threads would only contend.
 *
 * The worker does not keep the process alive while idle (unref); it does while an append is
 * waiting for its answer, so an acknowledged write is never cut short by the process exiting.
 */

/** A failure reported by the worker, with the original error's message and code. */
export class LedgerWriteError extends Error {
  override name = 'LedgerWriteError';
  readonly code: string | undefined;

  constructor(message: string, code?: string) {
    super(message);
    this.code = code;
  }
}

interface Waiting {
  resolve(mark: TreeMark): void;
  reject(err: Error): void;
}

/**
 * Parts of groups travel in shared memory: a fixed set of slots the main thread writes the
 * canonical members into and the worker reads them from, freeing the slot as soon as it has
 * (see GroupWriter). Building one payload string per part and encoding it (flattening a deep
 * concatenation) cost ~2.8 µs per event in the bench, plus a buffer per part to transfer and
 * free; writing each half straight into a slot costs ~0.2 µs and allocates nothing.
 */
const SLOT_BYTES = 512 * 1024;
const SLOTS = 16;

/** What the worker needs to read the slots (its `workerData`). */
export interface SharedSlots {
  memory: SharedArrayBuffer;
  /** Per slot: 1 from when the main thread takes it until the worker has read it. */
  busy: Int32Array;
  slotBytes: number;
}

class TailWorker {
  private worker: Worker | undefined;
  /** Groups sent to `worker` and not yet answered; each worker has its own (see thread()). */
  private waiting = new Map<number, Waiting>();
  private seq = 0;
  private logs = 0;
  private slots: SharedSlots | undefined;
  private views: Buffer[] = [];
  private nextSlot = 0;

  /** A new log id (ids are never reused, so a reopened directory is a new log to the worker). */
  newLog(): number {
    return ++this.logs;
  }

  /** Starts (or restarts) a log in the worker from the state found on disk. */
  open(log: number, dir: string, state: TailState): void {
    this.thread().postMessage({ op: 'open', log, dir, state } satisfies TailRequest);
  }

  /** Starts handing a new group of `log` to the worker. */
  group(log: number): GroupWriter {
    this.thread();
    return new GroupWriter(this, log);
  }

  /** Forgets a log in the worker. */
  close(log: number): void {
    this.worker?.postMessage({ op: 'close', log } satisfies TailRequest);
  }

  /** A free slot and its bytes, or a buffer of its own (slot -1) when every slot is taken. */
  take(bytes: number): { slot: number; buf: Buffer } {
    const busy = this.slots!.busy;
    if (bytes <= SLOT_BYTES) {
      for (let i = 0; i < SLOTS; i++) {
        const slot = (this.nextSlot + i) % SLOTS;
        if (Atomics.load(busy, slot) === 0) {
          Atomics.store(busy, slot, 1);
          this.nextSlot = slot + 1;
          return { slot, buf: this.views[slot]! };
        }
      }
    }
    return { slot: -1, buf: Buffer.allocUnsafeSlow(Math.max(bytes, SLOT_BYTES)) };
  }

  /** Gives back a slot that was taken and not sent. */
  release(slot: number): void {
    if (slot >= 0) Atomics.store(this.slots!.busy, slot, 0);
  }

  /** Sends a part; with `last`, ends the group and resolves once it is durable. */
  send(log: number, slot: number, buf: Buffer, length: number, count: number, last: true): Promise<TreeMark>;
  send(log: number, slot: number, buf: Buffer, length: number, count: number, last: false): undefined;
  send(
    log: number,
    slot: number,
    buf: Buffer,
    length: number,
    count: number,
    last: boolean,
  ): Promise<TreeMark> | undefined {
    const seq = last ? ++this.seq : 0;
    // A buffer of its own (no slot was free) is transferred, not copied.
    const m: TailRequest =
      slot >= 0
        ? { op: 'append', log, seq, slot, length, count }
        : { op: 'append', log, seq, slot, length, count, payload: buf };
    const transfer = slot >= 0 ? [] : [buf.buffer as ArrayBuffer];
    if (!last) {
      this.thread().postMessage(m, transfer);
      return undefined;
    }
    // The worker first, then its own waiting map: thread() may start a new worker with a new map.
    const worker = this.thread();
    const waiting = this.waiting;
    return new Promise<TreeMark>((resolve, reject) => {
      waiting.set(seq, { resolve, reject });
      if (waiting.size === 1) worker.ref();
      worker.postMessage(m, transfer);
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    if (!this.slots) {
      const memory = new SharedArrayBuffer(SLOTS * SLOT_BYTES);
      this.slots = { memory, busy: new Int32Array(new SharedArrayBuffer(4 * SLOTS)), slotBytes: SLOT_BYTES };
      this.views = Array.from({ length: SLOTS }, (_, i) => Buffer.from(memory, i * SLOT_BYTES, SLOT_BYTES));
    }
    // Parts sent to a worker that is gone will never be read: every slot is free again.
    this.slots.busy.fill(0);
    const worker = new Worker(new URL('./tail-worker.ts', import.meta.url), { workerData: this.slots });
    const waiting = new Map<number, Waiting>();
    worker.unref();
    worker.on('message', (r: TailReply) => {
      const w = waiting.get(r.seq);
      if (!w) return;
      waiting.delete(r.seq);
      if (waiting.size === 0) worker.unref();
      if ('error' in r) w.reject(new LedgerWriteError(r.error.message, r.error.code));
      else w.resolve({ size: r.size, edge: r.edge });
    });
    // A worker that fails is answered for only once it has exited: until then, file operations it
    // started may still land, and the logs must not re-derive their state from the files (and
    // hand new groups to a new worker) before they have. Only this worker's groups fail; groups
    // sent to a later worker are that worker's to answer.
    let failure: Error | undefined;
    worker.on('error', (err) => {
      failure ??= err;
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      const err = new LedgerWriteError(
        failure ? `the ledger worker failed: ${failure.message}` : `the ledger worker exited (code ${code})`,
      );
      for (const w of waiting.values()) w.reject(err);
      waiting.clear();
    });
    this.waiting = waiting;
    this.worker = worker;
    return worker;
  }
}

/** Events per part at most: the worker starts on a part while the main thread writes the next. */
const PART_EVENTS = 256;

/**
 * One group on its way to the worker: the canonical members of each new entry, written as
 * UTF-8 into a slot as `before \n after \n` (canonical JSON holds no raw newline), sent part by
 * part so the worker hashes one part while the main thread canonicalises the next. The group
 * is written to disk once, after its last part (`commit`).
 */
export class GroupWriter {
  private readonly pool: TailWorker;
  private readonly log: number;
  private slot = -1;
  private buf: Buffer | undefined;
  private used = 0;
  private count = 0;
  /** Entries in the group so far (all parts). */
  entries = 0;

  constructor(pool: TailWorker, log: number) {
    this.pool = pool;
    this.log = log;
  }

  /** Adds an entry's canonical members before and after `integrity`. */
  add(before: string, after: string): void {
    // UTF-8 takes at most three bytes per UTF-16 code unit.
    const room = 3 * (before.length + after.length) + 2;
    if (!this.buf || this.used + room > this.buf.length || this.count === PART_EVENTS) {
      if (this.buf) this.sendPart();
      ({ slot: this.slot, buf: this.buf } = this.pool.take(room));
    }
    const buf = this.buf!;
    let at = this.used;
    at += buf.write(before, at, 'utf8');
    buf[at++] = 0x0a;
    at += buf.write(after, at, 'utf8');
    buf[at++] = 0x0a;
    this.used = at;
    this.count++;
    this.entries++;
  }

  /** Ends the group: resolves with the tree once every part is written and fsynced. */
  commit(): Promise<TreeMark> {
    const buf = this.buf ?? Buffer.alloc(0);
    const done = this.pool.send(this.log, this.slot, buf, this.used, this.count, true);
    this.buf = undefined;
    return done;
  }

  /** Gives up a group that could not be built (the log is then reopened in the worker). */
  abandon(): void {
    if (this.buf) this.pool.release(this.slot);
    this.buf = undefined;
  }

  private sendPart(): void {
    this.pool.send(this.log, this.slot, this.buf!, this.used, this.count, false);
    this.buf = undefined;
    this.used = 0;
    this.count = 0;
  }
}

/** The process's ledger worker. */
export const tailWorker = new TailWorker();
