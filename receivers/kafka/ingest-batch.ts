import type { Logger } from 'pino';
import { BatchReport, type Consumer } from '../../pipeline/component.ts';
import { isRetryable, toPipelineError } from '../../pipeline/errors.ts';
import type { Event } from '../../pipeline/event.ts';
import type { Telemetry } from '../../pipeline/telemetry.ts';
import type { AuthContext } from '../../pipeline/tenants.ts';
import type { Authenticator } from './auth.ts';
import type { FetchedBatch, KafkaProducer } from './client.ts';
import { deadLetterRecord } from './dead-letter.ts';
import type { DecodedRecord, RecordLayout, RecordPosition, Refusal } from './decode.ts';
import type { KafkaReceiverMetrics } from './metrics.ts';

/**
 * Takes one fetched partition batch through the pipelines: authenticate and decode every
 * record, hand the events to the pipelines grouped by sender, retry (with the partition
 * paused) while the answer is retryable, and dead-letter everything refused. It resolves once
 * every record is durably accepted or dead-lettered: only then may its offsets be committed.
 */

/** Decodes one record's value for a sender. */
export type RecordDecoder = (
  value: Buffer | null,
  pos: RecordPosition,
  now: Date,
  auth: AuthContext,
) => DecodedRecord;

/** What ingestBatch needs from the receiver. */
export interface IngestContext {
  receiver: string;
  next: Consumer;
  authenticate: Authenticator;
  decode: RecordDecoder;
  producer: KafkaProducer;
  deadLetterTopic: (topic: string) => string;
  /** Header never copied to a dead-letter record (the bearer token). */
  secretHeader: string | undefined;
  retry: { initial_interval_ms: number; max_interval_ms: number };
  telemetry: Telemetry;
  metrics: KafkaReceiverMetrics;
  logger: Logger;
}

/** The partition's side of a batch: abandonment (revoked, shutdown) and pausing while retrying. */
export interface PartitionControl {
  signal: AbortSignal;
  retrying(on: boolean): void;
}

/** Thrown when a batch's partition was revoked or the receiver stopped: nothing of it is committed. */
export class Abandoned extends Error {
  constructor() {
    super('abandoned: the partition was revoked or the receiver stopped');
    this.name = 'Abandoned';
  }
}

interface Group {
  auth: AuthContext;
  /** Indexes of the batch's records this sender wrote. */
  records: number[];
  events: Event[];
}

