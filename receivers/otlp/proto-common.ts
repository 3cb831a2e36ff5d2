import type { AnyValue, Attributes, Scope } from './model.ts';
import { newAttributes } from './model.ts';
import { MAX_DEPTH, malformed, WIRE, WIRE_NAMES, type WireReader } from './wire.ts';

/**
 * Protobuf decoding of common.proto and resource.proto: AnyValue of every kind, KeyValue,
 * InstrumentationScope and Resource. Nesting (arrays and kvlists within values) is followed
 * to MAX_DEPTH levels; deeper input is refused, so a 10,000-deep value cannot exhaust the stack.
 */

// Tags as they appear on the wire: field << 3 | wire type.
const T_STRING = (1 << 3) | WIRE.len;
const T_BOOL = (2 << 3) | WIRE.varint;
const T_INT = (3 << 3) | WIRE.varint;
const T_DOUBLE = (4 << 3) | WIRE.i64;
const T_ARRAY = (5 << 3) | WIRE.len;
const T_KVLIST = (6 << 3) | WIRE.len;
const T_BYTES = (7 << 3) | WIRE.len;

/** Decodes an AnyValue that ends at `end`. An empty AnyValue is null. */
export function readAnyValue(r: WireReader, end: number, depth: number): AnyValue {
  if (depth > MAX_DEPTH) malformed(`values nested deeper than ${MAX_DEPTH} levels`);
  r.budget.value();
  let value: AnyValue = null;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case T_STRING:
        value = r.string('AnyValue.string_value');
        break;
      case T_BOOL:
        value = r.bool();
        break;
      case T_INT:
        value = r.int64();
        break;
      case T_DOUBLE:
        value = r.double();
        break;
      case T_ARRAY:
        value = readArrayValue(r, r.end(), depth + 1);
        break;
      case T_KVLIST:
        value = readKeyValueList(r, r.end(), depth + 1);
        break;
      case T_BYTES:
        value = r.bytes();
        break;
      default:
        skipField(r, tag, ANY_VALUE_FIELDS, 'AnyValue');
    }
  }
  r.close(end);
  return value;
}

const ANY_VALUE_FIELDS: FieldTable = {
  1: ['string_value', WIRE.len],
  2: ['bool_value', WIRE.varint],
  3: ['int_value', WIRE.varint],
  4: ['double_value', WIRE.i64],
  5: ['array_value', WIRE.len],
  6: ['kvlist_value', WIRE.len],
  7: ['bytes_value', WIRE.len],
};

/** The declared name and wire type of each field number of a message. */
export type FieldTable = Readonly<Record<number, readonly [name: string, wireType: number]>>;

/**
 * Skips a field the decoder does not use. Unknown fields are ignored (protobuf rules); a known
 * field with another wire type than declared is refused, since its value cannot be read.
 */
export function skipField(r: WireReader, tag: number, table: FieldTable, message: string): void {
  const f = table[tag >>> 3];
  if (f !== undefined && f[1] !== (tag & 7)) {
    malformed(`field ${message}.${f[0]} has wire type ${WIRE_NAMES[tag & 7]}, expected ${WIRE_NAMES[f[1]]}`);
  }
  r.skip(tag);
}

const LIST_FIELDS: FieldTable = { 1: ['values', WIRE.len] };
const KEY_VALUE_FIELDS: FieldTable = { 1: ['key', WIRE.len], 2: ['value', WIRE.len] };
const RESOURCE_FIELDS: FieldTable = {
  1: ['attributes', WIRE.len],
  2: ['dropped_attributes_count', WIRE.varint],
  3: ['entity_refs', WIRE.len],
};
const SCOPE_FIELDS: FieldTable = {
  1: ['name', WIRE.len],
  2: ['version', WIRE.len],
  3: ['attributes', WIRE.len],
  4: ['dropped_attributes_count', WIRE.varint],
};

function readArrayValue(r: WireReader, end: number, depth: number): AnyValue[] {
  const out: AnyValue[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === T_STRING) out.push(readAnyValue(r, r.end(), depth));
    else skipField(r, tag, LIST_FIELDS, 'ArrayValue');
  }
  r.close(end);
  return out;
}

function readKeyValueList(r: WireReader, end: number, depth: number): Attributes {
  const out = newAttributes();
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === T_STRING) readKeyValue(r, r.end(), out, depth);
    else skipField(r, tag, LIST_FIELDS, 'KeyValueList');
  }
  r.close(end);
  return out;
}

/** Decodes one KeyValue into `into` (a later duplicate key wins, as in the Collector). */
export function readKeyValue(r: WireReader, end: number, into: Attributes, depth: number): void {
  r.budget.value();
  let key = '';
  let value: AnyValue = null;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === T_STRING) key = r.string('KeyValue.key');
    else if (tag === ((2 << 3) | WIRE.len)) value = readAnyValue(r, r.end(), depth);
    else skipField(r, tag, KEY_VALUE_FIELDS, 'KeyValue');
  }
  r.close(end);
  into[key] = value;
}

/** Decodes an attribute KeyValue whose tag was just read (a repeated field of some message). */
export function readAttribute(r: WireReader, into: Attributes): void {
  readKeyValue(r, r.end(), into, 0);
}

/** Decodes a Resource: its attributes (entity refs and counts are not used). */
export function readResource(r: WireReader, end: number): Attributes {
  const attrs = newAttributes();
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | WIRE.len)) readAttribute(r, attrs);
    else skipField(r, tag, RESOURCE_FIELDS, 'Resource');
  }
  r.close(end);
  return attrs;
}

/** Decodes an InstrumentationScope. */
export function readScope(r: WireReader, end: number): Scope {
  const scope: Scope = { name: '', version: '', attributes: newAttributes() };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case (1 << 3) | WIRE.len:
        scope.name = r.string('InstrumentationScope.name');
        break;
      case (2 << 3) | WIRE.len:
        scope.version = r.string('InstrumentationScope.version');
        break;
      case (3 << 3) | WIRE.len:
        readAttribute(r, scope.attributes);
        break;
      default:
        skipField(r, tag, SCOPE_FIELDS, 'InstrumentationScope');
    }
  }
  r.close(end);
  return scope;
}

/** The scope of records sent without one. */
export function emptyScope(): Scope {
  return { name: '', version: '', attributes: newAttributes() };
}
