import type { Component, Consumer, Settings } from '../../pipeline/component.ts';
import { type Authenticator, createAuthenticator } from './auth.ts';
import type { FetchedBatch, KafkaClient, KafkaConsumer, KafkaProducer, TopicPartition } from './client.ts';
import { deadLetterTopic, isDeadLetterTopic, type KafkaReceiverConfig } from './config.ts';
import { Abandoned, type IngestContext, ingestBatch, type RecordDecoder } from './ingest-batch.ts';
import { type KafkaReceiverMetrics, kafkaReceiverMetrics } from './metrics.ts';
import { PartitionOffsets } from './offsets.ts';

/**
 * The kafka receiver: a consumer-group member that commits, per partition, only offsets whose
 * records every exporter durably accepted or that were dead-lettered (DESIGN §6.1). Batches of
 * a partition are pipelined up to `max_in_flight_batches`; past it, or while the pipelines
 * answer retryable, the partition is paused rather than buffered.
 */

interface PartitionState {
  tp: TopicPartition;
  offsets: PartitionOffsets;
  /** Aborted when the partition is revoked or the receiver stops waiting: its work is abandoned. */
  abort: AbortController;
  retrying: number;
  paused: boolean;
}

const key = (topic: string, partition: number) => `${topic}\0${partition}`;

/** Consumes Kafka topics into the pipelines, at least once. */
export class KafkaReceiver implements Component {
  private readonly settings: Settings;
  private readonly config: KafkaReceiverConfig;
  private readonly next: Consumer;
  private readonly client: KafkaClient;
  private readonly decode: RecordDecoder;
  private readonly metrics: KafkaReceiverMetrics;
  private readonly partitions = new Map<string, PartitionState>();
  private consumer: KafkaConsumer | undefined;
  private producer: KafkaProducer | undefined;
  private ingest: IngestContext | undefined;
  private inFlight = 0;
  private idle: (() => void) | undefined;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private commitWanted = false;
  private committing: Promise<void> | undefined;

  constructor(
    settings: Settings,
    config: KafkaReceiverConfig,
    next: Consumer,
    client: KafkaClient,
    decode: RecordDecoder,
  ) {
    this.settings = settings;
    this.config = config;
    this.next = next;
    this.client = client;
    this.decode = decode;
    this.metrics = kafkaReceiverMetrics(settings.telemetry.registry);
  }

  async start(): Promise<void> {
    const c = this.config;
    const authenticate: Authenticator = createAuthenticator(c.auth, this.settings.tenants);
    this.producer = this.client.producer({ compression: 'gzip', timeoutMs: 30_000 });
    await this.producer.connect();
    this.ingest = {
      receiver: this.settings.id,
      next: this.next,
      authenticate,
      decode: this.decode,
      producer: this.producer,
      deadLetterTopic: (topic) => deadLetterTopic(c.dead_letter_topic, topic),
      secretHeader: c.auth.mode === 'bearer' ? c.auth.header.toLowerCase() : undefined,
      retry: c.retry,
      telemetry: this.settings.telemetry,
      metrics: this.metrics,
      logger: this.settings.logger,
    };
    this.consumer = this.client.consumer({
      groupId: c.group_id,
      topics: c.topics.filter((t) => !t.startsWith('^')),
      patterns: c.topics.filter((t) => t.startsWith('^')).map((t) => new RegExp(t)),
      exclude: (t) => isDeadLetterTopic(c.dead_letter_topic, t) && !c.topics.includes(t),
      fromBeginning: c.initial_offset === 'earliest',
      sessionTimeoutMs: c.session_timeout_ms,
      heartbeatIntervalMs: c.heartbeat_interval_ms,
      maxBytesPerPartition: c.max_bytes_per_partition,
    });
    await this.consumer.start({
      onBatch: (batch) => this.onBatch(batch),
      onAssignment: (assigned) => this.onAssignment(assigned),
      onError: (err) => this.settings.logger.warn({ err: err.message }, 'kafka consumer failed; it restarts'),
    });
    this.settings.logger.info({ brokers: c.brokers, topics: c.topics, group_id: c.group_id }, 'consuming');
  }

  private state(tp: TopicPartition): PartitionState {
    const k = key(tp.topic, tp.partition);
    let s = this.partitions.get(k);
    if (!s) {
      s = {
        tp: { topic: tp.topic, partition: tp.partition },
        offsets: new PartitionOffsets(),
        abort: new AbortController(),
        retrying: 0,
        paused: false,
      };
      this.partitions.set(k, s);
    }
    return s;
  }

  private async onBatch(batch: FetchedBatch): Promise<void> {
    // While stopping nothing new starts; uncommitted records are read again after a restart.
    if (this.stopping || !this.ingest) return;
    const s = this.state(batch);
    // A fetch of compressed records can hold tens of thousands: split it, so the pipelines get
    // batches of a bounded size and commits advance as each part is done.
    const max = this.config.max_batch_records;
    const { messages } = batch;
    for (let i = 0; i < messages.length; i += max) {
      const part = messages.slice(i, i + max);
      const lastOffset = i + max >= messages.length ? batch.lastOffset : part[part.length - 1]!.offset;
      this.startUnit(s, { topic: batch.topic, partition: batch.partition, messages: part, lastOffset });
    }
  }

