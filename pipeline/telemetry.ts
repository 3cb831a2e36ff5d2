import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * ledgerline's own metrics (DESIGN §9), named like the Collector's where they mean the same.
 * One registry per running instance, so tests can run several side by side; the prometheus
 * exporter serves it, and components add their own series to it.
 */
export interface Telemetry {
  registry: Registry;
  receiverAccepted: Counter<'receiver' | 'transport'>;
  receiverRefused: Counter<'receiver' | 'transport' | 'reason'>;
  processorDropped: Counter<'processor' | 'reason'>;
  exporterSent: Counter<'exporter'>;
  exporterSendFailed: Counter<'exporter' | 'reason'>;
  exporterQueueSize: Gauge<'exporter'>;
  exporterQueueCapacity: Gauge<'exporter'>;
  exporterRetries: Counter<'exporter'>;
  batchSize: Histogram<'component'>;
}

/** Creates the self-observability metrics on a fresh registry. */
export function createTelemetry(registry: Registry = new Registry()): Telemetry {
  const r = [registry];
  return {
    registry,
    receiverAccepted: new Counter({
      name: 'ledgerline_receiver_accepted_events_total',
      help: 'Events a receiver accepted and every exporter durably took.',
      labelNames: ['receiver', 'transport'],
      registers: r,
    }),
    receiverRefused: new Counter({
      name: 'ledgerline_receiver_refused_events_total',
      help: 'Events a receiver refused, by reason.',
      labelNames: ['receiver', 'transport', 'reason'],
      registers: r,
    }),
    processorDropped: new Counter({
      name: 'ledgerline_processor_dropped_events_total',
      help: 'Events a processor dropped or rejected, by reason (sampling drops included).',
      labelNames: ['processor', 'reason'],
      registers: r,
    }),
    exporterSent: new Counter({
      name: 'ledgerline_exporter_sent_events_total',
      help: 'Events an exporter durably wrote.',
      labelNames: ['exporter'],
      registers: r,
    }),
    exporterSendFailed: new Counter({
      name: 'ledgerline_exporter_send_failed_events_total',
      help: 'Events an exporter failed to write after its retries, by reason.',
      labelNames: ['exporter', 'reason'],
      registers: r,
    }),
    exporterQueueSize: new Gauge({
      name: 'ledgerline_exporter_queue_size',
      help: 'Events waiting in or being sent from an exporter queue.',
      labelNames: ['exporter'],
      registers: r,
    }),
    exporterQueueCapacity: new Gauge({
      name: 'ledgerline_exporter_queue_capacity',
      help: 'Capacity of an exporter queue, in events.',
      labelNames: ['exporter'],
      registers: r,
    }),
    exporterRetries: new Counter({
      name: 'ledgerline_exporter_retries_total',
      help: 'Retried export attempts.',
      labelNames: ['exporter'],
      registers: r,
    }),
    batchSize: new Histogram({
      name: 'ledgerline_batch_size_events',
      help: 'Events per batch entering a component.',
      labelNames: ['component'],
      buckets: [1, 10, 100, 1000, 8192, 65536],
      registers: r,
    }),
  };
}
