import { z } from 'zod';
import { fastParseEvent } from './event-fast.ts';
import { uuidv7 } from './uuid.ts';

/**
 * The event envelope (DESIGN §3, seed 003) with the usage block of seeds 000/001/002.
 * Receivers turn whatever arrives into this shape with `parseEvent`; everything downstream
 * works on the parsed, normalised `Event`.
 */

const SNAKE_CASE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

/** RFC 3339 with an offset (or Z), normalised to UTC with millisecond precision. */
export const timestamp = z
  .string()
  .refine((s) => z.iso.datetime({ offset: true }).safeParse(s).success, {
    message: 'must be an RFC 3339 timestamp with a time zone, e.g. 2026-01-02T03:04:05Z',
  })
  .transform((s) => new Date(s).toISOString());

const scalar = z.union([z.string(), z.number().finite(), z.boolean()]);

/** Who acted. */
export const actorSchema = z.strictObject({
  type: z.enum(['user', 'service', 'system']),
  id: z.string().min(1).max(256),
  role: z.string().max(256).optional(),
  ip: z.string().max(256).optional(),
  user_agent: z.string().max(1024).optional(),
});

/** Which tenant the event belongs to; validated against the authenticated tenant later. */
export const tenantSchema = z.strictObject({
  id: z.string().min(1).max(128),
  slug: z.string().max(128).optional(),
});

/** The target of the action. */
export const entitySchema = z.strictObject({
  type: z.string().min(1).max(128),
  id: z.string().min(1).max(256),
  version: z.string().max(128).optional(),
});

/** Ids that link the event to requests, traces and jobs. */
export const correlationSchema = z.strictObject({
  request_id: z.string().max(128).optional(),
  trace_id: z.string().max(128).optional(),
  span_id: z.string().max(64).optional(),
  job_id: z.string().max(128).optional(),
});

/** Domain details; only scalar values, and only fields that are safe to keep. */
export const metadataSchema = z.strictObject({
  safe_fields_only: z.literal(true).default(true),
  details: z.record(z.string().max(256), scalar).default({}),
  /** Paths that the redaction processor removed or rewrote (names only, never values). */
  redacted: z.array(z.string()).optional(),
});

/** Hash chain fields; only the ledger exporter sets them. */
export const integritySchema = z.strictObject({
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  prev_hash: z.string().regex(/^[0-9a-f]{64}$/),
});

/** Usage telemetry: seeds 000 (usage_events row), 001 (event types) and 002 (AI capability). */
export const usageSchema = z.strictObject({
  feature: z.string().max(256).optional(),
  tool: z.string().max(256).optional(),
  capability: z.string().max(256).optional(),
  provider: z.string().max(256).optional(),
  workspace_id: z.string().max(256).optional(),
  count: z.number().finite().nonnegative().default(1),
  latency_ms: z.number().finite().nonnegative().optional(),
  outcome: z.enum(['ok', 'warn', 'error']).default('ok'),
  sample_rate: z.number().gt(0).lte(1).default(1),
  tokens: z
    .strictObject({
      input: z.number().int().nonnegative().optional(),
      output: z.number().int().nonnegative().optional(),
    })
    .optional(),
});

/** The envelope as producers send it; `parseEvent` fills ids, timestamps and defaults. */
export const eventSchema = z
  .strictObject({
    event_id: z.uuid().optional(),
    event_type: z.enum(['activity', 'audit']),
    occurred_at: timestamp.optional(),
    recorded_at: timestamp.optional(),
    actor: actorSchema,
    tenant: tenantSchema,
    entity: entitySchema.optional(),
    action: z.string().max(128).regex(SNAKE_CASE, 'must be a snake_case verb, e.g. policy_acknowledged'),
    result: z.enum(['success', 'failure', 'denied', 'pending']).optional(),
    reason: z.string().max(256).optional(),
    correlation: correlationSchema.default({}),
    metadata: metadataSchema.default({ safe_fields_only: true, details: {} }),
    integrity: integritySchema.optional(),
    usage: usageSchema.optional(),
  })
  .superRefine((e, ctx) => {
    if (e.integrity) {
      ctx.addIssue({ code: 'custom', path: ['integrity'], message: 'is set by the ledger exporter only' });
    }
    if (e.event_type !== 'audit') return;
    // Audit events are strictly scoped: target entity and decision are part of the record.
    if (!e.entity)
      ctx.addIssue({ code: 'custom', path: ['entity'], message: 'is required for audit events' });
    if (!e.result)
      ctx.addIssue({ code: 'custom', path: ['result'], message: 'is required for audit events' });
  });

type ParsedInput = z.output<typeof eventSchema>;

/** A parsed, normalised event: ids and timestamps are always present. */
export type Event = Omit<ParsedInput, 'event_id' | 'occurred_at' | 'recorded_at' | 'result'> & {
  event_id: string;
  occurred_at: string;
  recorded_at: string;
  result: 'success' | 'failure' | 'denied' | 'pending';
};

/** The class an event belongs to; pipelines are keyed by it. */
export type EventClass = Event['event_type'];

/** One reason an input is not a valid event: the field path and what is wrong with it. */
export interface FieldError {
  path: string;
  message: string;
}

/** Result of parsing one input into an event. */
export type ParseResult = { ok: true; event: Event } | { ok: false; errors: FieldError[] };

/** Formats a zod issue path as a dotted field path (`actor.id`, `events[3].tenant`). */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out || '(root)';
}

/** Turns zod issues into field errors in the user's words. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ path: formatPath([...issue.path, key]), message: 'unknown field' });
    } else if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) {
      out.push({ path: formatPath(issue.path), message: 'is required' });
    } else {
      out.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return out;
}

let lastNow: Date | undefined;
let lastIso = '';
/** `now.toISOString()`, once per batch: receivers pass the same Date for every event of one. */
function isoOf(now: Date): string {
  if (now !== lastNow) {
    lastNow = now;
    lastIso = now.toISOString();
  }
  return lastIso;
}

/**
 * Validates one input and normalises it: a uuid v7 `event_id` if none was given (a given one is
 * lowered), `recorded_at` set to `now` (the receiver's clock), `occurred_at` defaulting to it,
 * UTC timestamps.
 */
export function parseEvent(input: unknown, now: Date = new Date()): ParseResult {
  const recorded = isoOf(now);
  const fast = fastParseEvent(input, now, recorded);
  if (fast) return { ok: true, event: fast };
  const parsed = eventSchema.safeParse(input);
  if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error) };
  const e = parsed.data;
  // Field order is kept stable (ids and times first) so NDJSON output reads well.
  const { event_id, occurred_at, result, ...rest } = e;
  const event: Event = {
    // One spelling per id (RFC 9562 prints lower case): replays are recognised by exact match
    // everywhere (ledger, Postgres, Kafka), and Postgres returns uuids in lower case.
    event_id: event_id?.toLowerCase() ?? uuidv7(now.getTime()),
    occurred_at: occurred_at ?? recorded,
    recorded_at: recorded,
    result: result ?? 'success',
    ...rest,
  };
  event.recorded_at = recorded;
  return { ok: true, event };
}
