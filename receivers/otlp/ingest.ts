import { BatchReport, type Consumer, type EventBatch, type Settings } from '../../pipeline/component.ts';
import { toPipelineError } from '../../pipeline/errors.ts';
import type { AuthContext } from '../../pipeline/tenants.ts';
import { decodeLogsJson, decodeMetricsJson, decodeTracesJson } from './json-signals.ts';
import type { MapContext, MapResult } from './map-common.ts';
import { mapLogs } from './map-logs.ts';
import { mapMetrics } from './map-metrics.ts';
import { mapTraces } from './map-traces.ts';
import type { Signal } from './model.ts';
import { decodeLogsProto } from './proto-logs.ts';
import { decodeMetricsProto } from './proto-metrics.ts';
import { decodeTracesProto } from './proto-traces.ts';
import type { Encoding } from './response.ts';

/**
 * One export request, whatever the transport: decode, map to envelopes, hand the batch to the
 * pipelines and wait until every exporter took it (DESIGN §6), then say what was rejected —
 * by the mapping and downstream — so the transport can answer with partial success.
 */

/** What became of an export request that was decoded and consumed. */
export interface IngestOutcome {
  /** Records rejected (invalid, or refused by a processor or exporter). */
  rejected: number;
  /** Empty when nothing was rejected; otherwise the reasons, for `partial_success.error_message`. */
  message: string;
}

type Decode = (body: Buffer) => unknown[];
type MapFn = (records: never[], ctx: MapContext) => MapResult;

const SIGNALS: Record<Signal, { proto: Decode; json: Decode; map: MapFn; noun: string }> = {
  logs: { proto: decodeLogsProto, json: decodeLogsJson, map: mapLogs as MapFn, noun: 'log records' },
  metrics: {
    proto: decodeMetricsProto,
    json: decodeMetricsJson,
    map: mapMetrics as MapFn,
    noun: 'data points',
  },
  traces: { proto: decodeTracesProto, json: decodeTracesJson, map: mapTraces as MapFn, noun: 'spans' },
};

/** Decodes, maps and consumes one export request; throws PipelineErrors for the transport to answer. */
export class Ingest {
  private readonly settings: Settings;
  private readonly next: Consumer;

  constructor(settings: Settings, next: Consumer) {
    this.settings = settings;
    this.next = next;
  }

  /** Handles one request of `signal` from `auth`; resolves once the pipelines took the batch. */
  async export(
    signal: Signal,
    body: Buffer,
    encoding: Encoding,
    auth: AuthContext,
    transport: string,
  ): Promise<IngestOutcome> {
    const s = SIGNALS[signal];
    const { receiverAccepted, receiverRefused } = this.settings.telemetry;
    const receiver = this.settings.id;
    let records: unknown[];
    try {
      records = encoding === 'protobuf' ? s.proto(body) : s.json(body);
    } catch (err) {
      receiverRefused.inc({ receiver, transport, reason: 'undecodable' });
      throw toPipelineError(err, 'invalid_request');
    }
    const mapped = s.map(records as never[], { auth, now: new Date() });
    if (mapped.rejected > 0)
      receiverRefused.inc({ receiver, transport, reason: 'invalid_event' }, mapped.rejected);
    const reasons = mapped.reasons;
    let rejected = mapped.rejected;
    if (mapped.events.length > 0) {
      const batch: EventBatch = {
        events: mapped.events,
        auth,
        source: { receiver, transport },
        report: new BatchReport(),
      };
      if (mapped.skipped > 0) batch.report.drop('no_recorded_value', mapped.skipped);
      try {
        await this.next.consume(batch);
      } catch (err) {
        const e = toPipelineError(err);
        receiverRefused.inc({ receiver, transport, reason: e.code }, mapped.events.length);
        throw e;
      }
      // An event fed to several pipelines may be rejected by more than one: count it once.
      const seen = new Set<string>();
      for (const r of batch.report.rejected) {
        if (seen.has(r.event_id)) continue;
        seen.add(r.event_id);
        if (reasons.length < 5) reasons.push(`event ${r.event_id}: ${r.code}: ${r.message}`);
        receiverRefused.inc({ receiver, transport, reason: r.code });
      }
      rejected += seen.size;
      receiverAccepted.inc({ receiver, transport }, mapped.events.length - seen.size);
    }
    if (rejected === 0) return { rejected: 0, message: '' };
    const total = records.length - mapped.skipped;
    const more = rejected > reasons.length ? ` (and ${rejected - reasons.length} more)` : '';
    return { rejected, message: `${rejected} of ${total} ${s.noun} rejected: ${reasons.join('; ')}${more}` };
  }
}
