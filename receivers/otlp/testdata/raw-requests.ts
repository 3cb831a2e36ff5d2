import protobuf from 'protobufjs';

/**
 * Hand-encoded OTLP protobuf requests for tests that need what no SDK sends: invalid UTF-8,
 * wrong wire types, unknown fields, truncation and absurd nesting. Built with protobufjs's
 * Writer so the encoding itself is independent of the receiver's decoder.
 */

/** Wire tag of a field. */
export function tag(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

/** Wraps bytes as a length-delimited field. */
export function field(n: number, bytes: Uint8Array): Buffer {
  const w = protobuf.Writer.create();
  w.uint32(tag(n, 2)).bytes(bytes);
  return Buffer.from(w.finish());
}

/** A string field, from raw bytes (so invalid UTF-8 can be sent). */
export function stringField(n: number, text: string | Uint8Array): Buffer {
  return field(n, typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
}

/** KeyValue { key, value: AnyValue { string_value } }. */
export function stringAttribute(key: string | Uint8Array, value: string | Uint8Array): Buffer {
  return Buffer.concat([stringField(1, key), field(2, stringField(1, value))]);
}

/** A LogRecord from already-encoded fields. */
export function logRecord(...fields: Buffer[]): Buffer {
  return Buffer.concat(fields);
}

/** LogRecord fields for a valid event: event_name and an actor attribute. */
export function validRecordFields(action = 'doc_viewed'): Buffer[] {
  return [stringField(12, action), field(6, stringAttribute('enduser.id', 'u-1'))];
}

/** ExportLogsServiceRequest { resource_logs { scope_logs { log_records... } } }. */
export function logsRequest(...records: Buffer[]): Buffer {
  const scopeLogs = Buffer.concat(records.map((r) => field(2, r)));
  return field(1, field(2, scopeLogs));
}

/** A log record whose body is an AnyValue nested `depth` arrays deep. */
export function deepBodyRecord(depth: number): Buffer {
  // Built inside out with one final concat: wrapping buffer by buffer would copy O(depth²).
  const inner = stringField(1, 'bottom');
  const headers: Buffer[] = [];
  let len = inner.length;
  for (let i = 0; i < depth; i++) {
    for (const n of [1, 5]) {
      const w = protobuf.Writer.create();
      w.uint32(tag(n, 2)).uint32(len);
      const header = Buffer.from(w.finish());
      headers.push(header);
      len += header.length;
    }
  }
  const value = Buffer.concat([...headers.reverse(), inner]);
  return logRecord(...validRecordFields(), field(5, value));
}

/** The OTLP/JSON request with a body nested `depth` kvlists deep. */
export function deepJsonRequest(depth: number): string {
  let value = '{"stringValue":"bottom"}';
  for (let i = 0; i < depth; i++) value = `{"kvlistValue":{"values":[{"key":"k","value":${value}}]}}`;
  return `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":"x","body":${value}}]}]}]}`;
}

/** ExportLogsServiceRequest with `n` empty log records (two bytes each on the wire). */
export function emptyRecordsRequest(n: number): Buffer {
  const records = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) records[i * 2] = tag(2, 2);
  return field(1, field(2, records));
}
