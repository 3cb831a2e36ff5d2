import { createHash } from 'node:crypto';
import type { ErrorCode } from '../../pipeline/errors.ts';
import { type Event, parseEvent } from '../../pipeline/event.ts';

/**
 * Turns the value of one Kafka record into events. A record may hold one envelope or a JSON
 * array of them; each element is validated on its own, so one bad element dead-letters that
 * element only. Events without an `event_id` get one derived from topic, partition, offset and
 * element index: a redelivered record yields the same ids, and sinks deduplicate on them.
 */

/** Something of a record that cannot be accepted: the whole record, or one array element. */
export interface Refusal {
  /** Element of a JSON array, or log record of an OTLP request; undefined for the whole record. */
  index: number | undefined;
  code: ErrorCode;
  message: string;
  /** What to dead-letter: the element's JSON; undefined means the record's own value. */
  value: Buffer | undefined;
}

/** How the elements of a record are laid out. */
export type RecordLayout = 'single' | 'json_array' | 'otlp';

/** What one record yields. */
export interface DecodedRecord {
  events: Event[];
  /** Index of each event's element in the record (0 for a single envelope), to dead-letter it later if refused. */
  indexes: number[];
  /**
   * single: one envelope; json_array: a JSON array (a refused element is dead-lettered alone);
   * otlp: log records of an export request (dead-lettered as the whole request, index in a header).
   */
  layout: RecordLayout;
  refusals: Refusal[];
}

/** Where a record came from: seeds the derived event ids. */
export interface RecordPosition {
  topic: string;
  partition: number;
  offset: string;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A UUID v8 (RFC 9562 §5.8) from SHA-256 of the record position: stable across redeliveries. */
export function recordEventId(pos: RecordPosition, index: number): string {
  const b = createHash('sha256')
    .update(`kafka\0${pos.topic}\0${pos.partition}\0${pos.offset}\0${index}`)
    .digest();
  b[6] = 0x80 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[b[i]!];
  }
  return s;
}

/** A record refused as a whole. */
export function refuseWhole(code: ErrorCode, message: string): DecodedRecord {
  return {
    events: [],
    indexes: [],
    layout: 'single',
    refusals: [{ index: undefined, code, message, value: undefined }],
  };
}

/** The record's own `recorded_at`, when it is a valid time. */
function recordedAt(item: unknown, now: Date): Date {
  const v =
    item !== null && typeof item === 'object' ? (item as Record<string, unknown>).recorded_at : undefined;
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isNaN(t) ? now : new Date(t);
}

/**
 * Decodes a record of the `json` encoding. With `keepRecordedAt` (records written by a
 * ledgerline gateway, which is the receiver that recorded them) a valid `recorded_at` is kept;
 * otherwise it is set to `now`, this receiver's clock.
 */
export function decodeJsonRecord(
  value: Buffer | null,
  pos: RecordPosition,
  now: Date,
  maxEvents: number,
  keepRecordedAt = false,
): DecodedRecord {
  if (value === null || value.length === 0) return refuseWhole('invalid_request', 'the record has no value');
  let body: unknown;
  try {
    body = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return refuseWhole('invalid_request', `the record is not valid JSON: ${(err as Error).message}`);
  }
  const isArray = Array.isArray(body);
  const items: unknown[] = isArray ? (body as unknown[]) : [body];
  if (items.length === 0) return refuseWhole('invalid_request', 'the array holds no events');
  if (items.length > maxEvents) {
    return refuseWhole(
      'payload_too_large',
      `${items.length} events in one record; the limit is ${maxEvents}`,
    );
  }
  const out: DecodedRecord = {
    events: [],
    indexes: [],
    layout: isArray ? 'json_array' : 'single',
    refusals: [],
  };
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const derived =
      item !== null && typeof item === 'object' && !Array.isArray(item) && !('event_id' in item);
    if (derived) (item as Record<string, unknown>).event_id = recordEventId(pos, i);
    const r = parseEvent(item, keepRecordedAt ? recordedAt(item, now) : now);
    if (r.ok) {
      out.events.push(r.event);
      out.indexes.push(i);
      continue;
    }
    // The dead-letter record holds the element as the producer wrote it.
    if (derived) delete (item as Record<string, unknown>).event_id;
    const message = r.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
    out.refusals.push(
      isArray
        ? { index: i, code: 'invalid_event', message, value: Buffer.from(JSON.stringify(item)) }
        : { index: undefined, code: 'invalid_event', message, value: undefined },
    );
  }
  return out;
}