interface Origin {
  record: number;
  index: number;
  layout: RecordLayout;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The JSON of one element of a record holding an array (the rare dead-letter path only). */
function elementValue(value: Buffer | null, index: number): Buffer | undefined {
  try {
    const items = JSON.parse(value?.toString('utf8') ?? 'null') as unknown[];
    return Buffer.from(JSON.stringify(items[index]));
  } catch {
    return undefined;
  }
}

/** Ingests one fetched batch; throws Abandoned when the partition is given up. */
export async function ingestBatch(
  ctx: IngestContext,
  batch: FetchedBatch,
  part: PartitionControl,
): Promise<void> {
  const { topic, partition, messages } = batch;
  const refusals: { record: number; refusal: Refusal }[] = [];
  const groups = new Map<string, Group>();
  const origins = new Map<string, Origin>();
  let now = new Date();
  let retrying = false;
  let interval = ctx.retry.initial_interval_ms;

  const decodeRecord = (i: number, auth: AuthContext) =>
    ctx.decode(messages[i]!.value, { topic, partition, offset: messages[i]!.offset }, now, auth);

  for (let i = 0; i < messages.length; i++) {
    const a = ctx.authenticate(messages[i]!.headers);
    if (!a.ok) {
      refusals.push({
        record: i,
        refusal: { index: undefined, code: a.code, message: a.message, value: undefined },
      });
      continue;
    }
    const d = decodeRecord(i, a.auth);
    for (const refusal of d.refusals) refusals.push({ record: i, refusal });
    if (d.events.length === 0) continue;
    const key = `${a.auth.tenantId}\0${a.auth.keyId}`;
    let g = groups.get(key);
    if (!g) {
      g = { auth: a.auth, records: [], events: [] };
      groups.set(key, g);
    }
    g.records.push(i);
    for (let j = 0; j < d.events.length; j++) {
      g.events.push(d.events[j]!);
      origins.set(d.events[j]!.event_id, { record: i, index: d.indexes[j]!, layout: d.layout });
    }
  }

  /** Waits out a retryable failure with the partition paused; throws Abandoned when given up. */
  const backoff = async (what: string, err: unknown, retryAfter?: number) => {
    if (part.signal.aborted) throw new Abandoned();
    if (!retrying) {
      retrying = true;
      part.retrying(true);
      ctx.logger.warn(
        { topic, partition, err: toPipelineError(err).message },
        `${what} failed; partition paused, retrying`,
      );
    }
    ctx.metrics.retries.inc({ receiver: ctx.receiver });
    const wait = Math.max(retryAfter ? retryAfter * 1000 : 0, interval * (0.5 + Math.random() / 2));
    interval = Math.min(interval * 2, ctx.retry.max_interval_ms);
    await sleep(wait, part.signal);
    if (part.signal.aborted) throw new Abandoned();
  };

  let accepted = 0;
  const consumeGroup = async (g: Group) => {
    let events = g.events;
    for (;;) {
      const report = new BatchReport();
      try {
        await ctx.next.consume({
          events,
          auth: g.auth,
          source: { receiver: ctx.receiver, transport: 'kafka' },
          report,
        });
      } catch (err) {
        if (!isRetryable(err)) {
          const e = toPipelineError(err);
          for (const record of g.records) {
            refusals.push({
              record,
              refusal: { index: undefined, code: e.code, message: e.message, value: undefined },
            });
          }
          return;
        }
        await backoff('handing the batch to the pipelines', err, toPipelineError(err).retryAfter);
        // Processors may have rewritten the events in place: decode them afresh for the retry.
        now = new Date();
        events = g.records.flatMap((i) => decodeRecord(i, g.auth).events);
        continue;
      }
      const seen = new Set<string>();
      for (const r of report.rejected) {
        if (seen.has(r.event_id)) continue;
        seen.add(r.event_id);
        const o = origins.get(r.event_id);
        if (!o) {
          ctx.logger.error(
            { topic, partition, event_id: r.event_id, code: r.code },
            'a refused event has no source record',
          );
          continue;
        }
        const value =
          o.layout === 'json_array' ? elementValue(messages[o.record]!.value, o.index) : undefined;
        const index = o.layout === 'single' ? undefined : o.index;
        refusals.push({ record: o.record, refusal: { index, code: r.code, message: r.message, value } });
      }
      accepted += events.length - seen.size;
      return;
    }
  };

  try {
    await Promise.all([...groups.values()].map(consumeGroup));
    if (accepted > 0)
      ctx.telemetry.receiverAccepted.inc({ receiver: ctx.receiver, transport: 'kafka' }, accepted);
    if (refusals.length === 0) return;

    const records = refusals.map((r) =>
      deadLetterRecord(
        ctx.receiver,
        { topic, partition, message: messages[r.record]! },
        r.refusal,
        ctx.secretHeader,
      ),
    );
    const dlq = ctx.deadLetterTopic(topic);
    for (;;) {
      try {
        await ctx.producer.send(dlq, records);
        break;
      } catch (err) {
        await backoff(`writing to dead-letter topic ${dlq}`, err);
      }
    }
    for (const { refusal } of refusals) {
      ctx.metrics.deadLettered.inc({ receiver: ctx.receiver, code: refusal.code });
      ctx.telemetry.receiverRefused.inc({ receiver: ctx.receiver, transport: 'kafka', reason: refusal.code });
    }
    ctx.logger.info(
      { topic, partition, dead_letter_topic: dlq, records: records.length },
      'dead-lettered refused records',
    );
  } finally {
    if (retrying) part.retrying(false);
  }
}
