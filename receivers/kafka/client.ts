/**
 * The small Kafka client surface ledgerline uses, so the library behind it (kafkajs today,
 * see kafkajs-client.ts) can be swapped without touching the receiver or exporter logic.
 * Offsets are decimal strings, as Kafka's are 64-bit.
 */

/** A topic and partition. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** One record as consumed. */
export interface ConsumedMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Header values as sent; a repeated header keeps its last value. */
  headers: Record<string, Buffer | undefined>;
}

/** Records fetched from one partition, in offset order. */
export interface FetchedBatch extends TopicPartition {
  messages: ConsumedMessage[];
  /** Offset of the last record the fetch covered (may be past the last message: control records). */
  lastOffset: string;
}

/** A record to produce. */
export interface ProducedMessage {
  key: string | Buffer | null;
  value: Buffer | string;
  headers?: Record<string, string | Buffer>;
}

/** What the consumer tells its owner. */
export interface ConsumerHandlers {
  /**
   * Called once per fetched partition batch. When it resolves the client moves its fetch
   * position past the batch; nothing is committed (commits are explicit).
   */
  onBatch(batch: FetchedBatch): Promise<void>;
  /** The full assignment after every (re)join of the group. */
  onAssignment(assigned: TopicPartition[]): void;
  /** A failure the client recovers from by itself (it reconnects or restarts). */
  onError(err: Error): void;
}

/** Consumer settings the receiver chooses. */
export interface ConsumerOptions {
  groupId: string;
  /** Exact topic names. */
  topics: string[];
  /** Patterns matched against the cluster's topics at start. */
  patterns: RegExp[];
  /** Topics never subscribed to even when a pattern matches (the dead-letter topics). */
  exclude: (topic: string) => boolean;
  fromBeginning: boolean;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxBytesPerPartition: number;
}

/** A group consumer with manual commits and per-partition pause. */
export interface KafkaConsumer {
  start(handlers: ConsumerHandlers): Promise<void>;
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  /** Commits offsets (the next offset to read) for the group; rejects when the broker refused. */
  commit(offsets: (TopicPartition & { offset: string })[]): Promise<void>;
  /** Leaves the group and disconnects. Idempotent. */
  stop(): Promise<void>;
}

/** Producer settings. */
export interface ProducerOptions {
  /** Compression of record batches. */
  compression: 'gzip' | 'none';
  /** Time the broker may take to acknowledge a send. */
  timeoutMs: number;
}

/** A producer whose send resolves when every in-sync replica acknowledged (acks=all). */
export interface KafkaProducer {
  connect(): Promise<void>;
  send(topic: string, messages: ProducedMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** A topic to create. */
export interface NewTopic {
  topic: string;
  partitions: number;
}

/** Creates consumers and producers for one cluster. */
export interface KafkaClient {
  consumer(options: ConsumerOptions): KafkaConsumer;
  producer(options: ProducerOptions): KafkaProducer;
  /** Creates topics that do not exist yet (tests, benchmarks, first runs). */
  createTopics(topics: NewTopic[]): Promise<void>;
}

/** True for client errors a later attempt may not hit (connection loss, leader moves, timeouts). */
export function isTransientKafkaError(err: unknown): boolean {
  if (!(err instanceof Error)) return true;
  const e = err as Error & { retriable?: boolean };
  // Client libraries mark protocol errors retriable or not; anything unmarked (sockets) is transient.
  return e.retriable !== false;
}
