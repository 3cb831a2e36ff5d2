import {
  accept,
  envelope,
  type MapContext,
  type MapResult,
  NO_ACTOR,
  newResult,
  reject,
  toAction,
} from './map-common.ts';
import type { Span } from './model.ts';
import { recordFields } from './record-fields.ts';

/**
 * Spans → usage events (README.md has the table): one event per span, named by its
 * `event.name` attribute or else the span name, with `usage.latency_ms` its duration and
 * `usage.outcome`/`result` from its status (ERROR → error/failure).
 */

/** Status.code ERROR. */
const STATUS_ERROR = 2;

/** Maps decoded spans to usage events, collecting the spans that are not valid events. */
export function mapTraces(spans: readonly Span[], ctx: MapContext): MapResult {
  const result = newResult();
  const label = (i: number) => `span ${i} ("${spans[i]!.name}")`;
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    const failed = s.statusCode === STATUS_ERROR;
    const extra: Record<string, string> = {};
    if (s.parentSpanId) extra['span.parent_id'] = s.parentSpanId;
    if (failed && s.statusMessage) extra['status.message'] = s.statusMessage;
    const fields = recordFields(s.attributes, s.origin.resource, ctx, s.traceId, s.spanId, extra);
    const named = fields.eventName;
    const action = toAction(typeof named === 'string' ? named : s.name);
    if (action === '') {
      reject(result, `${label(i)}: no action: the span has no name and no event.name attribute`);
      continue;
    }
    if (!fields.actor) {
      reject(result, `${label(i)}: ${NO_ACTOR}`);
      continue;
    }
    if (failed && fields.result === undefined) fields.result = 'failure';
    fields.usage ??= {};
    const usage = fields.usage;
    if (s.endMs > 0 && s.startMs > 0) usage.latency_ms = durationMs(s);
    if (failed) usage.outcome = 'error';
    else if (usage.outcome === undefined) usage.outcome = 'ok';
    accept(result, envelope(fields, action, s.startMs), ctx, label, i);
  }
  return result;
}

/** End minus start in milliseconds, from exact millisecond and nanosecond parts. */
function durationMs(s: Span): number {
  return s.endMs - s.startMs + (s.endSubNs - s.startSubNs) / 1e6;
}
