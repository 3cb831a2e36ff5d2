import { type Consumer, type EventBatch, withEvents } from './component.ts';
import type { Event, EventClass } from './event.ts';
import type { Telemetry } from './telemetry.ts';

/**
 * What a receiver hands its batches to: splits events by class (activity, audit) and feeds each
 * to every pipeline of that class the receiver is in. Events of a class no pipeline takes are
 * rejected with a reason, never silently dropped.
 */
export class Router implements Consumer {
  private readonly byClass: ReadonlyMap<EventClass, readonly Consumer[]>;
  private readonly receiver: string;
  private readonly telemetry: Telemetry | undefined;

  constructor(
    receiver: string,
    byClass: ReadonlyMap<EventClass, readonly Consumer[]>,
    telemetry?: Telemetry,
  ) {
    this.receiver = receiver;
    this.byClass = byClass;
    this.telemetry = telemetry;
  }

  async consume(batch: EventBatch): Promise<void> {
    const events = batch.events;
    if (events.length === 0) return;
    const first = events[0]!.event_type;
    let single = true;
    for (let i = 1; i < events.length && single; i++) single = events[i]!.event_type === first;
    if (single) return this.feed(first, batch);
    const split = new Map<EventClass, Event[]>();
    for (const e of events) {
      const list = split.get(e.event_type);
      if (list) list.push(e);
      else split.set(e.event_type, [e]);
    }
    await Promise.all([...split].map(([cls, list]) => this.feed(cls, withEvents(batch, list))));
  }

  private async feed(cls: EventClass, batch: EventBatch): Promise<void> {
    const pipelines = this.byClass.get(cls);
    if (!pipelines || pipelines.length === 0) {
      const message = `no ${cls} pipeline takes events from receiver ${this.receiver}`;
      for (const e of batch.events) batch.report.reject(e, 'invalid_event', message);
      this.telemetry?.receiverRefused.inc(
        { receiver: batch.source.receiver, transport: batch.source.transport, reason: 'no_pipeline' },
        batch.events.length,
      );
      return;
    }
    if (pipelines.length === 1) return pipelines[0]!.consume(batch);
    // Each pipeline gets its own copy: processors of one must not see another's rewrites.
    await Promise.all(pipelines.map((p) => p.consume(withEvents(batch, structuredClone(batch.events)))));
  }
}
