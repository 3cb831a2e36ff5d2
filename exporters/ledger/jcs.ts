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

/**
 * Members of an object in canonical order, with their quoted names. Objects of one shape (the
 * same names in the same enumeration order) share it, so the sort and the name quoting are done
 * once per shape rather than once per object: the ledger canonicalises every event, and events
 * come in a handful of shapes.
 */
export interface MemberOrder {
  /** Names as `Object.keys` listed them: the cache key. */
  readonly names: readonly string[];
  /** Names in RFC 8785 order (UTF-16 code units, §3.2.3). */
  readonly order: readonly string[];
  /** `"name":` for each of `order`. */
  readonly quoted: readonly string[];
}

// Per name count, the most recent shapes; bounded, so free-form input cannot grow it.
const SHAPES_PER_COUNT = 16;
const shapes = new Map<number, MemberOrder[]>();

/** The canonical member order of an object whose own enumerable names are `names`. */
export function memberOrder(names: string[]): MemberOrder {
  const n = names.length;
  let list = shapes.get(n);
  if (list) {
    search: for (const s of list) {
      for (let i = 0; i < n; i++) if (s.names[i] !== names[i]) continue search;
      return s;
    }
  } else {
    list = [];
    shapes.set(n, list);
  }
  // Default sort compares UTF-16 code units, exactly the order RFC 8785 §3.2.3 asks for.
  const order = names.slice().sort();
  const shape: MemberOrder = { names, order, quoted: order.map((k) => `${string(k)}:`) };
  if (list.length >= SHAPES_PER_COUNT) list.shift();
  list.push(shape);
  return shape;
}

function object(obj: Record<string, unknown>): string {
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function')
    return write((obj as { toJSON(): unknown }).toJSON());
  const { order, quoted } = memberOrder(Object.keys(obj));
  let out = '{';
  for (let i = 0; i < order.length; i++) {
    const v = obj[order[i]!];
    if (v === undefined) continue;
    if (out.length > 1) out += ',';
    out += quoted[i]! + write(v);
  }
  return `${out}}`;
}
