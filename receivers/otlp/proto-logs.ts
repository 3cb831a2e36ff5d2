import type { LogRecord, Origin } from './model.ts';
import { newAttributes } from './model.ts';
import { type FieldTable, readAnyValue, readAttribute, skipField } from './proto-common.ts';
import { decodeExport, exportShape } from './proto-export.ts';
import { WIRE, type WireReader } from './wire.ts';

/**
 * Protobuf decoding of ExportLogsServiceRequest (collector/logs/v1, logs/v1) into flat log
 * records that each point at their resource and scope. This is the hot path of the receiver:
 * one pass over the buffer, tags compared as whole numbers, no intermediate messages.
 */

const LEN = WIRE.len;
const LOG_RECORD_FIELDS: FieldTable = {
  1: ['time_unix_nano', WIRE.i64],
  2: ['severity_number', WIRE.varint],
  3: ['severity_text', LEN],
  5: ['body', LEN],
  6: ['attributes', LEN],
  7: ['dropped_attributes_count', WIRE.varint],
  8: ['flags', WIRE.i32],
  9: ['trace_id', LEN],
  10: ['span_id', LEN],
  11: ['observed_time_unix_nano', WIRE.i64],
  12: ['event_name', LEN],
};

/** Decodes an ExportLogsServiceRequest; throws `invalid_request` when it is malformed. */
export function decodeLogsProto(body: Buffer): LogRecord[] {
  return decodeExport(body, LOGS);
}

const LOGS = exportShape<LogRecord>(
  { message: 'Logs', field: 'logs', items: 'log_records' },
  (r, end, origin, out) => {
    out.push(readLogRecord(r, end, origin));
  },
);

function readLogRecord(r: WireReader, end: number, origin: Origin): LogRecord {
  r.budget.record();
  const rec: LogRecord = {
    origin,
    timeMs: 0,
    observedTimeMs: 0,
    severityNumber: 0,
    severityText: '',
    body: undefined,
    attributes: newAttributes(),
    flags: 0,
    traceId: '',
    spanId: '',
    eventName: '',
  };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case (1 << 3) | WIRE.i64:
        rec.timeMs = r.timeMs();
        break;
      case (2 << 3) | WIRE.varint:
        rec.severityNumber = r.int32();
        break;
      case (3 << 3) | LEN:
        rec.severityText = r.string('LogRecord.severity_text');
        break;
      case (5 << 3) | LEN:
        rec.body = readAnyValue(r, r.end(), 0);
        break;
      case (6 << 3) | LEN:
        readAttribute(r, rec.attributes);
        break;
      case (8 << 3) | WIRE.i32:
        rec.flags = r.fixed32();
        break;
      case (9 << 3) | LEN:
        rec.traceId = r.id('LogRecord.trace_id', 16);
        break;
      case (10 << 3) | LEN:
        rec.spanId = r.id('LogRecord.span_id', 8);
        break;
      case (11 << 3) | WIRE.i64:
        rec.observedTimeMs = r.timeMs();
        break;
      case (12 << 3) | LEN:
        rec.eventName = r.string('LogRecord.event_name');
        break;
      default:
        skipField(r, tag, LOG_RECORD_FIELDS, 'LogRecord');
    }
  }
  r.close(end);
  return rec;
}
