import { BatchReport } from '../../pipeline/component.ts';
import type { ErrorCode } from '../../pipeline/errors.ts';
import type { Event } from '../../pipeline/event.ts';

/**
 * The report of a merged batch. Its events came from several requests, each with its own
 * report that its receiver reads; a rejection downstream is passed to the report of the
 * request the event came from. Drops carry only a count, so they go to the first request's
 * report: put `batch` after any processor that drops (sampling), as the Collector does.
 */
export class RoutingReport extends BatchReport {
  private readonly events: readonly Event[];
  private readonly owners: readonly BatchReport[];

  /** `owners[i]` is the report of the request `events[i]` came from. */
  constructor(events: readonly Event[], owners: readonly BatchReport[]) {
    super();
    this.events = events;
    this.owners = owners;
  }

  override reject(event: Pick<Event, 'event_id'>, code: ErrorCode, message: string): void {
    super.reject(event, code, message);
    const seen = new Set<BatchReport>();
    for (let i = 0; i < this.events.length; i++) {
      const owner = this.owners[i]!;
      if ((this.events[i] === event || this.events[i]!.event_id === event.event_id) && !seen.has(owner)) {
        seen.add(owner);
        owner.reject(event, code, message);
      }
    }
  }

  override drop(reason: string, n = 1): void {
    super.drop(reason, n);
    this.owners[0]?.drop(reason, n);
  }
}
