/**
 * Which offset of one partition may be committed. Fetched record ranges ("units") complete out
 * of order; the committable offset is the start of the oldest unit still in flight, or, with
 * none in flight, one past the highest completed record. It never passes a record whose events
 * are not yet durably accepted (or dead-lettered), so a crash replays rather than loses.
 *
 * Ranges may overlap: after a rebalance the client fetches again from the last commit while
 * units of the previous generation may still be running. Offsets stay below 2^53.
 */
export class PartitionOffsets {
  /** Unit id → first offset of its range. */
  private readonly inFlight = new Map<number, number>();
  private nextUnit = 0;
  /** One past the highest offset of any completed unit; -1 before the first completes. */
  private completedEnd = -1;
  /** One past the highest offset handed out in any unit, and the first one ever handed out. */
  private fetchedEnd = -1;
  private fetchedStart = -1;
  /** The last offset committed to the group (the next to read); -1 when none yet. */
  private committedOffset = -1;

  /** Records a range [first, last] as in flight; returns its unit id. */
  begin(first: number, last: number): number {
    const unit = this.nextUnit++;
    this.inFlight.set(unit, first);
    if (this.fetchedStart < 0) this.fetchedStart = first;
    if (last + 1 > this.fetchedEnd) this.fetchedEnd = last + 1;
    return unit;
  }

  /** Marks a unit as done: every record of it is durably accepted or dead-lettered. */
  complete(unit: number, last: number): void {
    if (!this.inFlight.delete(unit)) return;
    if (last + 1 > this.completedEnd) this.completedEnd = last + 1;
  }

  /** Units in flight. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** The offset that may be committed now, or undefined when nothing new may be. */
  committable(): number | undefined {
    if (this.completedEnd < 0) return undefined;
    let mark = this.completedEnd;
    for (const first of this.inFlight.values()) if (first < mark) mark = first;
    return mark > this.committedOffset ? mark : undefined;
  }

  /** Notes a successful commit. */
  committed(offset: number): void {
    if (offset > this.committedOffset) this.committedOffset = offset;
  }

  /** Records fetched but not yet committed: the commit lag. */
  get lag(): number {
    if (this.fetchedEnd < 0) return 0;
    return Math.max(0, this.fetchedEnd - Math.max(this.committedOffset, this.fetchedStart));
  }
}
