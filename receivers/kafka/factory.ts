import type { ReceiverFactory } from '../../pipeline/component.ts';
import { type KafkaReceiverConfig, kafkaReceiverConfigSchema } from './config.ts';
import { decodeJsonRecord } from './decode.ts';
import { decodeOtlpRecord } from './decode-otlp.ts';
import type { RecordDecoder } from './ingest-batch.ts';
import { createKafkajsClient } from './kafkajs-client.ts';
import { KafkaReceiver } from './receiver.ts';

/** The decoder of the configured encoding. */
export function recordDecoder(config: KafkaReceiverConfig): RecordDecoder {
  const max = config.max_events_per_message;
  switch (config.encoding) {
    case 'json':
      return (value, pos, now) => decodeJsonRecord(value, pos, now, max, config.auth.mode === 'gateway');
    case 'otlp_proto':
      return (value, pos, now, auth) => decodeOtlpRecord('proto', value, pos, now, auth, max);
    case 'otlp_json':
      return (value, pos, now, auth) => decodeOtlpRecord('json', value, pos, now, auth, max);
  }
}

/** The `kafka` receiver: consumer-group input with manual commits and a dead-letter topic. */
export const kafkaReceiverFactory: ReceiverFactory<KafkaReceiverConfig> = {
  type: 'kafka',
  kind: 'receiver',
  description:
    'Consumes envelopes (JSON) or OTLP logs from Kafka topics in a consumer group; commits only what every exporter accepted; refused records go to a dead-letter topic.',
  configSchema: kafkaReceiverConfigSchema,
  create: (settings, config, next) =>
    new KafkaReceiver(
      settings,
      config,
      next,
      createKafkajsClient(config, settings.logger),
      recordDecoder(config),
    ),
};
