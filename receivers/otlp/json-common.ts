import { isUtf8 } from 'node:buffer';
import { PipelineError } from '../../pipeline/errors.ts';
import type { AnyValue, Attributes, Scope } from './model.ts';
import { newAttributes } from './model.ts';
import { type Budget, int64Of, MAX_DEPTH } from './wire.ts';

/**
 * OTLP/JSON decoding of the common messages. OTLP/JSON is the protobuf JSON mapping with
 * three OTLP rules: trace and span ids are hex (base64 is accepted too, as some senders use
 * the plain mapping), enums are integers (names accepted), and 64-bit integers may be strings.
 * Field names are lowerCamelCase; the original snake_case names are accepted as the mapping
 * requires. A value of the wrong JSON type is refused with the field's name.
 */

/** A JSON object as parsed. */
export type JsonObject = Record<string, unknown>;

/** Throws the 400 every malformed JSON input is answered with. */
export function invalidJson(message: string): never {
  throw new PipelineError('invalid_request', `malformed OTLP/JSON: ${message}`);
}

/** Parses a request body as a JSON object. */
export function parseJsonBody(body: Buffer): JsonObject {
  if (!isUtf8(body)) invalidJson('the body is not valid UTF-8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return invalidJson(`the body is not JSON (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    invalidJson('the body must be a JSON object');
  return parsed as JsonObject;
}

/** A field by its JSON name or its proto name; undefined when absent or null. */
export function field(o: JsonObject, camel: string, snake: string): unknown {
  const v = o[camel];
  if (v !== undefined && v !== null) return v;
  const s = o[snake];
  return s === null ? undefined : s;
}

/** A repeated message field: an array of objects (absent = empty). */
export function objects(o: JsonObject, camel: string, snake: string, where: string): JsonObject[] {
  const v = field(o, camel, snake);
  if (v === undefined) return [];
  if (!Array.isArray(v)) invalidJson(`${where}.${camel} must be an array`);
  for (const item of v) {
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      invalidJson(`${where}.${camel} must hold objects`);
  }
  return v as JsonObject[];
}

/** A singular message field (absent = undefined). */
export function object(o: JsonObject, camel: string, snake: string, where: string): JsonObject | undefined {
  const v = field(o, camel, snake);
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) invalidJson(`${where}.${camel} must be an object`);
  return v as JsonObject;
}

/** A string field (absent = ''). */
export function str(o: JsonObject, camel: string, snake: string, where: string): string {
  const v = field(o, camel, snake);
  if (v === undefined) return '';
  if (typeof v !== 'string') invalidJson(`${where}.${camel} must be a string`);
  return v;
}

const INTEGER = /^-?\d+$/;
const DIGITS = /^\d+$/;

/** An int64/uint64 field given as a number or a decimal string: exact number, bigint past 2^53. */
export function int64(v: unknown, where: string): number | bigint {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) invalidJson(`${where} must be an integer`);
    // A JSON number past 2^53 already lost precision; keep the type the protobuf path gives.
    return Number.isSafeInteger(v) ? v : BigInt.asIntN(64, BigInt(v));
  }
  if (typeof v === 'string' && INTEGER.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return n;
    const b = BigInt.asIntN(64, BigInt(v));
    return int64Of(Number(b & 0xffffffffn), Number((b >> 32n) & 0xffffffffn));
  }
  return invalidJson(`${where} must be an integer (a number or a decimal string)`);
}

/** A 32/64-bit unsigned count field (absent = 0). */
export function count(o: JsonObject, camel: string, snake: string, where: string): number {
  const v = field(o, camel, snake);
  if (v === undefined) return 0;
  const n = int64(v, `${where}.${camel}`);
  if (typeof n === 'bigint' || n < 0) invalidJson(`${where}.${camel} must be a non-negative integer`);
  return n;
}

/** A double field: a number or "NaN", "Infinity", "-Infinity" (absent = undefined). */
export function double(o: JsonObject, camel: string, snake: string, where: string): number | undefined {
  const v = field(o, camel, snake);
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return Number.NaN;
    if (v === 'Infinity') return Number.POSITIVE_INFINITY;
    if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
    const n = Number(v);
    if (v.trim() !== '' && Number.isFinite(n)) return n;
  }
  return invalidJson(`${where}.${camel} must be a number`);
}

/** Exact whole milliseconds and the nanoseconds within them, of a `*_unix_nano` field. */
export interface JsonTime {
  ms: number;
  subNs: number;
}

const NO_TIME: JsonTime = { ms: 0, subNs: 0 };

/** A fixed64 nanosecond timestamp given as a decimal string (or number); absent = 0. */
export function time(o: JsonObject, camel: string, snake: string, where: string): JsonTime {
  const v = field(o, camel, snake);
  if (v === undefined) return NO_TIME;
  if (typeof v === 'string' && DIGITS.test(v)) {
    // Split the decimal string instead of going through a double, which cannot hold 2^60 ns.
    if (v.length <= 6) return { ms: 0, subNs: Number(v) };
    return { ms: Number(v.slice(0, -6)), subNs: Number(v.slice(-6)) };
  }
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) {
    const ms = Math.floor(v / 1e6);
    return { ms, subNs: Math.max(0, Math.round(v - ms * 1e6)) };
  }
  return invalidJson(`${where}.${camel} must be nanoseconds since the epoch as a decimal string`);
}

