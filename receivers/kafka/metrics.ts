import { Counter, Gauge, type Registry } from 'prom-client';

/** The kafka receiver's own series, beside the shared receiver counters of pipeline/telemetry.ts. */
export interface KafkaReceiverMetrics {
  deadLettered: Counter<'receiver' | 'code'>;
  retries: Counter<'receiver'>;
  commitLag: Gauge<'receiver'>;
  pausedPartitions: Gauge<'receiver'>;
}

// Several kafka receivers share one registry: each series is registered once.
function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
): Counter<L> {
  return (
    (registry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames, registers: [registry] })
  );
}

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Gauge<L> {
  return (
    (registry.getSingleMetric(name) as Gauge<L> | undefined) ??
    new Gauge({ name, help, labelNames, registers: [registry] })
  );
}

/** Registers (or finds) the series on a registry. */
export function kafkaReceiverMetrics(registry: Registry): KafkaReceiverMetrics {
  return {
    deadLettered: counter(
      registry,
      'ledgerline_kafka_receiver_dead_lettered_total',
      'Records (or array elements) written to a dead-letter topic, by error code.',
      ['receiver', 'code'],
    ),
    retries: counter(
      registry,
      'ledgerline_kafka_receiver_retries_total',
      'Batches retried because the pipelines answered retryable.',
      ['receiver'],
    ),
    commitLag: gauge(
      registry,
      'ledgerline_kafka_receiver_commit_lag_records',
      'Records fetched whose offsets are not committed yet (in the pipelines or waiting for an older batch).',
      ['receiver'],
    ),
    pausedPartitions: gauge(
      registry,
      'ledgerline_kafka_receiver_paused_partitions',
      'Partitions paused for backpressure (too many batches in flight, or retrying).',
      ['receiver'],
    ),
  };
}
