import { Counter } from 'prom-client';
import {
  type BatchReport,
  type EventBatch,
  type Host,
  type Processor,
  type ProcessorFactory,
  type Settings,
  withEvents,
} from '../../pipeline/component.ts';
import type { Event } from '../../pipeline/event.ts';
import { type TenantValidationConfig, tenantValidationConfigSchema } from './config.ts';
import { normalizeSlug, REJECTION_MESSAGES, TenantChecker, type TenantRejection } from './tenant-check.ts';
import { ViolationSink, violationEvent } from './violations.ts';

/**
 * The tenant_validation processor: events whose `tenant.id` the caller may not write are
 * rejected back to the receiver (partial success, 400, dead letter), counted by reason, and
 * recorded as `tenant_tag_violation` audit events of the caller's own tenant.
 */

const FAILED_NAME = 'ledgerline_tenant_violation_audit_failed_total';

// Per request (its report is shared by every fork of its batch): event ids already rejected.
const rejectedByReport = new WeakMap<BatchReport, Set<string>>();

/** True when another instance already rejected this event of the request; marks it otherwise. */
function alreadyRejected(report: BatchReport, eventId: string): boolean {
  let ids = rejectedByReport.get(report);
  if (!ids) {
    ids = new Set();
    rejectedByReport.set(report, ids);
  }
  if (ids.has(eventId)) return true;
  ids.add(eventId);
  return false;
}

function failedCounter(settings: Settings): Counter<'processor'> {
  const existing = settings.telemetry.registry.getSingleMetric(FAILED_NAME);
  if (existing) return existing as Counter<'processor'>;
  return new Counter({
    name: FAILED_NAME,
    help: 'tenant_tag_violation audit events that could not be ingested.',
    labelNames: ['processor'],
    registers: [settings.telemetry.registry],
  });
}

class TenantValidationProcessor implements Processor {
  private readonly settings: Settings;
  private readonly config: TenantValidationConfig;
  private readonly checker: TenantChecker;
  private readonly sink: ViolationSink;

  constructor(settings: Settings, config: TenantValidationConfig) {
    this.settings = settings;
    this.config = config;
    this.checker = new TenantChecker(settings.tenants);
    this.sink = new ViolationSink(
      settings.id,
      config.max_pending_violation_batches,
      settings.logger,
      failedCounter(settings),
    );
  }

  async start(host: Host): Promise<void> {
    this.sink.attach(host);
  }

  async shutdown(): Promise<void> {
    await this.sink.drain();
  }

  process(batch: EventBatch): EventBatch | Promise<EventBatch> {
    const { events, auth } = batch;
    let kept: Event[] | undefined;
    let violations: Event[] | undefined;
    let reasons: Map<TenantRejection, number> | undefined;
    const now = new Date();
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const reason = this.checker.check(e.tenant?.id, auth);
      if (reason === undefined) {
        const out = this.slug(e);
        if (!kept && out !== e) kept = events.slice(0, i);
        kept?.push(out);
        continue;
      }
      kept ??= events.slice(0, i);
      // The same request may run through several pipelines of a class (activity and
      // activity/raw), each with its own instance: reject, count and audit it once.
      if (alreadyRejected(batch.report, e.event_id)) continue;
      batch.report.reject(e, 'tenant_rejected', REJECTION_MESSAGES[reason]);
      reasons ??= new Map();
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      if (this.config.audit_violations) {
        violations ??= [];
        violations.push(violationEvent(auth, e.tenant?.id, reason, e, batch.source, now));
      }
    }
    if (reasons) {
      for (const [reason, n] of reasons) {
        this.settings.telemetry.processorDropped.inc(
          { processor: this.settings.id, reason: `tenant_${reason}` },
          n,
        );
      }
    }
    const out = kept ? withEvents(batch, kept) : batch;
    if (!violations) return out;
    return this.sink.emit(violations, auth).then(() => out);
  }

  /** The event with its slug in canonical form (copy-on-write). */
  private slug(e: Event): Event {
    const slug = e.tenant.slug;
    if (slug === undefined || this.config.slug === 'keep') return e;
    const configured =
      this.config.slug === 'registry' ? this.settings.tenants.tenants.get(e.tenant.id)?.slug : undefined;
    const next = configured ?? normalizeSlug(slug);
    if (next === slug) return e;
    const tenant = next === undefined ? { id: e.tenant.id } : { id: e.tenant.id, slug: next };
    return { ...e, tenant };
  }
}

/** The `tenant_validation` processor factory. */
export const tenantValidationFactory: ProcessorFactory<TenantValidationConfig> = {
  type: 'tenant_validation',
  kind: 'processor',
  description:
    'Rejects events whose tenant.id is missing, unknown, suspended, disguised (case, whitespace, Unicode look-alikes) or not the caller’s, and audits each attempt.',
  configSchema: tenantValidationConfigSchema,
  create: (settings, config) => new TenantValidationProcessor(settings, config),
};
