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

/** Directories whose entries a batch of writes changed; fsync them before acknowledging. */
export class DirtyDirs {
  readonly dirs = new Set<string>();
  private readonly existing: Set<string> | undefined;

  /**
   * `existing`: directories a caller knows exist (kept across its batches of writes), so that
   * their mkdir, one thread-pool round trip per file written, is skipped. The caller clears it
   * whenever it may be wrong (after a failed write, or when it removes a directory).
   */
  constructor(existing?: Set<string>) {
    this.existing = existing;
  }

  /** Creates `dir` (and parents) and remembers each new directory's parent as dirty. */
  async ensure(dir: string): Promise<void> {
    if (this.existing?.has(dir)) return;
    const first = await mkdir(dir, { recursive: true });
    this.existing?.add(dir);
    if (first === undefined) return;
    for (let d = dir; ; d = dirname(d)) {
      this.dirs.add(dirname(d));
      if (d === first || d === dirname(d)) break;
    }
  }

  /** fsyncs every remembered directory, in parallel. */
  async sync(): Promise<void> {
    await Promise.all([...this.dirs].map(syncDir));
    this.dirs.clear();
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
