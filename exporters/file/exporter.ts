import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ConsumerComponent, EventBatch, Settings } from '../../pipeline/component.ts';
import { PipelineError } from '../../pipeline/errors.ts';
import type { FileExporterConfig } from './config.ts';
import { GroupWriter } from './group-writer.ts';

/** Appends every event as one JSON line; a batch is acknowledged after its fsync. */
export class FileExporter implements ConsumerComponent {
  private readonly config: FileExporterConfig;
  private readonly settings: Settings;
  private fh: FileHandle | undefined;
  private writer: GroupWriter | undefined;

  constructor(settings: Settings, config: FileExporterConfig) {
    this.settings = settings;
    this.config = config;
  }

  async start(): Promise<void> {
    await mkdir(dirname(this.config.path), { recursive: true });
    this.fh = await open(this.config.path, 'a', 0o600);
    this.writer = new GroupWriter(this.fh, this.config.fsync);
    this.settings.logger.debug({ path: this.config.path }, 'file exporter ready');
  }

  async consume(batch: EventBatch): Promise<void> {
    if (!this.writer) throw new PipelineError('exporter_unavailable', 'file exporter is not started');
    let text = '';
    for (const e of batch.events) text += `${JSON.stringify(e)}\n`;
    try {
      await this.writer.write(Buffer.from(text));
    } catch (err) {
      // Disk full or I/O errors may clear; the queue retries with backoff.
      throw new PipelineError(
        'exporter_unavailable',
        `writing ${this.config.path}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  async shutdown(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    this.writer = undefined;
    await fh?.close();
  }
}
