import type { ConsumedMessage, ProducedMessage } from './client.ts';
import type { Refusal } from './decode.ts';

/**
 * Dead-letter records: what could not be accepted, with headers saying where it came from and
 * why, in the manner of Kafka Connect's `errors.deadletterqueue.context.headers`.
 */

/** Header names of a dead-letter record. */
export const DLQ_HEADERS = {
  topic: 'ledgerline.dlq.topic',
  partition: 'ledgerline.dlq.partition',
  offset: 'ledgerline.dlq.offset',
  index: 'ledgerline.dlq.index',
  code: 'ledgerline.dlq.error.code',
  message: 'ledgerline.dlq.error.message',
  receiver: 'ledgerline.dlq.receiver',
} as const;

// Error messages name fields, never values; the cap keeps a pathological one from bloating the record.
const MAX_MESSAGE = 4096;

/** Where a refused record was read. */
export interface SourceRecord {
  topic: string;
  partition: number;
  message: ConsumedMessage;
}

/**
 * The dead-letter record of a refusal. The original headers are kept except `dropHeader`
 * (the bearer token: a dead-letter topic is no place for credentials).
 */
export function deadLetterRecord(
  receiver: string,
  source: SourceRecord,
  refusal: Refusal,
  dropHeader: string | undefined,
): ProducedMessage {
  const headers: Record<string, string | Buffer> = {};
  for (const [name, value] of Object.entries(source.message.headers)) {
    if (value !== undefined && name !== dropHeader && !name.startsWith('ledgerline.dlq.'))
      headers[name] = value;
  }
  headers[DLQ_HEADERS.topic] = source.topic;
  headers[DLQ_HEADERS.partition] = String(source.partition);
  headers[DLQ_HEADERS.offset] = source.message.offset;
  if (refusal.index !== undefined) headers[DLQ_HEADERS.index] = String(refusal.index);
  headers[DLQ_HEADERS.code] = refusal.code;
  headers[DLQ_HEADERS.message] = refusal.message.slice(0, MAX_MESSAGE);
  headers[DLQ_HEADERS.receiver] = receiver;
  return {
    key: source.message.key,
    value: refusal.value ?? source.message.value ?? Buffer.alloc(0),
    headers,
  };
}
