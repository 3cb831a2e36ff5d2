import { isUtf8 } from 'node:buffer';
import { PipelineError } from '../../pipeline/errors.ts';

/**
 * A protobuf wire-format reader for the OTLP decoders. It is written here rather than taken
 * from protobufjs because OTLP needs what protobufjs's Reader does not do: exact 64-bit
 * timestamps (as milliseconds plus a nanosecond remainder), int64 values that stay exact
 * (bigint past 2^53), strings checked for valid UTF-8 as the protobuf rules require, and a
 * clear 400 for every malformed input instead of a RangeError.
 */

/** Wire types of the protobuf encoding. */
export const WIRE = { varint: 0, i64: 1, len: 2, startGroup: 3, endGroup: 4, i32: 5 } as const;

/** Names of the wire types, for error messages. */
export const WIRE_NAMES = [
  'varint',
  'fixed64',
  'length-delimited',
  'start-group',
  'end-group',
  'fixed32',
  '6',
  '7',
];

/** The deepest nesting of groups or values a decoder follows before refusing the request. */
export const MAX_DEPTH = 64;

/** Most records (log records, data points, spans) one request may hold. */
export const MAX_RECORDS = 100_000;
/** Most attributes and values (nested ones included) one request may hold. */
export const MAX_VALUES = 1_000_000;

/**
 * Counts what a request decodes into. The body limit alone does not bound memory: an empty
 * log record is two bytes on the wire but a few hundred in memory, so 20 MiB of them would
 * take gigabytes. Past either limit the request is refused with 413.
 */
export class Budget {
  private records = 0;
  private values = 0;

  /** Counts one record; throws past MAX_RECORDS. */
  record(): void {
    if (++this.records > MAX_RECORDS) {
      throw new PipelineError(
        'payload_too_large',
        `the request holds more than ${MAX_RECORDS} records; send smaller batches`,
      );
    }
  }

  /** Counts one attribute or value; throws past MAX_VALUES. */
  value(): void {
    if (++this.values > MAX_VALUES) {
      throw new PipelineError(
        'payload_too_large',
        `the request holds more than ${MAX_VALUES} attributes and values; send smaller batches`,
      );
    }
  }
}

/** Throws the 400 every malformed protobuf input is answered with. */
export function malformed(message: string): never {
  throw new PipelineError('invalid_request', `malformed OTLP protobuf: ${message}`);
}

/** Strings up to this many bytes are interned. */
const INTERN_MAX = 32;
const INTERN_SLOTS = 4096;
const INTERNED: (string | undefined)[] = new Array(INTERN_SLOTS);

/** Reads one protobuf message (and the messages nested in it) from a buffer. */
export class WireReader {
  readonly buf: Buffer;
  pos = 0;
  /** Low and high 32 bits of the last varint64/fixed64 read (scratch, to avoid allocations). */
  lo = 0;
  hi = 0;
  /** Nanoseconds within the millisecond of the last `timeMs()` read. */
  subNs = 0;
  /** What this request has decoded so far. */
  readonly budget = new Budget();
  private readonly lastTrace = { bytes: Buffer.alloc(16), hex: '' };
  private readonly lastSpan = { bytes: Buffer.alloc(8), hex: '' };

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  /** Reads a tag; returns `field << 3 | wireType` as the wire has it. */
  tag(): number {
    const t = this.uint32();
    if (t >>> 3 === 0) malformed(`field number 0 at byte ${this.pos}`);
    return t;
  }

  private byte(): number {
    if (this.pos >= this.buf.length) malformed('truncated varint');
    return this.buf[this.pos++]!;
  }

  /** A varint truncated to its low 32 bits, unsigned (tags, lengths, uint32). */
  uint32(): number {
    const buf = this.buf;
    const pos = this.pos;
    if (pos < buf.length && buf[pos]! < 0x80) {
      this.pos = pos + 1;
      return buf[pos]!;
    }
    this.varint64();
    return this.lo;
  }

  /** A varint as a signed 32-bit value (int32, enums). */
  int32(): number {
    return this.uint32() | 0;
  }

  /** A zigzag-encoded sint32. */
  sint32(): number {
    const v = this.uint32();
    return (v >>> 1) ^ -(v & 1);
  }

