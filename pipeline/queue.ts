import type { Logger } from 'pino';
import { z } from 'zod';
import type { Consumer, EventBatch } from './component.ts';
import { PipelineError, toPipelineError } from './errors.ts';
import type { Telemetry } from './telemetry.ts';

/**
 * One bounded queue per exporter, with retry (DESIGN §6.2). Capacity is counted in events and
 * reserved before a batch enters any exporter's queue, so a full queue refuses the batch
 * everywhere (the caller retries) instead of delivering it to some exporters only.
 */

/** Queue and retry settings of an exporter (the `sending_queue` / `retry_on_failure` of the Collector). */
export const queueConfigSchema = z
  .strictObject({
    capacity: z
      .number()
      .int()
      .positive()
      .default(100_000)
      .describe('Events that may wait for this exporter before receivers answer 429. Default 100000.'),
    concurrency: z
      .number()
      .int()
      .positive()
      .default(4)
      .describe('Batches sent to the exporter at once. Default 4.'),
    timeout_ms: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe('One attempt taking longer than this counts as failed and is retried. Default 30000.'),
    retry: z
      .strictObject({
        initial_interval_ms: z.number().int().positive().default(100).describe('First backoff. Default 100.'),
        max_interval_ms: z
          .number()
          .int()
          .positive()
          .default(5_000)
          .describe('Largest backoff. Default 5000.'),
        multiplier: z.number().min(1).default(2).describe('Backoff growth per attempt. Default 2.'),
        max_elapsed_ms: z
          .number()
          .int()
          .nonnegative()
          .default(60_000)
          .describe(
            'Give up (answer retryable to the caller) after this long. 0: retry one attempt only. Default 60000.',
          ),
      })
      .default({ initial_interval_ms: 100, max_interval_ms: 5_000, multiplier: 2, max_elapsed_ms: 60_000 })
      .describe('Exponential backoff with full jitter for retryable failures.'),
  })
  .default({
    capacity: 100_000,
    concurrency: 4,
    timeout_ms: 30_000,
    retry: { initial_interval_ms: 100, max_interval_ms: 5_000, multiplier: 2, max_elapsed_ms: 60_000 },
  })
  .describe('Bounded queue and retry policy in front of this exporter.');

/** Queue settings. */
export type QueueConfig = z.output<typeof queueConfigSchema>;

interface Job {
  batch: EventBatch;
  resolve: () => void;
  reject: (err: PipelineError) => void;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** The bounded, retrying queue in front of one exporter. */
export class ExporterQueue {
  readonly id: string;
  private readonly exporter: Consumer;
  private readonly config: QueueConfig;
  private readonly telemetry: Telemetry;
  private readonly logger: Logger;
  private readonly waiting: Job[] = [];
  private active = 0;
  /** Events reserved or queued or in flight. */
  private used = 0;
  private readonly stopping = new AbortController();
  private idle: (() => void) | undefined;

  constructor(id: string, exporter: Consumer, config: QueueConfig, telemetry: Telemetry, logger: Logger) {
    this.id = id;
    this.exporter = exporter;
    this.config = config;
    this.telemetry = telemetry;
    this.logger = logger;
    telemetry.exporterQueueCapacity.set({ exporter: id }, config.capacity);
    telemetry.exporterQueueSize.set({ exporter: id }, 0);
  }

  /** Events currently held. */
  get size(): number {
    return this.used;
  }

  /** The capacity in events. */
  get capacity(): number {
    return this.config.capacity;
  }

  /** Takes room for n events, or returns false when it is not there. */
  reserve(n: number): boolean {
    if (this.stopping.signal.aborted) return false;
    // A batch larger than the whole queue still goes through when the queue is empty.
    if (this.used > 0 && this.used + n > this.config.capacity) return false;
    this.used += n;
    this.telemetry.exporterQueueSize.set({ exporter: this.id }, this.used);
    return true;
  }

  /** Gives back room taken with reserve and not used. */
  release(n: number): void {
    this.used -= n;
    this.telemetry.exporterQueueSize.set({ exporter: this.id }, this.used);
    if (this.used === 0) this.idle?.();
  }

  /** Sends a batch whose room was reserved; resolves when the exporter durably took it. */
  submit(batch: EventBatch): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ batch, resolve, reject });
      this.pump();
    });
  }

  /** Waits for everything queued to finish; at the signal, stops retrying and fails the rest. */
  async drain(signal?: AbortSignal): Promise<void> {
    if (this.used > 0 && !signal?.aborted) {
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<void>((resolve) => {
        onAbort = () => resolve();
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      await Promise.race([new Promise<void>((resolve) => (this.idle = resolve)), aborted]);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    this.stopping.abort();
    for (const job of this.waiting.splice(0)) {
      this.release(job.batch.events.length);
      job.reject(
        new PipelineError('shutting_down', `exporter ${this.id} stopped before the batch was written`),
      );
    }
  }

  private pump(): void {
    while (this.active < this.config.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      this.active++;
      void this.run(job).finally(() => {
        this.active--;
        this.release(job.batch.events.length);
        this.pump();
      });
    }
  }

  private async run(job: Job): Promise<void> {
    const { retry, timeout_ms } = this.config;
    const n = job.batch.events.length;
    const started = Date.now();
    let interval = retry.initial_interval_ms;
    for (let attempt = 1; ; attempt++) {
      try {
        if (this.stopping.signal.aborted && attempt > 1) {
          throw new PipelineError(
            'shutting_down',
            `exporter ${this.id} stopped before the batch was written`,
          );
        }
        await withTimeout(this.exporter.consume(job.batch), timeout_ms, this.id);
        this.telemetry.exporterSent.inc({ exporter: this.id }, n);
        job.resolve();
        return;
      } catch (err) {
        const e = toPipelineError(err, 'exporter_unavailable');
        const elapsed = Date.now() - started;
        const giveUp =
          !e.retryable || this.stopping.signal.aborted || elapsed + interval > retry.max_elapsed_ms;
        if (giveUp) {
          this.telemetry.exporterSendFailed.inc({ exporter: this.id, reason: e.code }, n);
          this.logger.warn(
            { exporter: this.id, code: e.code, attempts: attempt, err: e.message },
            'export failed',
          );
          job.reject(
            e.retryable
              ? new PipelineError('exporter_unavailable', `exporter ${this.id}: ${e.message}`, { cause: e })
              : new PipelineError('exporter_failed', `exporter ${this.id}: ${e.message}`, {
                  cause: e,
                  details: e.details,
                }),
          );
          return;
        }
        this.telemetry.exporterRetries.inc({ exporter: this.id });
        // Full jitter: a random wait up to the current interval spreads retries of many batches.
        await sleep(Math.random() * interval, this.stopping.signal);
        interval = Math.min(interval * retry.multiplier, retry.max_interval_ms);
      }
    }
  }
}

function withTimeout(p: Promise<void>, ms: number, id: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PipelineError('timeout', `exporter ${id} did not answer within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
