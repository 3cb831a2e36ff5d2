import type { FileHandle } from 'node:fs/promises';

/**
 * Appends buffers to a file with group commit: writes that arrive while one write+fsync is in
 * flight are joined into the next one, so many batches share one fsync and writes never
 * interleave.
 */
export class GroupWriter {
  private readonly fh: FileHandle;
  private readonly fsync: boolean;
  private pending: { buf: Buffer; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private writing = false;

  constructor(fh: FileHandle, fsync: boolean) {
    this.fh = fh;
    this.fsync = fsync;
  }

  /** Resolves when the buffer is written (and fsynced). */
  write(buf: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ buf, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      try {
        await this.fh.write(group.length === 1 ? group[0]!.buf : Buffer.concat(group.map((g) => g.buf)));
        if (this.fsync) await this.fh.datasync();
        for (const g of group) g.resolve();
      } catch (err) {
        for (const g of group) g.reject(err);
      }
    }
    this.writing = false;
  }
}
