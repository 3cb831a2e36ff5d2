import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * One writer per ledger directory: a second writer would fork the hash chains. The lock is a
 * file holding the writer's pid; a lock left by a process that no longer exists (kill -9, a
 * crash) is taken over, so a restart after a crash needs no manual step.
 */

const held = new Set<string>();

/** Takes the writer lock of `dir`; throws when another live writer holds it. Returns the release. */
export function lockLedger(dir: string): () => void {
  const path = join(resolve(dir), 'writer.lock');
  if (held.has(path)) throw new Error(`${dir} is already written by another ledger exporter of this process`);
  mkdirSync(dir, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      held.add(path);
      return () => {
        held.delete(path);
        rmSync(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new Error(`${dir} is being written by process ${pid}; a ledger has one writer (see ${path})`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not take the writer lock ${path}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
