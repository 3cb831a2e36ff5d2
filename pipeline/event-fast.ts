import { z } from 'zod';
import type { Event } from './event.ts';
import { uuidv7 } from './uuid.ts';

/**
 * The hot path of event validation: a hand-written check of exactly what `eventSchema` accepts,
 * about ten times cheaper than running zod per event. It answers only "valid, here is the
 * normalised event" or "not sure"; on "not sure" the caller runs the zod schema, which stays the
 * single source of truth and of error messages. A property test holds the two in step
 * (event-fast.test.ts): whatever this accepts, zod accepts with the same output.
 */

const UUID = z.core.regexes.uuid();
const DATETIME = z.core.regexes.datetime({ offset: true, local: false, precision: null });
const SNAKE_CASE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, min: number, max: number): v is string =>
  typeof v === 'string' && v.length >= min && v.length <= max;
const optStr = (v: unknown, max: number) => v === undefined || str(v, 0, max);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** True when every key of `o` is in `allowed` (strict objects). */
function onlyKeys(o: Obj, allowed: ReadonlySet<string>): boolean {
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
}

/** Copies the keys of `o` that are set, in `order` (the schema's order, as zod outputs them). */
function pick(o: Obj, order: readonly string[]): Obj {
  const out: Obj = {};
  for (const k of order) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/**
 * `pick` without the copy when `o` is already clean (only set keys, in schema order): the
 * objects a receiver just parsed or mapped are owned by this event, so they can be kept.
 */
function clean(o: Obj, order: readonly string[]): Obj {
  let i = 0;
  for (const k in o) {
    if (o[k] === undefined) return pick(o, order);
    while (i < order.length && order[i] !== k) i++;
    if (i === order.length) return pick(o, order);
    i++;
  }
  return o;
}

const TOP = [
  'event_id',
  'event_type',
  'occurred_at',
  'recorded_at',
  'actor',
  'tenant',
  'entity',
  'action',
  'result',
  'reason',
  'correlation',
  'metadata',
  'integrity',
  'usage',
];
const TOP_KEYS = new Set(TOP);
const ACTOR = ['type', 'id', 'role', 'ip', 'user_agent'];
const ACTOR_KEYS = new Set(ACTOR);
const TENANT = ['id', 'slug'];
const TENANT_KEYS = new Set(TENANT);
const ENTITY = ['type', 'id', 'version'];
const ENTITY_KEYS = new Set(ENTITY);
const CORRELATION = ['request_id', 'trace_id', 'span_id', 'job_id'];
const CORRELATION_KEYS = new Set(CORRELATION);
const METADATA_KEYS = new Set(['safe_fields_only', 'details', 'redacted']);
const USAGE = [
  'feature',
  'tool',
  'capability',
  'provider',
  'workspace_id',
  'count',
  'latency_ms',
  'outcome',
  'sample_rate',
  'tokens',
];
const USAGE_KEYS = new Set(USAGE);
const TOKENS = ['input', 'output'];
const TOKENS_KEYS = new Set(TOKENS);
const ACTOR_TYPES = new Set(['user', 'service', 'system']);
const RESULTS = new Set(['success', 'failure', 'denied', 'pending']);
const OUTCOMES = new Set(['ok', 'warn', 'error']);

function actor(v: unknown): Obj | undefined {
  if (!isObj(v) || !onlyKeys(v, ACTOR_KEYS)) return undefined;
  if (!ACTOR_TYPES.has(v.type as string) || !str(v.id, 1, 256)) return undefined;
  if (!optStr(v.role, 256) || !optStr(v.ip, 256) || !optStr(v.user_agent, 1024)) return undefined;
  return clean(v, ACTOR);
}

function tenant(v: unknown): Obj | undefined {
  if (!isObj(v) || !onlyKeys(v, TENANT_KEYS) || !str(v.id, 1, 128) || !optStr(v.slug, 128)) return undefined;
  return clean(v, TENANT);
}

function entity(v: unknown): Obj | undefined {
  if (
    !isObj(v) ||
    !onlyKeys(v, ENTITY_KEYS) ||
    !str(v.type, 1, 128) ||
    !str(v.id, 1, 256) ||
    !optStr(v.version, 128)
  ) {
    return undefined;
  }
  return clean(v, ENTITY);
}

function correlation(v: unknown): Obj | undefined {
  if (v === undefined) return {};
  if (!isObj(v) || !onlyKeys(v, CORRELATION_KEYS)) return undefined;
  if (
    !optStr(v.request_id, 128) ||
    !optStr(v.trace_id, 128) ||
    !optStr(v.span_id, 64) ||
    !optStr(v.job_id, 128)
  ) {
    return undefined;
  }
  return clean(v, CORRELATION);
}

function metadata(v: unknown): Obj | undefined {
  if (v === undefined) return { safe_fields_only: true, details: {} };
  if (!isObj(v) || !onlyKeys(v, METADATA_KEYS)) return undefined;
  if (v.safe_fields_only !== undefined && v.safe_fields_only !== true) return undefined;
  const details = v.details ?? {};
  if (!isObj(details)) return undefined;
  for (const k in details) {
    const d = details[k];
    if (
      k === '__proto__' ||
      k.length > 256 ||
      !(typeof d === 'string' || typeof d === 'boolean' || finite(d))
    )
      return undefined;
  }
  const out: Obj = { safe_fields_only: true, details: { ...details } };
  if (v.redacted !== undefined) {
    if (!Array.isArray(v.redacted) || !v.redacted.every((r) => typeof r === 'string')) return undefined;
    out.redacted = [...v.redacted];
  }
  return out;
}

function usage(v: unknown): Obj | undefined {
  if (!isObj(v) || !onlyKeys(v, USAGE_KEYS)) return undefined;
  for (const k of ['feature', 'tool', 'capability', 'provider', 'workspace_id'])
    if (!optStr(v[k], 256)) return undefined;
  const count = v.count ?? 1;
  const outcome = v.outcome ?? 'ok';
  const rate = v.sample_rate ?? 1;
  if (
    !finite(count) ||
    count < 0 ||
    !OUTCOMES.has(outcome as string) ||
    !finite(rate) ||
    rate <= 0 ||
    rate > 1
  )
    return undefined;
  if (v.latency_ms !== undefined && (!finite(v.latency_ms) || v.latency_ms < 0)) return undefined;
  const out = pick(v, USAGE);
  out.count = count;
  out.outcome = outcome;
  out.sample_rate = rate;
  if (v.tokens !== undefined) {
    const t = v.tokens;
    if (!isObj(t) || !onlyKeys(t, TOKENS_KEYS)) return undefined;
    for (const k of TOKENS) {
      const n = t[k];
      if (n !== undefined && !(Number.isSafeInteger(n) && (n as number) >= 0)) return undefined;
    }
    out.tokens = pick(t, TOKENS);
  }
  // Re-order to the schema's key order, as zod's output has it.
  return pick(out, USAGE);
}

// Producers often stamp a whole batch with one time, and OTLP mapping produces the same
// string for records of one millisecond: one remembered answer skips the regex and the Date.
let lastTimeIn: string | undefined;
let lastTimeOut = '';

const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function time(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  if (v === lastTimeIn) return lastTimeOut;
  // Receivers that map from epoch times (OTLP) already produce the canonical form: a date
  // that survives the round trip unchanged is valid, and is its own normalisation.
  if (v.length === 24 && CANONICAL.test(v)) {
    const ms = Date.parse(v);
    if (!Number.isNaN(ms) && new Date(ms).toISOString() === v) return v;
  }
  if (!DATETIME.test(v)) return undefined;
  const out = new Date(v).toISOString();
  lastTimeIn = v;
  lastTimeOut = out;
  return out;
}

/** The normalised event when `input` is certainly valid; undefined when zod must decide. */
export function fastParseEvent(input: unknown, now: Date, recorded: string): Event | undefined {
  if (!isObj(input) || !onlyKeys(input, TOP_KEYS) || input.integrity !== undefined) return undefined;
  const cls = input.event_type;
  if (cls !== 'activity' && cls !== 'audit') return undefined;
  if (input.event_id !== undefined && !(typeof input.event_id === 'string' && UUID.test(input.event_id)))
    return undefined;
  const a = actor(input.actor);
  const t = tenant(input.tenant);
  if (!a || !t) return undefined;
  const e = input.entity === undefined ? undefined : entity(input.entity);
  if (input.entity !== undefined && !e) return undefined;
  if (!str(input.action, 0, 128) || !SNAKE_CASE.test(input.action)) return undefined;
  if (input.result !== undefined && !RESULTS.has(input.result as string)) return undefined;
  if (!optStr(input.reason, 256)) return undefined;
  if (cls === 'audit' && (!e || input.result === undefined)) return undefined;
  const c = correlation(input.correlation);
  const m = metadata(input.metadata);
  if (!c || !m) return undefined;
  const u = input.usage === undefined ? undefined : usage(input.usage);
  if (input.usage !== undefined && !u) return undefined;
  let occurred = recorded;
  if (input.occurred_at !== undefined) {
    const o = time(input.occurred_at);
    if (o === undefined) return undefined;
    occurred = o;
  }
  if (input.recorded_at !== undefined && time(input.recorded_at) === undefined) return undefined;

  const event: Obj = {
    event_id: (input.event_id as string | undefined)?.toLowerCase() ?? uuidv7(now.getTime()),
    occurred_at: occurred,
    recorded_at: recorded,
    result: (input.result as string | undefined) ?? 'success',
    event_type: cls,
    actor: a,
    tenant: t,
  };
  if (e) event.entity = e;
  event.action = input.action;
  if (input.reason !== undefined) event.reason = input.reason;
  event.correlation = c;
  event.metadata = m;
  if (u) event.usage = u;
  return event as unknown as Event;
}
