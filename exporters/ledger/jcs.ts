/**
 * RFC 8785 JSON Canonicalization Scheme: the bytes the ledger hashes and signs. ECMAScript's
 * own number and string serialisation is what the RFC specifies, so JSON.stringify does the
 * primitives; what JCS adds is property order by UTF-16 code units and I-JSON limits.
 */

/** A value JCS can canonicalise (after JSON round-tripping: no undefined inside arrays). */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue | undefined };

/** Canonical JSON text of a value. Throws on NaN, Infinity, lone surrogates and non-JSON types. */
export function canonicalize(value: unknown): string {
  return write(value);
}

/** Canonical JSON of a value as UTF-8 bytes: what is hashed. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(write(value), 'utf8');
}

function write(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`JCS: ${value} is not a JSON number`);
      // ECMAScript Number::toString is RFC 8785's number format; String(-0) is "0" as required.
      return String(value);
    case 'string':
      return string(value);
    case 'object':
      return Array.isArray(value) ? array(value) : object(value as Record<string, unknown>);
    default:
      throw new TypeError(`JCS: ${typeof value} is not a JSON value`);
  }
}

// Printable ASCII other than `"` and `\\`: serialised as is, without a call into JSON.stringify.
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function string(s: string): string {
  if (PLAIN.test(s)) return `"${s}"`;
  // I-JSON: strings are Unicode; a lone surrogate has no UTF-8 form to hash.
  if (!s.isWellFormed()) throw new TypeError('JCS: string holds a lone surrogate');
  return JSON.stringify(s);
}

function array(values: unknown[]): string {
  let out = '[';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    out += write(values[i]);
  }
  return `${out}]`;
}

function object(obj: Record<string, unknown>): string {
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function')
    return write((obj as { toJSON(): unknown }).toJSON());
  // Default sort compares UTF-16 code units, exactly the order RFC 8785 §3.2.3 asks for.
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = obj[key];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${string(key)}:${write(v)}`;
  }
  return `${out}}`;
}
