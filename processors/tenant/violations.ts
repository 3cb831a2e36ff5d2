import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { BatchReport, type EventBatch, type Host } from '../../pipeline/component.ts';
import { type Event, parseEvent } from '../../pipeline/event.ts';
import type { AuthContext } from '../../pipeline/tenants.ts';
import type { TenantRejection } from './tenant-check.ts';

/**
 * Security audit events for rejected tenant tags. Each says who tried (the caller's key id,
 * as a service actor), what (the claimed tenant, escaped so invisible characters show), and
 * why; never the event's payload. They go to the audit pipelines of the *authenticated*
 * tenant, whose ledger is the one the caller cannot deny. One ingest per incoming batch,
 * not awaited by the hot path; the number in flight is bounded.
 */

/** The claimed id with non-printable and non-ASCII characters as `\uXXXX`, for forensics. */
export function escapeClaim(id: unknown): string {
  if (typeof id !== 'string' || id === '') return '(missing)';
  let out = '';
  for (const ch of id) {
    const c = ch.codePointAt(0)!;
    out += c >= 0x21 && c <= 0x7e ? ch : `\\u{${c.toString(16)}}`;
  }
  return out.slice(0, 256);
}

/** One `tenant_tag_violation` audit event. */
export function violationEvent(
  auth: AuthContext,
  claimed: unknown,
  reason: TenantRejection,
  rejected: Pick<Event, 'event_id'>,
  source: EventBatch['source'],
  now: Date,
): Event {
  const r = parseEvent(
    {
      event_type: 'audit',
      actor: { type: 'service', id: auth.keyId || 'unknown' },
      tenant: { id: auth.tenantId },
      entity: { type: 'tenant', id: escapeClaim(claimed) },
      action: 'tenant_tag_violation',
      result: 'denied',
      reason,
      metadata: {
        safe_fields_only: true,
        details: {
          rejected_event_id: rejected.event_id,
          receiver: source.receiver,
          transport: source.transport,
        },
      },
    },
    now,
  );
  if (!r.ok) throw new Error(`tenant_tag_violation event is invalid: ${JSON.stringify(r.errors)}`);
  return r.event;
}

/** Sends violation events to the host without holding up the batch that caused them. */
export class ViolationSink {
  private host: Host | undefined;
  private readonly pending = new Set<Promise<void>>();
  private readonly limit: number;
  private readonly logger: Logger;
  private readonly failed: Counter<'processor'>;
  private readonly id: string;

  constructor(id: string, limit: number, logger: Logger, failed: Counter<'processor'>) {
    this.id = id;
    this.limit = limit;
    this.logger = logger;
    this.failed = failed;
  }

  /** Called from `start`: ingest goes through the host. */
  attach(host: Host): void {
    this.host = host;
  }

  /** Starts ingesting; resolves at once unless too many ingests are in flight. */
  async emit(events: Event[], auth: AuthContext): Promise<void> {
    if (!this.host) {
      this.failed.inc({ processor: this.id }, events.length);
      this.logger.warn(
        { count: events.length },
        'tenant_tag_violation events not emitted: processor not started',
      );
      return;
    }
    const batch: EventBatch = {
      events,
      auth,
      source: { receiver: this.id, transport: 'internal' },
      report: new BatchReport(),
    };
    const host = this.host;
    // Through a resolved promise, so that a host throwing synchronously fails this ingest
    // (logged and counted) rather than the batch that caused the violation.
    const p: Promise<void> = Promise.resolve()
      .then(() => host.ingest(batch))
      .then(() => {
        if (batch.report.rejected.length)
          this.fail(batch.report.rejected.length, batch.report.rejected[0]!.message);
      })
      .catch((err: unknown) => this.fail(events.length, err instanceof Error ? err.message : String(err)))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
    if (this.pending.size >= this.limit) await Promise.race(this.pending);
  }

  private fail(n: number, message: string): void {
    this.failed.inc({ processor: this.id }, n);
    this.logger.error({ count: n, error: message }, 'tenant_tag_violation audit events were not recorded');
  }

  /** Waits for every ingest in flight. */
  async drain(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }
}
