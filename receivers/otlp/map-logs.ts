import {
  accept,
  detailValue,
  envelope,
  isoTime,
  type MapContext,
  type MapResult,
  NO_ACTOR,
  newResult,
  reject,
  text,
  toAction,
  toJson,
} from './map-common.ts';
import type { AnyValue, Attributes, LogRecord } from './model.ts';
import { recordFields } from './record-fields.ts';

/**
 * Log records → envelopes (README.md has the table). A record whose body is a map, or a
 * string holding a JSON object, with an `action` or `event_type` key is taken as the
 * envelope itself; the receiver only fills what it leaves out. Any other record is an event
 * described by its attributes, named by `event_name` (or the `event.name` attribute).
 */

/** SeverityNumber from which a record without `ledgerline.result` counts as a failure. */
const SEVERITY_ERROR = 17;

const logLabel = (i: number) => `log record ${i}`;

/** Maps decoded log records to events, collecting the records that are not valid events. */
export function mapLogs(records: readonly LogRecord[], ctx: MapContext): MapResult {
  const result = newResult();
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    const given = bodyEnvelope(rec.body);
    if (given) {
      accept(result, completeEnvelope(given, rec, ctx), ctx, logLabel, i);
      continue;
    }
    const fields = recordFields(
      rec.attributes,
      rec.origin.resource,
      ctx,
      rec.traceId,
      rec.spanId,
      bodyDetail(rec.body),
    );
    const name = rec.eventName || fields.eventName;
    const action = typeof name === 'string' ? toAction(name) : '';
    if (action === '') {
      reject(
        result,
        `${logLabel(i)}: no action: set the record's event_name (or attribute event.name), or send the envelope as the body`,
      );
      continue;
    }
    if (!fields.actor) {
      reject(result, `${logLabel(i)}: ${NO_ACTOR}`);
      continue;
    }
    if (fields.result === undefined && rec.severityNumber >= SEVERITY_ERROR) fields.result = 'failure';
    accept(result, envelope(fields, action, rec.timeMs || rec.observedTimeMs), ctx, logLabel, i);
  }
  return result;
}

/** The body as an envelope, when it is one (a map or JSON object with `action`/`event_type`). */
function bodyEnvelope(body: AnyValue | undefined): Record<string, unknown> | undefined {
  if (body === undefined || body === null) return undefined;
  let candidate: unknown;
  if (typeof body === 'string') {
    if (body.charCodeAt(0) !== 123 /* { */) return undefined;
    try {
      candidate = JSON.parse(body);
    } catch {
      return undefined;
    }
  } else if (typeof body === 'object' && !Array.isArray(body) && !(body instanceof Uint8Array)) {
    if (!('action' in body) && !('event_type' in body)) return undefined;
    candidate = toJson(body);
  } else return undefined;
  if (candidate === null || typeof candidate !== 'object' || Array.isArray(candidate)) return undefined;
  const o = candidate as Record<string, unknown>;
  return 'action' in o || 'event_type' in o ? o : undefined;
}

/** Fills what an envelope body leaves out from the record, its resource and the caller. */
function completeEnvelope(
  e: Record<string, unknown>,
  rec: LogRecord,
  ctx: MapContext,
): Record<string, unknown> {
  const attrs: Attributes = rec.attributes;
  const resource = rec.origin.resource;
  if (e.tenant === undefined) e.tenant = { id: ctx.auth.tenantId };
  if (e.event_type === undefined)
    e.event_type = text(attrs['ledgerline.event_type'] ?? resource['ledgerline.event_type']) ?? 'activity';
  if (e.action === undefined && rec.eventName) e.action = toAction(rec.eventName);
  if (e.occurred_at === undefined) {
    const occurred = isoTime(rec.timeMs || rec.observedTimeMs);
    if (occurred !== undefined) e.occurred_at = occurred;
  }
  if (rec.traceId || rec.spanId) {
    if (e.correlation === undefined) e.correlation = {};
    const c = e.correlation;
    if (c !== null && typeof c === 'object' && !Array.isArray(c)) {
      const corr = c as Record<string, unknown>;
      if (rec.traceId && corr.trace_id === undefined) corr.trace_id = rec.traceId;
      if (rec.spanId && corr.span_id === undefined) corr.span_id = rec.spanId;
    }
  }
  const service = resource['service.name'];
  if (typeof service === 'string') {
    if (e.metadata === undefined) e.metadata = { safe_fields_only: true, details: {} };
    const m = e.metadata as Record<string, unknown> | null;
    if (m !== null && typeof m === 'object' && !Array.isArray(m)) {
      if (m.details === undefined) m.details = {};
      const d = m.details as Record<string, unknown> | null;
      if (d !== null && typeof d === 'object' && !Array.isArray(d) && d['service.name'] === undefined)
        d['service.name'] = service;
    }
  }
  return e;
}

/** A body that is not an envelope is kept as the `body` detail (redaction decides its fate). */
function bodyDetail(body: AnyValue | undefined): Record<string, string | number | boolean> | undefined {
  if (body === undefined || body === null) return undefined;
  const value = detailValue(body);
  return value === undefined ? undefined : { body: value };
}
