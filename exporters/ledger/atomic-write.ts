import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Crash-safe file writes: write a temp file beside the target, fsync it, rename it over the
 * target, then fsync the directories whose entries changed. After a crash a path holds either
 * the old bytes or the new ones, never a torn mix; temp files are recognisable and swept.
 */

/** Marker in temp file names, so recovery can sweep what a crash left behind. */
export const TEMP_MARKER = '.tmp-';

/**
 * Directories a log has made or found, shared by its batches of writes: each directory's
 * `mkdir -p`, and whether it is known to be durable in its parent. Remembering them skips a
 * thread-pool round trip per file written; sharing the `mkdir` itself matters when two batches
 * run at once (tail-worker.ts): the batch that did not create a directory must still not be
 * acknowledged before the directory's creation is fsynced, so it learns that it was new.
 */
export type KnownDirs = Map<string, Promise<string | undefined>>;

const DURABLE: Promise<string | undefined> = Promise.resolve(undefined);

/** Directories whose entries a batch of writes changed; fsync them before acknowledging. */
export class DirtyDirs {
  readonly dirs = new Set<string>();
  private readonly known: KnownDirs | undefined;
  /** Directories this batch saw created: durable in their parents once `sync` is done. */
  private readonly created: string[] = [];

  /**
   * `known`: see KnownDirs. The caller clears it whenever it may be wrong (after a failed
   * write, or when it removes a directory).
   */
  constructor(known?: KnownDirs) {
    this.known = known;
  }

  /** Creates `dir` (and parents) and remembers each new directory's parent as dirty. */
  async ensure(dir: string): Promise<void> {
    let made = this.known?.get(dir);
    if (!made) {
      made = mkdir(dir, { recursive: true });
      if (this.known) {
        const known = this.known;
        known.set(dir, made);
        made.catch(() => known.get(dir) === made && known.delete(dir));
      }
    }
    const first = await made;
    if (first === undefined) return;
    this.created.push(dir);
    for (let d = dir; ; d = dirname(d)) {
      this.dirs.add(dirname(d));
      if (d === first || d === dirname(d)) break;
    }
  }

  /** fsyncs every remembered directory, in parallel. */
  async sync(): Promise<void> {
    await Promise.all([...this.dirs].map(syncDir));
    this.dirs.clear();
    // From now on these directories are durable: later batches need not fsync their parents.
    for (const dir of this.created) if (this.known?.has(dir)) this.known.set(dir, DURABLE);
    this.created.length = 0;
  }
}

/** fsyncs a directory so that renames and creations in it are durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `data` to `path` atomically and durably (except for the directory entry, which the
 * caller fsyncs through `dirty`). `mode` 0o444 seals files that must never change.
 */
export async function writeAtomic(
  path: string,
  data: Uint8Array | string,
  dirty: DirtyDirs,
  mode = 0o644,
): Promise<void> {
  const dir = dirname(path);
  await dirty.ensure(dir);
  const tmp = `${path}${TEMP_MARKER}${randomBytes(6).toString('hex')}`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
    await fh.chmod(mode);
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
  dirty.dirs.add(dir);
}
