import type { Event } from '../../pipeline/event.ts';

/**
 * Events as database rows: usage rows in COPY text format (one string per batch, no
 * per-field allocation beyond the escapes), audit index rows as JSON for jsonb_to_recordset.
 */

/** Columns of usage_events, in COPY order. */
export const USAGE_COLUMNS = [
  'id',
  'occurred_at',
  'recorded_at',
  'tenant_id',
  'actor_id',
  'event_type',
  'feature',
  'tool',
  'capability',
  'provider',
  'workspace_id',
  'count',
  'latency_ms',
  'outcome',
  'sample_rate',
  'tokens_input',
  'tokens_output',
  'source',
  'metadata',
] as const;

const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPES = /[\\\n\r\t]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A text value for COPY's text format; `\N` is NULL. */
export function copyText(v: string | undefined): string {
  if (v === undefined) return '\\N';
  return NEEDS_ESCAPE.test(v) ? v.replace(ESCAPES, (c) => ESCAPED[c]!) : v;
}

function num(v: number | undefined): string {
  return v === undefined ? '\\N' : String(v);
}

/** The usage outcome: the usage block's, else derived from the result. */
export function outcomeOf(e: Event): 'ok' | 'warn' | 'error' {
  if (e.usage) return e.usage.outcome;
  if (e.result === 'failure') return 'error';
  if (e.result === 'denied') return 'warn';
  return 'ok';
}

/** Where an event came from: a `source` detail (seed 001) or else the receiver. */
export function sourceOf(e: Event, receiver: string): string {
  const s = e.metadata.details.source;
  return typeof s === 'string' ? s : receiver;
}

/** What of the envelope is kept in `metadata` (jsonb): safe details and context, never the actor's ip. */
function metadataOf(e: Event): string {
  const m: Record<string, unknown> = { result: e.result, details: e.metadata.details };
  if (e.reason !== undefined) m.reason = e.reason;
  if (e.entity) m.entity = e.entity;
  if (Object.keys(e.correlation).length > 0) m.correlation = e.correlation;
  if (e.metadata.redacted) m.redacted = e.metadata.redacted;
  return JSON.stringify(m);
}

/** One usage row as a COPY text line (with its newline). */
export function usageLine(e: Event, receiver: string): string {
  const u = e.usage;
  return `${e.event_id}\t${e.occurred_at}\t${e.recorded_at}\t${copyText(e.tenant.id)}\t${copyText(e.actor.id)}\t${copyText(e.action)}\t${copyText(u?.feature)}\t${copyText(u?.tool)}\t${copyText(u?.capability)}\t${copyText(u?.provider)}\t${copyText(u?.workspace_id)}\t${num(u?.count ?? 1)}\t${num(u?.latency_ms)}\t${outcomeOf(e)}\t${num(u?.sample_rate ?? 1)}\t${num(u?.tokens?.input)}\t${num(u?.tokens?.output)}\t${copyText(sourceOf(e, receiver))}\t${copyText(metadataOf(e))}\n`;
}

/** One audit index row, for jsonb_to_recordset. */
export interface AuditRow {
  event_id: string;
  tenant_id: string;
  actor_id: string;
  occurred_at: string;
  recorded_at: string;
  action: string;
  result: string;
  entity_type: string | null;
  entity_id: string | null;
}

/** The audit index row of an audit event. */
export function auditRow(e: Event): AuditRow {
  return {
    event_id: e.event_id,
    tenant_id: e.tenant.id,
    actor_id: e.actor.id,
    occurred_at: e.occurred_at,
    recorded_at: e.recorded_at,
    action: e.action,
    result: e.result,
    entity_type: e.entity?.type ?? null,
    entity_id: e.entity?.id ?? null,
  };
}
