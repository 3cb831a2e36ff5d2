import {
  CompressionTypes,
  type Consumer,
  type IHeaders,
  Kafka,
  type LogEntry,
  logLevel,
  Partitioners,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import type { Logger } from 'pino';
import type {
  ConsumerHandlers,
  ConsumerOptions,
  KafkaClient,
  KafkaConsumer,
  KafkaProducer,
  NewTopic,
  ProducedMessage,
  ProducerOptions,
  TopicPartition,
} from './client.ts';
import { type ConnectionConfig, tlsOptions } from './connection.ts';

/**
 * The client interface on kafkajs. kafkajs speaks the classic consumer-group protocol and the
 * record-batch (v2) format, which Kafka 4.x still serves (tested against 4.4); it is no longer
 * maintained, which is why it sits behind client.ts.
 */

// kafkajs' connection retries: a broker restart takes a few seconds; past these the consumer
// restarts itself and the receiver's own retry loops take over.
const RETRY = { initialRetryTime: 250, maxRetryTime: 5_000, retries: 10 };

function saslOptions(sasl: NonNullable<ConnectionConfig['sasl']>): SASLOptions {
  const { username, password } = sasl;
  if (sasl.mechanism === 'plain') return { mechanism: 'plain', username, password };
  if (sasl.mechanism === 'scram-sha-256') return { mechanism: 'scram-sha-256', username, password };
  return { mechanism: 'scram-sha-512', username, password };
}

function logCreator(logger: Logger) {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _t, ...rest } = log;
      const fields = { kafka: namespace, ...rest };
      if (level <= logLevel.WARN) logger.warn(fields, message);
      else if (level === logLevel.INFO) logger.debug(fields, message);
      else logger.trace(fields, message);
    };
}

function headerBuffers(headers: IHeaders | undefined): Record<string, Buffer | undefined> {
  const out: Record<string, Buffer | undefined> = Object.create(null);
  if (!headers) return out;
  for (const [name, raw] of Object.entries(headers)) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    // Header names are matched case-insensitively, as HTTP's are.
    out[name.toLowerCase()] =
      value === undefined ? undefined : Buffer.isBuffer(value) ? value : Buffer.from(value);
  }
  return out;
}

class KafkajsConsumer implements KafkaConsumer {
  private readonly kafka: Kafka;
  private readonly options: ConsumerOptions;
  private consumer: Consumer | undefined;
  private running = false;

  constructor(kafka: Kafka, options: ConsumerOptions) {
    this.kafka = kafka;
    this.options = options;
  }

  async start(handlers: ConsumerHandlers): Promise<void> {
    const o = this.options;
    const topics = new Set(o.topics);
    if (o.patterns.length > 0) {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        for (const t of await admin.listTopics()) {
          if (!t.startsWith('__') && o.patterns.some((p) => p.test(t))) topics.add(t);
        }
      } finally {
        await admin.disconnect();
      }
    }
    const names = [...topics].filter((t) => !o.exclude(t));
    if (names.length === 0) throw new Error('no topic matches the configured topics');

    const consumer = this.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      maxBytesPerPartition: o.maxBytesPerPartition,
      retry: { ...RETRY, restartOnFailure: async () => true },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const assigned: TopicPartition[] = [];
      for (const [topic, partitions] of Object.entries(e.payload.memberAssignment)) {
        for (const partition of partitions) assigned.push({ topic, partition });
      }
      handlers.onAssignment(assigned);
    });
    consumer.on(consumer.events.CRASH, (e) => handlers.onError(e.payload.error));
    await consumer.connect();
    await consumer.subscribe({ topics: names, fromBeginning: o.fromBeginning });
    this.running = true;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, isStale }) => {
        // A stale batch was fetched before a seek or rebalance; it will be fetched again.
        if (isStale() || batch.messages.length === 0) return;
        await handlers.onBatch({
          topic: batch.topic,
          partition: batch.partition,
          lastOffset: batch.lastOffset(),
          messages: batch.messages.map((m) => ({
            offset: m.offset,
            key: m.key,
            value: m.value,
            headers: headerBuffers(m.headers),
          })),
        });
        resolveOffset(batch.lastOffset());
      },
    });
  }

  pause(partitions: TopicPartition[]): void {
    this.consumer?.pause(partitions.map((p) => ({ topic: p.topic, partitions: [p.partition] })));
  }

  resume(partitions: TopicPartition[]): void {
    this.consumer?.resume(partitions.map((p) => ({ topic: p.topic, partitions: [p.partition] })));
  }

  async commit(offsets: (TopicPartition & { offset: string })[]): Promise<void> {
    if (!this.consumer || !this.running) throw new Error('the consumer is not running');
    await this.consumer.commitOffsets(offsets);
  }

  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.running = false;
    await consumer?.disconnect();
  }
}

class KafkajsProducer implements KafkaProducer {
  private readonly producer: Producer;
  private readonly options: ProducerOptions;

  constructor(kafka: Kafka, options: ProducerOptions) {
    this.options = options;
    this.producer = kafka.producer({
      // The Java client's partitioner (murmur2 of the key), so a tenant maps to the same
      // partition whichever client produced it.
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: true,
      retry: RETRY,
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async send(topic: string, messages: ProducedMessage[]): Promise<void> {
    await this.producer.send({
      topic,
      acks: -1,
      timeout: this.options.timeoutMs,
      compression: this.options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
      messages: messages.map((m) => ({
        key: m.key,
        value: m.value,
        ...(m.headers ? { headers: m.headers } : {}),
      })),
    });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

/** A client for one cluster on kafkajs. */
export function createKafkajsClient(connection: ConnectionConfig, logger: Logger): KafkaClient {
  const kafka = new Kafka({
    clientId: connection.client_id,
    brokers: connection.brokers,
    connectionTimeout: connection.connect_timeout_ms,
    ...(connection.tls ? { ssl: tlsOptions(connection.tls) } : {}),
    ...(connection.sasl ? { sasl: saslOptions(connection.sasl) } : {}),
    logLevel: logLevel.WARN,
    logCreator: logCreator(logger),
    retry: RETRY,
  });
  return {
    consumer: (options) => new KafkajsConsumer(kafka, options),
    producer: (options) => new KafkajsProducer(kafka, options),
    async createTopics(topics: NewTopic[]) {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t.topic));
        if (missing.length === 0) return;
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions })),
        });
      } finally {
        await admin.disconnect();
      }
    },
  };
}
