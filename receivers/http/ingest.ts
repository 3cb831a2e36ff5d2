import type { IncomingHttpHeaders } from 'node:http';
import { BatchReport, type Consumer } from '../../pipeline/component.ts';
import { PipelineError, toPipelineError } from '../../pipeline/errors.ts';
import { type Event, fieldErrors, parseEvent } from '../../pipeline/event.ts';
import type { ApiRequest, ApiResponse } from '../../pipeline/http-api.ts';
import type { Telemetry } from '../../pipeline/telemetry.ts';
import { derivedEventId, idempotencyKey, withDerivedId } from './idempotency.ts';
import { usageRequestSchema, usageToEnvelope } from './usage-request.ts';

/**
 * The two ingest routes. Both validate everything first (a request with any invalid event is
 * refused whole, with every field error), hand the batch to the pipelines, and answer 202 only
 * after every exporter durably accepted it. With an `Idempotency-Key` header, events sent
 * without an `event_id` get ids derived from it, so a retried request is a replay (idempotency.ts).
 */

/** One field error of one event of a request. */
interface RequestFieldError {
  index: number;
  path: string;
  message: string;
}

/** Refuses a non-JSON content type before the body is read. */
export function requireJsonType(headers: IncomingHttpHeaders): void {
  const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new PipelineError(
      'unsupported_media_type',
      `content-type must be application/json, not "${type || '(none)'}"`,
    );
  }
}

function requireJson(req: ApiRequest): unknown {
  requireJsonType(req.headers);
  try {
    return JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    throw new PipelineError('invalid_request', `the body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Hands validated events to the pipelines and turns the outcome into the answer. */
export class Ingest {
  private readonly receiver: string;
  private readonly next: Consumer;
  private readonly telemetry: Telemetry;
  private readonly maxEvents: number;

  constructor(receiver: string, next: Consumer, telemetry: Telemetry, maxEvents: number) {
    this.receiver = receiver;
    this.next = next;
    this.telemetry = telemetry;
    this.maxEvents = maxEvents;
  }

  /** POST /api/v1/events: one envelope or an array of envelopes. */
  native = async (req: ApiRequest): Promise<ApiResponse> => {
    const body = requireJson(req);
    const items = Array.isArray(body) ? body : [body];
    if (items.length === 0) throw new PipelineError('invalid_request', 'the array holds no events');
    if (items.length > this.maxEvents) {
      throw new PipelineError(
        'payload_too_large',
        `${items.length} events in one request; the limit is ${this.maxEvents}`,
      );
    }
    const key = idempotencyKey(req.headers);
    const tenant = req.auth!.tenantId;
    const now = new Date();
    const events: Event[] = [];
    const errors: RequestFieldError[] = [];
    for (let i = 0; i < items.length; i++) {
      const r = parseEvent(withDerivedId(items[i], tenant, key, i), now);
      if (r.ok) events.push(r.event);
      else for (const e of r.errors) errors.push({ index: i, path: e.path, message: e.message });
    }
    if (errors.length > 0) this.refuse(items.length, 'invalid_event');
    if (errors.length > 0) {
      const bad = new Set(errors.map((e) => e.index)).size;
      throw new PipelineError(
        'invalid_event',
        `${bad} of ${items.length} events are not valid; none was accepted`,
        { details: errors },
      );
    }
    return this.submit(events, req);
  };

  /** POST /api/v1/usage/events: seed 001's UsageEventRequest. */
  usage = async (req: ApiRequest): Promise<ApiResponse> => {
    const body = requireJson(req);
    const parsed = usageRequestSchema.safeParse(body);
    if (!parsed.success) {
      this.refuse(1, 'invalid_event');
      throw new PipelineError('invalid_event', 'the usage event is not valid', {
        details: fieldErrors(parsed.error),
      });
    }
    const key = idempotencyKey(req.headers);
    const envelope = usageToEnvelope(parsed.data, req.auth!);
    if (key !== undefined) envelope.event_id = derivedEventId(req.auth!.tenantId, key, 0, body);
    const r = parseEvent(envelope);
    if (!r.ok) {
      this.refuse(1, 'invalid_event');
      throw new PipelineError('invalid_event', 'the usage event is not valid', { details: r.errors });
    }
    return this.submit([r.event], req);
  };

  private refuse(n: number, reason: string): void {
    this.telemetry.receiverRefused.inc({ receiver: this.receiver, transport: 'http', reason }, n);
  }

  private async submit(events: Event[], req: ApiRequest): Promise<ApiResponse> {
    const report = new BatchReport();
    try {
      await this.next.consume({
        events,
        auth: req.auth!,
        source: { receiver: this.receiver, transport: 'http' },
        report,
      });
    } catch (err) {
      this.refuse(events.length, toPipelineError(err).code);
      throw err;
    }
    const rejectedIds = new Set(report.rejected.map((r) => r.event_id));
    const accepted = events.length - rejectedIds.size;
    if (accepted > 0)
      this.telemetry.receiverAccepted.inc({ receiver: this.receiver, transport: 'http' }, accepted);
    if (rejectedIds.size > 0) this.refuse(rejectedIds.size, report.rejected[0]!.code);
    const index = new Map(events.map((e, i) => [e.event_id, i]));
    const rejected = report.rejected.map((r) => ({ index: index.get(r.event_id), ...r }));
    if (accepted === 0) {
      throw new PipelineError(report.rejected[0]!.code, 'every event of the request was rejected', {
        details: rejected,
      });
    }
    const body: Record<string, unknown> = {
      status: 'accepted',
      accepted,
      event_ids: events.filter((e) => !rejectedIds.has(e.event_id)).map((e) => e.event_id),
    };
    if (rejected.length > 0) body.rejected = rejected;
    return { status: 202, body };
  }
}
