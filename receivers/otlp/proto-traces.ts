import type { Origin, Span } from './model.ts';
import { newAttributes } from './model.ts';
import { type FieldTable, readAttribute, skipField } from './proto-common.ts';
import { decodeExport, exportShape } from './proto-export.ts';
import { WIRE, type WireReader } from './wire.ts';

/**
 * Protobuf decoding of ExportTraceServiceRequest (collector/trace/v1, trace/v1) into flat
 * spans with their status. Span events and links are counted, not kept: the envelope has no
 * place for them.
 */

const LEN = WIRE.len;
const I64 = WIRE.i64;
const VARINT = WIRE.varint;
const SPAN_FIELDS: FieldTable = {
  1: ['trace_id', LEN],
  2: ['span_id', LEN],
  3: ['trace_state', LEN],
  4: ['parent_span_id', LEN],
  5: ['name', LEN],
  6: ['kind', VARINT],
  7: ['start_time_unix_nano', I64],
  8: ['end_time_unix_nano', I64],
  9: ['attributes', LEN],
  10: ['dropped_attributes_count', VARINT],
  11: ['events', LEN],
  12: ['dropped_events_count', VARINT],
  13: ['links', LEN],
  14: ['dropped_links_count', VARINT],
  15: ['status', LEN],
  16: ['flags', WIRE.i32],
};
const STATUS_FIELDS: FieldTable = { 2: ['message', LEN], 3: ['code', VARINT] };

/** Decodes an ExportTraceServiceRequest; throws `invalid_request` when it is malformed. */
export function decodeTracesProto(body: Buffer): Span[] {
  return decodeExport(body, SPANS);
}

const SPANS = exportShape<Span>(
  { message: 'Spans', field: 'spans', items: 'spans', request: 'Trace' },
  (r, end, origin, out) => {
    out.push(readSpan(r, end, origin));
  },
);

/** A span with every field at its proto3 default. */
export function newSpan(origin: Origin): Span {
  return {
    origin,
    traceId: '',
    spanId: '',
    parentSpanId: '',
    traceState: '',
    name: '',
    kind: 0,
    startMs: 0,
    startSubNs: 0,
    endMs: 0,
    endSubNs: 0,
    attributes: newAttributes(),
    statusCode: 0,
    statusMessage: '',
    eventCount: 0,
    linkCount: 0,
    flags: 0,
  };
}

function readSpan(r: WireReader, end: number, origin: Origin): Span {
  r.budget.record();
  const s = newSpan(origin);
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case (1 << 3) | LEN:
        s.traceId = r.id('Span.trace_id', 16);
        break;
      case (2 << 3) | LEN:
        s.spanId = r.id('Span.span_id', 8);
        break;
      case (3 << 3) | LEN:
        s.traceState = r.string('Span.trace_state');
        break;
      case (4 << 3) | LEN:
        s.parentSpanId = r.id('Span.parent_span_id', 8);
        break;
      case (5 << 3) | LEN:
        s.name = r.string('Span.name');
        break;
      case (6 << 3) | VARINT:
        s.kind = r.int32();
        break;
      case (7 << 3) | I64:
        s.startMs = r.timeMs();
        s.startSubNs = r.subNs;
        break;
      case (8 << 3) | I64:
        s.endMs = r.timeMs();
        s.endSubNs = r.subNs;
        break;
      case (9 << 3) | LEN:
        readAttribute(r, s.attributes);
        break;
      case (11 << 3) | LEN:
        s.eventCount++;
        r.skip(tag);
        break;
      case (13 << 3) | LEN:
        s.linkCount++;
        r.skip(tag);
        break;
      case (15 << 3) | LEN:
        readStatus(r, r.end(), s);
        break;
      case (16 << 3) | WIRE.i32:
        s.flags = r.fixed32();
        break;
      default:
        skipField(r, tag, SPAN_FIELDS, 'Span');
    }
  }
  r.close(end);
  return s;
}

function readStatus(r: WireReader, end: number, s: Span): void {
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((2 << 3) | LEN)) s.statusMessage = r.string('Status.message');
    else if (tag === ((3 << 3) | VARINT)) s.statusCode = r.int32();
    else skipField(r, tag, STATUS_FIELDS, 'Status');
  }
  r.close(end);
}
