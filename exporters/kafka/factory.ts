import type { ExporterFactory } from '../../pipeline/component.ts';
import { createKafkajsClient } from '../../receivers/kafka/kafkajs-client.ts';
import { type KafkaExporterConfig, kafkaExporterConfigSchema } from './config.ts';
import { KafkaExporter } from './exporter.ts';

/** The `kafka` exporter: gateway mode, forwarding events to workers through a topic. */
export const kafkaExporterFactory: ExporterFactory<KafkaExporterConfig> = {
  type: 'kafka',
  kind: 'exporter',
  // Workers consuming the topic run the ledger, so an audit pipeline may end here (gateway mode).
  capabilities: { forwards: true },
  description:
    'Writes events to a Kafka topic keyed by tenant id (acks=all, gzip), as JSON envelopes or OTLP logs: the gateway half of a gateway → Kafka → worker deployment.',
  configSchema: kafkaExporterConfigSchema,
  create: (settings, config) =>
    new KafkaExporter(settings, config, createKafkajsClient(config, settings.logger)),
};
