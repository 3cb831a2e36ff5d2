import type { Event } from '../../pipeline/event.ts';

/**
 * Encodes one event as an OTLP ExportLogsServiceRequest (opentelemetry-proto logs.proto): a
 * single log record whose body is the envelope as a JSON string, named by `event_name` = action,
 * with `tenant.id` and `ledgerline.event_type` attributes for routing by other OTLP consumers.
 * The resource is left empty so that a reader mapping it (receivers/otlp) adds nothing.
 */

class Writer {
  private chunks: Buffer[] = [];
  private size = 0;

  bytes(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  varint(n: number): void {
    const out: number[] = [];
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    this.bytes(Buffer.from(out));
  }

  /** A length-delimited field: tag, length, payload. */
  field(no: number, payload: Buffer): void {
    this.varint((no << 3) | 2);
    this.varint(payload.length);
    this.bytes(payload);
  }

  string(no: number, s: string): void {
    this.field(no, Buffer.from(s, 'utf8'));
  }

  fixed64(no: number, v: bigint): void {
    this.varint((no << 3) | 1);
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    this.bytes(b);
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

function message(build: (w: Writer) => void): Buffer {
  const w = new Writer();
  build(w);
  return w.finish();
}

/** AnyValue { string_value = 1 } */
const stringValue = (s: string) => message((w) => w.string(1, s));

/** KeyValue { key = 1; value = 2 } */
const keyValue = (key: string, value: string) =>
  message((w) => {
    w.string(1, key);
    w.field(2, stringValue(value));
  });

/** The ExportLogsServiceRequest of one event; `envelopeJson` is the event as JSON. */
export function encodeEventAsOtlpLogs(event: Event, envelopeJson: string): Buffer {
  const nanos = BigInt(Date.parse(event.occurred_at)) * 1_000_000n;
  const record = message((w) => {
    w.fixed64(1, nanos); // time_unix_nano
    w.field(5, stringValue(envelopeJson)); // body
    w.field(6, keyValue('tenant.id', event.tenant.id)); // attributes
    w.field(6, keyValue('ledgerline.event_type', event.event_type));
    w.fixed64(11, BigInt(Date.parse(event.recorded_at)) * 1_000_000n); // observed_time_unix_nano
    w.string(12, event.action); // event_name
  });
  const scopeLogs = message((w) => {
    w.field(
      1,
      message((s) => s.string(1, 'ledgerline')),
    ); // scope { name }
    w.field(2, record); // log_records
  });
  const resourceLogs = message((w) => {
    w.field(1, Buffer.alloc(0)); // resource (empty)
    w.field(2, scopeLogs);
  });
  return message((w) => w.field(1, resourceLogs));
}
