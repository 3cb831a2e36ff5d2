import type { LogRecord, Origin } from './model.ts';
import { newAttributes } from './model.ts';
import {
  emptyScope,
  type FieldTable,
  readAnyValue,
  readAttribute,
  readResource,
  readScope,
  skipField,
} from './proto-common.ts';
import { WIRE, WireReader } from './wire.ts';

/**
 * Protobuf decoding of ExportLogsServiceRequest (collector/logs/v1, logs/v1) into flat log
 * records that each point at their resource and scope. This is the hot path of the receiver:
 * one pass over the buffer, tags compared as whole numbers, no intermediate messages.
 */

const LEN = WIRE.len;
const REQUEST_FIELDS: FieldTable = { 1: ['resource_logs', LEN] };
const RESOURCE_LOGS_FIELDS: FieldTable = {
  1: ['resource', LEN],
  2: ['scope_logs', LEN],
  3: ['schema_url', LEN],
};
const SCOPE_LOGS_FIELDS: FieldTable = { 1: ['scope', LEN], 2: ['log_records', LEN], 3: ['schema_url', LEN] };
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
  const r = new WireReader(body);
  const out: LogRecord[] = [];
  const end = body.length;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | LEN)) readResourceLogs(r, r.end(), out);
    else skipField(r, tag, REQUEST_FIELDS, 'ExportLogsServiceRequest');
  }
  return out;
}

function readResourceLogs(r: WireReader, end: number, out: LogRecord[]): void {
  let resource = newAttributes();
  const origins: Origin[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case (1 << 3) | LEN:
        resource = readResource(r, r.end());
        for (const o of origins) o.resource = resource;
        break;
      case (2 << 3) | LEN: {
        r.budget.value();
        const origin: Origin = { resource, scope: emptyScope() };
        origins.push(origin);
        readScopeLogs(r, r.end(), origin, out);
        break;
      }
      default:
        skipField(r, tag, RESOURCE_LOGS_FIELDS, 'ResourceLogs');
    }
  }
  r.close(end);
}

function readScopeLogs(r: WireReader, end: number, origin: Origin, out: LogRecord[]): void {
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((2 << 3) | LEN)) out.push(readLogRecord(r, r.end(), origin));
    else if (tag === ((1 << 3) | LEN)) origin.scope = readScope(r, r.end());
    else skipField(r, tag, SCOPE_LOGS_FIELDS, 'ScopeLogs');
  }
  r.close(end);
}

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
