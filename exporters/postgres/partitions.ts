import type { Session } from './database.ts';

/**
 * Daily partitions of usage_events, one per UTC day (`usage_events_pYYYYMMDD`, bounds written
 * with an explicit +00 so the session's TimeZone never shifts them). Partitions are created
 * ahead by the maintenance run and on demand for the days of an incoming batch; retention
 * drops whole partitions. DDL runs under a transaction-level advisory lock so that several
 * ledgerline processes on one database take turns.
 */

const PARTITION_LOCK = 0x6c6c_0002;
const NAME = /^usage_events_p(\d{4})(\d{2})(\d{2})$/;
const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` (UTC) of a time. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Start (ms) of the UTC day of a time. */
export function startOfUtcDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** The partition name of a `YYYY-MM-DD` day. */
export function partitionName(day: string): string {
  return `usage_events_p${day.replaceAll('-', '')}`;
}

/** Creates partitions as needed and drops expired ones; remembers which exist. */
export class Partitions {
  private readonly known = new Set<string>();

  /** Forgets what it knows, e.g. after the database said a partition is missing. */
  forget(): void {
    this.known.clear();
  }

  /** Ensures a partition exists for each `YYYY-MM-DD` day (outside any other transaction). */
  async ensure(s: Session, days: Iterable<string>): Promise<void> {
    const missing = [...new Set(days)].filter((d) => !this.known.has(d)).sort();
    if (missing.length === 0) return;
    await s.query('BEGIN');
    try {
      await s.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
      for (const day of missing) {
        const from = Date.parse(`${day}T00:00:00Z`);
        const to = utcDay(from + DAY_MS);
        await s.query(
          `CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF usage_events FOR VALUES FROM ('${day} 00:00:00+00') TO ('${to} 00:00:00+00')`,
        );
      }
      await s.query('COMMIT');
    } catch (err) {
      await s.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    for (const d of missing) this.known.add(d);
  }

  /** Days of the partitions that exist, oldest first. */
  async list(s: Session): Promise<string[]> {
    const r = await s.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'usage_events'::regclass`,
    );
    const days: string[] = [];
    for (const { name } of r.rows) {
      const m = NAME.exec(name);
      if (m) days.push(`${m[1]}-${m[2]}-${m[3]}`);
    }
    return days.sort();
  }

  /** Drops every partition of a day before `firstKeptDay`; returns the dropped days. */
  async dropBefore(s: Session, firstKeptDay: string): Promise<string[]> {
    const expired = (await this.list(s)).filter((d) => d < firstKeptDay);
    if (expired.length === 0) return [];
    await s.query('BEGIN');
    try {
      await s.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
      // Dropping needs a brief exclusive lock on the parent; do not queue behind long readers.
      await s.query("SET LOCAL lock_timeout = '10s'");
      for (const day of expired) await s.query(`DROP TABLE IF EXISTS ${partitionName(day)}`);
      await s.query('COMMIT');
    } catch (err) {
      await s.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    for (const d of expired) this.known.delete(d);
    return expired;
  }
}

/** The UTC days from `fromMs`'s day to `toMs`'s day, inclusive. */
export function daysBetween(fromMs: number, toMs: number): string[] {
  const out: string[] = [];
  for (let t = startOfUtcDay(fromMs); t <= toMs; t += DAY_MS) out.push(utcDay(t));
  return out;
}
