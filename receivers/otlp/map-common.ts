import { type Event, parseEvent } from '../../pipeline/event.ts';
import type { AuthContext } from '../../pipeline/tenants.ts';
import type { AnyValue } from './model.ts';
import type { RecordFields } from './record-fields.ts';

/**
 * What every OTLP signal shares on its way to the envelope (DESIGN §3; the table is in
 * README.md): value conversions, names as actions, timestamps, assembling and validating the
 * envelope, and collecting rejections. The attribute-named fields are in record-fields.ts.
 */

/** The caller and the receiver's clock, shared by every record of one request. */
export interface MapContext {
  auth: AuthContext;
  now: Date;
}

/** Events mapped from one request, and the records that could not be. */
export interface MapResult {
  events: Event[];
  /** Records refused, each counted once. */
  rejected: number;
  /** The first few reasons, in the caller's words. */
  reasons: string[];
  /** Records skipped on purpose (metric points flagged "no recorded value"); not errors. */
  skipped: number;
}

/** How many distinct reasons a partial-success message lists. */
const MAX_REASONS = 5;

/** Starts an empty result. */
export function newResult(): MapResult {
  return { events: [], rejected: 0, reasons: [], skipped: 0 };
}

/** Records a refused record with the reason. */
export function reject(result: MapResult, reason: string): void {
  result.rejected++;
  if (result.reasons.length < MAX_REASONS) result.reasons.push(reason);
}

/**
 * Validates an envelope input with `parseEvent` and adds the event or the rejection. The
 * record's label is made only for a rejection, not for every record.
 */
export function accept(
  result: MapResult,
  input: Record<string, unknown>,
  ctx: MapContext,
  label: (i: number) => string,
  i: number,
): void {
  const parsed = parseEvent(input, ctx.now);
  if (parsed.ok) result.events.push(parsed.event);
  else reject(result, `${label(i)}: ${parsed.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
}

/** A scalar as a string; other kinds pass through so validation names their field. */
export function text(v: AnyValue | undefined): unknown {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return toJson(v);
}

/** A number; strings holding numbers are read as such, other kinds pass through to validation. */
export function numeric(v: AnyValue | undefined): unknown {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return toJson(v);
}

/** An AnyValue as plain JSON: kvlists as objects, int64 past 2^53 as strings, bytes as base64. */
export function toJson(v: AnyValue): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v)) return v.map(toJson);
  const out: Record<string, unknown> = {};
  for (const k in v) {
    // Own keys only exist on these null-prototype objects; define, so `__proto__` stays data.
    Object.defineProperty(out, k, {
      value: toJson(v[k]!),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** An attribute as a metadata detail (string, finite number or boolean); undefined for null. */
export function detailValue(v: AnyValue): string | number | boolean | undefined {
  if (v === null) return undefined;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return toJson(v) as string;
  return JSON.stringify(toJson(v));
}

const NOT_ACTION = /[^a-z0-9]+/g;
const EDGE_UNDERSCORES = /^_+|_+$/g;

/**
 * An event, span or metric name as a snake_case action: lowercased, every run of other
 * characters an underscore (`checkout.completed` → `checkout_completed`, `GET /users` →
 * `get_users`); a name that starts with a digit gets an `n_` prefix. Empty when nothing is left.
 */
export function toAction(name: string): string {
  const cached = ACTIONS.get(name);
  if (cached !== undefined) return cached;
  const action = computeAction(name);
  // Names repeat across records; the cache is bounded so arbitrary names cannot grow it.
  if (ACTIONS.size >= 4096) ACTIONS.clear();
  ACTIONS.set(name, action);
  return action;
}

const ACTIONS = new Map<string, string>();

function computeAction(name: string): string {
  let a = name.toLowerCase().replace(NOT_ACTION, '_').replace(EDGE_UNDERSCORES, '');
  if (a !== '' && a.charCodeAt(0) <= 57) a = `n_${a}`;
  return a.slice(0, 128).replace(EDGE_UNDERSCORES, '');
}

let isoSecond = Number.NaN;
let isoPrefix = '';

/**
 * An RFC 3339 time of whole milliseconds since the epoch; undefined when 0 (unset). The text
 * up to the second is cached, since the records of a request mostly share their second.
 */
export function isoTime(ms: number): string | undefined {
  if (ms <= 0 || ms > 8.64e15) return undefined;
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, -4);
  }
  const frac = ms - second * 1000;
  return `${isoPrefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
}

/** Assembles the envelope input from a record's fields and what its signal adds. */
export function envelope(f: RecordFields, action: string, occurredMs: number): Record<string, unknown> {
  const input: Record<string, unknown> = {
    event_type: f.event_type,
    tenant: f.tenant,
    actor: f.actor,
    action,
    correlation: f.correlation,
    metadata: { safe_fields_only: true, details: f.details },
  };
  const occurred = isoTime(occurredMs);
  if (occurred !== undefined) input.occurred_at = occurred;
  if (f.entity) input.entity = f.entity;
  if (f.result !== undefined) input.result = f.result;
  if (f.reason !== undefined) input.reason = f.reason;
  if (f.usage) input.usage = f.usage;
  return input;
}

/** The reason a record without an actor is refused. */
export const NO_ACTOR =
  'no actor: set attribute enduser.id (or actor.id), or resource attribute service.name';
