import { z } from 'zod';
import { connectionFields } from '../../receivers/kafka/connection.ts';

/** Settings of the kafka exporter. */
export const kafkaExporterConfigSchema = z.strictObject({
  ...connectionFields,
  topic: z
    .string()
    .min(1)
    .default('ledgerline.events')
    .describe('Topic the events are written to. Default ledgerline.events.'),
  encoding: z
    .enum(['json', 'otlp_proto'])
    .default('json')
    .describe(
      'Record format. json: one envelope per record; otlp_proto: one ExportLogsServiceRequest per record whose log body is the envelope (JSON), readable by any OTLP consumer. Default json.',
    ),
  compression: z
    .enum(['gzip', 'none'])
    .default('gzip')
    .describe('Compression of record batches. Default gzip.'),
  timeout_ms: z
    .number()
    .int()
    .positive()
    .default(30_000)
    .describe('Time the brokers may take to acknowledge a batch (acks=all). Default 30000.'),
});

/** kafka exporter settings. */
export type KafkaExporterConfig = z.output<typeof kafkaExporterConfigSchema>;