const HEX = /^[0-9a-fA-F]*$/;

/** A trace or span id: hex (OTLP/JSON) or base64 (plain protobuf JSON); '' when absent or zero. */
export function id(o: JsonObject, camel: string, snake: string, size: number, where: string): string {
  const v = field(o, camel, snake);
  if (v === undefined || v === '') return '';
  if (typeof v !== 'string') return invalidJson(`${where}.${camel} must be a hex string`);
  let hex: string;
  if (v.length === size * 2 && HEX.test(v)) hex = v.toLowerCase();
  else {
    const bytes = Buffer.from(v, 'base64');
    if (bytes.length !== size)
      invalidJson(`${where}.${camel} must be ${size} bytes as ${size * 2} hex digits`);
    hex = bytes.toString('hex');
  }
  for (let i = 0; i < hex.length; i++) if (hex.charCodeAt(i) !== 48) return hex;
  return '';
}

/** An enum field: an integer or its name in `names` (absent = 0). */
export function enumValue(
  o: JsonObject,
  camel: string,
  snake: string,
  names: Readonly<Record<string, number>>,
  where: string,
): number {
  const v = field(o, camel, snake);
  if (v === undefined) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && Object.hasOwn(names, v)) return names[v]!;
  return invalidJson(`${where}.${camel} must be an enum number`);
}

/** Decodes an AnyValue object; `{}` is null. */
export function anyValue(v: unknown, depth: number, where: string, budget: Budget): AnyValue {
  if (depth > MAX_DEPTH) invalidJson(`values nested deeper than ${MAX_DEPTH} levels`);
  budget.value();
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) invalidJson(`${where} must be an AnyValue object`);
  const o = v as JsonObject;
  let x: unknown = field(o, 'stringValue', 'string_value');
  if (x !== undefined) {
    if (typeof x !== 'string') invalidJson(`${where}.stringValue must be a string`);
    return x;
  }
  x = field(o, 'intValue', 'int_value');
  if (x !== undefined) return int64(x, `${where}.intValue`);
  x = field(o, 'doubleValue', 'double_value');
  if (x !== undefined) return double(o, 'doubleValue', 'double_value', where) as number;
  x = field(o, 'boolValue', 'bool_value');
  if (x !== undefined) {
    if (typeof x !== 'boolean') invalidJson(`${where}.boolValue must be true or false`);
    return x;
  }
  x = field(o, 'bytesValue', 'bytes_value');
  if (x !== undefined) {
    if (typeof x !== 'string') invalidJson(`${where}.bytesValue must be a base64 string`);
    return new Uint8Array(Buffer.from(x, 'base64'));
  }
  x = field(o, 'arrayValue', 'array_value');
  if (x !== undefined) {
    if (typeof x !== 'object' || Array.isArray(x)) invalidJson(`${where}.arrayValue must be an object`);
    const items = objects(x as JsonObject, 'values', 'values', `${where}.arrayValue`);
    const out: AnyValue[] = new Array(items.length);
    for (let i = 0; i < items.length; i++)
      out[i] = anyValue(items[i], depth + 1, `${where}.arrayValue.values`, budget);
    return out;
  }
  x = field(o, 'kvlistValue', 'kvlist_value');
  if (x !== undefined) {
    if (typeof x !== 'object' || Array.isArray(x)) invalidJson(`${where}.kvlistValue must be an object`);
    const into = newAttributes();
    for (const kv of objects(x as JsonObject, 'values', 'values', `${where}.kvlistValue`))
      keyValue(kv, into, depth + 1, where, budget);
    return into;
  }
  return null;
}

function keyValue(kv: JsonObject, into: Attributes, depth: number, where: string, budget: Budget): void {
  budget.value();
  const key = str(kv, 'key', 'key', `${where}.attributes`);
  into[key] = anyValue(kv.value, depth, `${where}.attributes[${JSON.stringify(key)}]`, budget);
}

/** Decodes a repeated KeyValue field into an attribute set. */
export function attributes(o: JsonObject, where: string, budget: Budget): Attributes {
  const into = newAttributes();
  for (const kv of objects(o, 'attributes', 'attributes', where)) keyValue(kv, into, 0, where, budget);
  return into;
}

/** Decodes a Resource (absent = no attributes). */
export function resource(o: JsonObject, where: string, budget: Budget): Attributes {
  const r = object(o, 'resource', 'resource', where);
  return r ? attributes(r, `${where}.resource`, budget) : newAttributes();
}

/** Decodes an InstrumentationScope (absent = empty). */
export function scope(o: JsonObject, where: string, budget: Budget): Scope {
  const s = object(o, 'scope', 'scope', where);
  if (!s) return { name: '', version: '', attributes: newAttributes() };
  const w = `${where}.scope`;
  return {
    name: str(s, 'name', 'name', w),
    version: str(s, 'version', 'version', w),
    attributes: attributes(s, w, budget),
  };
}
