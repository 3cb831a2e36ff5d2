import { toPipelineError } from '../../pipeline/errors.ts';
import type { AuthContext } from '../../pipeline/tenants.ts';
import { decodeLogsJson } from '../otlp/json-signals.ts';
import { mapLogs } from '../otlp/map-logs.ts';
import type { AnyValue, LogRecord } from '../otlp/model.ts';
import { decodeLogsProto } from '../otlp/proto-logs.ts';
import { type DecodedRecord, type RecordPosition, recordEventId, refuseWhole } from './decode.ts';

/**
 * Records of the `otlp_proto` and `otlp_json` encodings: one ExportLogsServiceRequest per
 * record, as the Collector's kafka exporter writes logs. Decoding and the mapping to envelopes
 * are the OTLP receiver's (receivers/otlp), so a log record means the same on both paths.
 */

/** True when the producer gave the event id itself (an envelope body carrying `event_id`). */
function bodyNamesEventId(body: AnyValue | undefined): boolean {
  if (typeof body === 'string') return body.charCodeAt(0) === 123 /* { */ && body.includes('"event_id"');
  return (
    body !== null &&
    typeof body === 'object' &&
    !Array.isArray(body) &&
    !(body instanceof Uint8Array) &&
    'event_id' in body
  );
}

/** Decodes an OTLP logs record (protobuf or JSON) into events, one per log record. */
export function decodeOtlpRecord(
  format: 'proto' | 'json',
  value: Buffer | null,
  pos: RecordPosition,
  now: Date,
  auth: AuthContext,
  maxEvents: number,
): DecodedRecord {
  if (value === null || value.length === 0) return refuseWhole('invalid_request', 'the record has no value');
  let records: LogRecord[];
  try {
    records = format === 'proto' ? decodeLogsProto(value) : decodeLogsJson(value);
  } catch (err) {
    const e = toPipelineError(err, 'invalid_request');
    return refuseWhole(e.code, e.message);
  }
  if (records.length === 0) return refuseWhole('invalid_request', 'the export request holds no log records');
  if (records.length > maxEvents) {
    return refuseWhole(
      'payload_too_large',
      `${records.length} log records in one record; the limit is ${maxEvents}`,
    );
  }
  const out: DecodedRecord = { events: [], indexes: [], layout: 'otlp', refusals: [] };
  const ctx = { auth, now };
  for (let i = 0; i < records.length; i++) {
    // One at a time, so each event is known to come from log record i.
    const mapped = mapLogs([records[i]!], ctx);
    const event = mapped.events[0];
    if (!event) {
      // The index header names the log record; the mapper's own label would always say 0.
      const message = (mapped.reasons[0] ?? 'not a valid event').replace(/^log record 0: /, '');
      out.refusals.push({ index: i, code: 'invalid_event', message, value: undefined });
      continue;
    }
    // A redelivered record must yield the same ids, or sinks could not deduplicate it.
    if (!bodyNamesEventId(records[i]!.body)) event.event_id = recordEventId(pos, i);
    out.events.push(event);
    out.indexes.push(i);
  }
  return out;
}