  /** A varint of up to ten bytes into `lo`/`hi`. */
  varint64(): void {
    let lo = 0;
    let hi = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      b = this.byte();
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = 0;
        return;
      }
    }
    b = this.byte();
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >> 4;
    if (b < 0x80) {
      this.lo = lo >>> 0;
      this.hi = hi >>> 0;
      return;
    }
    for (let shift = 3; shift < 32; shift += 7) {
      b = this.byte();
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    malformed(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** A signed int64 varint: a number when exact, a bigint past 2^53. */
  int64(): number | bigint {
    this.varint64();
    return int64Of(this.lo, this.hi);
  }

  /** An unsigned varint as a number (counts; precision past 2^53 is not needed for them). */
  uint64(): number {
    this.varint64();
    return this.hi * 4294967296 + this.lo;
  }

  /** A varint bool. */
  bool(): boolean {
    this.varint64();
    return (this.lo | this.hi) !== 0;
  }

  private need(n: number): number {
    const pos = this.pos;
    if (pos + n > this.buf.length) malformed(`truncated: ${n} bytes needed at byte ${pos}`);
    this.pos = pos + n;
    return pos;
  }

  /** A fixed64 into `lo`/`hi`. */
  fixed64(): void {
    const pos = this.need(8);
    this.lo = this.buf.readUInt32LE(pos);
    this.hi = this.buf.readUInt32LE(pos + 4);
  }

  /**
   * A fixed64 of nanoseconds since the epoch as exact whole milliseconds; the nanoseconds
   * within the millisecond are left in `subNs`. Doubles cannot hold 2^60 ns exactly, so the
   * division is done on the halves: 2^32 = 4294 * 10^6 + 967296.
   */
  timeMs(): number {
    this.fixed64();
    const rest = this.hi * 967296 + this.lo;
    const restMs = Math.floor(rest / 1e6);
    this.subNs = rest - restMs * 1e6;
    return this.hi * 4294 + restMs;
  }

  /** An unsigned fixed64 as a number (counts). */
  fixed64Number(): number {
    this.fixed64();
    return this.hi * 4294967296 + this.lo;
  }

  /** A signed sfixed64: a number when exact, a bigint past 2^53. */
  sfixed64(): number | bigint {
    this.fixed64();
    return int64Of(this.lo, this.hi);
  }

  /** A fixed32. */
  fixed32(): number {
    return this.buf.readUInt32LE(this.need(4));
  }

  /** A double. */
  double(): number {
    return this.buf.readDoubleLE(this.need(8));
  }

  /** Reads a length prefix; returns where the delimited bytes end. */
  end(): number {
    const len = this.uint32();
    const end = this.pos + len;
    if (end > this.buf.length) malformed(`truncated: a field of ${len} bytes runs past the end of the body`);
    return end;
  }

  /** Checks that a nested message ended exactly at its declared length. */
  close(end: number): void {
    if (this.pos !== end) malformed(`a field runs past the end of its enclosing message at byte ${this.pos}`);
  }

  /** A string field, refused unless valid UTF-8 (protobuf requires it of `string` fields). */
  string(field: string): string {
    const end = this.end();
    const start = this.pos;
    this.pos = end;
    if (end === start) return '';
    const buf = this.buf;
    // Short ASCII strings (keys, names, ids) skip the validator and mostly the allocation:
    // they repeat across records, so they come from a small intern table.
    if (end - start <= INTERN_MAX) {
      let h = end - start;
      let i = start;
      for (; i < end; i++) {
        const b = buf[i]!;
        if (b >= 0x80) break;
        h = (Math.imul(h, 31) + b) | 0;
      }
      if (i === end) {
        const slot = h & (INTERN_SLOTS - 1);
        const cached = INTERNED[slot];
        if (cached !== undefined && cached.length === end - start) {
          let same = true;
          for (let j = 0; j < cached.length; j++) {
            if (cached.charCodeAt(j) !== buf[start + j]) {
              same = false;
              break;
            }
          }
          if (same) return cached;
        }
        const str = buf.toString('latin1', start, end);
        INTERNED[slot] = str;
        return str;
      }
    }
    if (!isUtf8(buf.subarray(start, end))) {
      throw new PipelineError(
        'invalid_request',
        `invalid UTF-8 in string field ${field} (protobuf string fields must be valid UTF-8)`,
      );
    }
    return buf.toString('utf8', start, end);
  }

  /** A bytes field (a copy, so the request buffer can be released). */
  bytes(): Uint8Array {
    const end = this.end();
    const out = new Uint8Array(this.buf.subarray(this.pos, end));
    this.pos = end;
    return out;
  }

  /** A trace or span id as lowercase hex; empty when absent. Refuses other lengths. */
  id(field: string, size: number): string {
    const end = this.end();
    const start = this.pos;
    const len = end - start;
    this.pos = end;
    if (len === 0) return '';
    if (len !== size) malformed(`${field} must be ${size} bytes, got ${len}`);
    // Records of one request often share their trace: reuse the last id's text when the bytes match.
    const last = size === 16 ? this.lastTrace : this.lastSpan;
    if (last.hex !== '' && this.buf.compare(last.bytes, 0, size, start, end) === 0) return last.hex;
    const hex = this.buf.toString('hex', start, end);
    const out = isZeroHex(hex) ? '' : hex;
    this.buf.copy(last.bytes, 0, start, end);
    last.hex = out;
    return out;
  }

  /** Skips a field this decoder does not use (unknown fields are ignored per protobuf rules). */
  skip(tag: number, depth = 0): void {
    switch (tag & 7) {
      case WIRE.varint:
        this.varint64();
        return;
      case WIRE.i64:
        this.need(8);
        return;
      case WIRE.len:
        this.pos = this.end();
        return;
      case WIRE.i32:
        this.need(4);
        return;
      case WIRE.startGroup: {
        if (depth >= MAX_DEPTH) malformed(`groups nested deeper than ${MAX_DEPTH} levels`);
        const field = tag >>> 3;
        for (;;) {
          if (this.pos >= this.buf.length) malformed('truncated group');
          const t = this.tag();
          if ((t & 7) === WIRE.endGroup) {
            if (t >>> 3 !== field) malformed('mismatched end-group tag');
            return;
          }
          this.skip(t, depth + 1);
        }
      }
      default:
        malformed(`invalid wire type ${tag & 7} at byte ${this.pos}`);
    }
  }
}

/** Combines two 32-bit halves of a two's-complement int64. */
export function int64Of(lo: number, hi: number): number | bigint {
  if (hi & 0x80000000) {
    // Negative: magnitude is the two's complement.
    const mlo = (~lo >>> 0) + 1;
    const mhi = (~hi >>> 0) + (mlo > 0xffffffff ? 1 : 0);
    if (mhi < 0x200000) return -(mhi * 4294967296 + (mlo >>> 0));
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  }
  if (hi < 0x200000) return hi * 4294967296 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function isZeroHex(hex: string): boolean {
  for (let i = 0; i < hex.length; i++) if (hex.charCodeAt(i) !== 48) return false;
  return true;
}