  private startUnit(s: PartitionState, batch: FetchedBatch): void {
    const last = Number(batch.lastOffset);
    const unit = s.offsets.begin(Number(batch.messages[0]!.offset), last);
    this.inFlight++;
    this.updatePause(s);
    const control = {
      signal: s.abort.signal,
      retrying: (on: boolean) => {
        s.retrying += on ? 1 : -1;
        this.updatePause(s);
      },
    };
    void ingestBatch(this.ingest!, batch, control)
      .then(
        () => {
          s.offsets.complete(unit, last);
          this.scheduleCommit();
        },
        (err) => {
          if (!(err instanceof Abandoned)) {
            this.settings.logger.error(
              { err, topic: batch.topic, partition: batch.partition },
              'batch failed',
            );
          }
        },
      )
      .finally(() => {
        this.inFlight--;
        this.updatePause(s);
        this.updateLag();
        if (this.inFlight === 0) this.idle?.();
      });
  }

  private onAssignment(assigned: TopicPartition[]): void {
    const keep = new Set(assigned.map((tp) => key(tp.topic, tp.partition)));
    for (const [k, s] of this.partitions) {
      if (keep.has(k)) {
        // The client may have been rebuilt by the rejoin; state it again.
        if (s.paused) this.consumer?.pause([s.tp]);
        continue;
      }
      // Revoked: its in-flight work may still reach the sinks, but nothing of it is committed
      // here; the new owner reads from the last commit (sinks deduplicate on event_id).
      s.abort.abort();
      this.partitions.delete(k);
      this.consumer?.resume([s.tp]);
    }
    this.updateLag();
    this.settings.logger.info({ partitions: assigned.length }, 'kafka partitions assigned');
  }

  private updatePause(s: PartitionState): void {
    const pause = this.stopping || s.retrying > 0 || s.offsets.pending >= this.config.max_in_flight_batches;
    if (pause === s.paused || s.abort.signal.aborted) return;
    s.paused = pause;
    if (pause) this.consumer?.pause([s.tp]);
    else this.consumer?.resume([s.tp]);
    this.settings.logger.debug(
      { ...s.tp, in_flight: s.offsets.pending, retrying: s.retrying },
      pause ? 'partition paused' : 'partition resumed',
    );
    let paused = 0;
    for (const p of this.partitions.values()) if (p.paused) paused++;
    this.metrics.pausedPartitions.set({ receiver: this.settings.id }, paused);
  }

  private updateLag(): void {
    let lag = 0;
    for (const s of this.partitions.values()) lag += s.offsets.lag;
    this.metrics.commitLag.set({ receiver: this.settings.id }, lag);
  }

  /** Commits whatever became committable; one commit request at a time, coalescing the rest. */
  private scheduleCommit(): void {
    this.commitWanted = true;
    if (this.committing) return;
    this.committing = this.commitLoop().finally(() => {
      this.committing = undefined;
      // A completion may have asked between the loop's last check and here.
      if (this.commitWanted && !this.stopping) this.scheduleCommit();
    });
  }

  private async commitLoop(): Promise<void> {
    while (this.commitWanted && this.consumer) {
      this.commitWanted = false;
      const due: { s: PartitionState; offset: number }[] = [];
      for (const s of this.partitions.values()) {
        const offset = s.offsets.committable();
        if (offset !== undefined) due.push({ s, offset });
      }
      if (due.length === 0) continue;
      try {
        await this.consumer.commit(due.map(({ s, offset }) => ({ ...s.tp, offset: String(offset) })));
        for (const { s, offset } of due) s.offsets.committed(offset);
        this.settings.logger.debug(
          { offsets: due.map(({ s, offset }) => `${s.tp.topic}/${s.tp.partition}@${offset}`) },
          'committed',
        );
        this.updateLag();
      } catch (err) {
        // Typically a rebalance in progress; the next completion (or the final commit) retries.
        this.settings.logger.debug({ err: (err as Error).message }, 'offset commit failed');
        if (this.stopping) return;
        this.commitWanted = true;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  shutdown(signal?: AbortSignal): Promise<void> {
    this.stopped ??= this.stop(signal);
    return this.stopped;
  }

  private async stop(signal?: AbortSignal): Promise<void> {
    this.stopping = true;
    for (const s of this.partitions.values()) this.updatePause(s);
    if (this.inFlight > 0 && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        this.idle = resolve;
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    // Past the deadline, retries are given up; their records stay uncommitted and are read again.
    for (const s of this.partitions.values()) s.abort.abort();
    const consumer = this.consumer;
    const producer = this.producer;
    const finish = async () => {
      await this.committing;
      this.commitWanted = true;
      await this.commitLoop();
      await consumer?.stop();
    };
    // With the brokers gone, the client's own retries could outlast the deadline: stop waiting then.
    await untilAborted(finish(), signal).catch((err) => {
      this.settings.logger.warn({ err: (err as Error).message }, 'leaving the consumer group failed');
    });
    this.consumer = undefined;
    this.producer = undefined;
    await untilAborted(producer?.disconnect() ?? Promise.resolve(), signal).catch(() => {});
  }
}

/** Resolves with the promise, or when the signal aborts, whichever is first. */
function untilAborted(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.resolve();
  }
  return new Promise<void>((resolve, reject) => {
    signal.addEventListener('abort', () => resolve(), { once: true });
    p.then(resolve, reject);
  });
}
