import type { Event } from '../../pipeline/event.ts';
import type { Database, Session } from './database.ts';
import { PENDING_COLUMNS, RollupDeltas } from './deltas.ts';
import { classify, isMissingPartition, sqlState } from './failures.ts';
import { type Partitions, startOfUtcDay } from './partitions.ts';
import { insertStatement } from './rollups.ts';
import { auditRow, USAGE_COLUMNS, usageLine } from './rows.ts';

/**
 * Writes batches exactly once. Per chunk, in one transaction: COPY the activity events straight
 * into usage_events (or, when some are already stored, through a per-connection temp staging
 * table and an insert skipping stored ids), append the rollup deltas of exactly the inserted
 * ones to usage_rollup_pending (deltas.ts), and index the audit events; then COMMIT. Nothing
 * is acknowledged before COMMIT returns, and a replay after any crash inserts nothing twice. A
 * data error that can never succeed is narrowed down by halving the chunk until the offending
 * events are alone; those go to `dead_letters` with the database's reason, the rest is written.
 */

/** How the writer behaves. */
export interface WriterOptions {
  maxRows: number;
  rawDays: number;
  futureDays: number;
  dedupeWindowHours: number;
}

/** Fault-injection seam for crash tests: runs after COPY, before the insert and COMMIT. */
export interface WriterHooks {
  afterStage?(): Promise<void>;
}

/** An event the database will never take, and why. */
export interface DeadLetter {
  event: Event;
  reason: 'occurred_at_out_of_range' | 'rejected_by_database';
  detail: string;
}

/** What a write did. */
export interface WriteOutcome {
  /** Usage rows newly stored. */
  inserted: number;
  /** Usage events already stored (replays). */
  duplicates: number;
  /** Audit events indexed (new or already present). */
  audited: number;
  dead: DeadLetter[];
}

const STAGING = 'ledgerline_usage_staging';
const CREATE_STAGING = `CREATE TEMP TABLE IF NOT EXISTS ${STAGING} (LIKE usage_events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`;
const COPY_TARGET = `${STAGING} (${USAGE_COLUMNS.join(', ')})`;
const DIRECT_TARGET = `usage_events (${USAGE_COLUMNS.join(', ')})`;
const UNIQUE_VIOLATION = '23505';
const PENDING_TARGET = `usage_rollup_pending (${PENDING_COLUMNS.join(', ')})`;
const AUDIT_INSERT = `INSERT INTO audit_events (event_id, tenant_id, actor_id, occurred_at, recorded_at, action, result, entity_type, entity_id)
SELECT event_id, tenant_id, actor_id, occurred_at, recorded_at, action, result, entity_type, entity_id
FROM jsonb_to_recordset($1::jsonb) AS x(event_id uuid, tenant_id text, actor_id text, occurred_at timestamptz,
  recorded_at timestamptz, action text, result text, entity_type text, entity_id text)
ON CONFLICT (tenant_id, event_id) DO NOTHING`;
const DEAD_INSERT = `INSERT INTO dead_letters (event_id, tenant_id, event_class, reason, detail, event)
SELECT event_id, tenant_id, event_class, reason, detail, event
FROM jsonb_to_recordset($1::jsonb) AS x(event_id uuid, tenant_id text, event_class text, reason text, detail text, event text)
ON CONFLICT (event_id) DO NOTHING`;
// The window probe must be index lookups per staged row (bounded by the batch), never a
// hash join over whole day partitions: the planner has no statistics on the temp table.
const PROBE_BY_INDEX =
  "SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)";
const DAY_MS = 86_400_000;

/** The batch writer of one exporter. */
export class BatchWriter {
  /** Rollup delta rows this writer appended (committed or not) since the counter was last reset. */
  pendingRows = 0;
  private readonly staged = new WeakSet<object>();
  private readonly insert: string;
  private readonly db: Database;
  private readonly partitions: Partitions;
  private readonly options: WriterOptions;
  private readonly hooks: WriterHooks;

  constructor(db: Database, partitions: Partitions, options: WriterOptions, hooks: WriterHooks = {}) {
    this.db = db;
    this.partitions = partitions;
    this.options = options;
    this.hooks = hooks;
    this.insert = insertStatement(STAGING, options.dedupeWindowHours);
  }

  /** The oldest and the first too-new occurred_at (ISO) stored raw at `now`. */
  window(now: number): { from: string; until: string } {
    const today = startOfUtcDay(now);
    return {
      from: new Date(today - this.options.rawDays * DAY_MS).toISOString(),
      until: new Date(today + (this.options.futureDays + 1) * DAY_MS).toISOString(),
    };
  }

  /** Writes a batch; resolves after COMMIT. Throws only retryable or fatal errors. */
  async write(events: readonly Event[], receiver: string, now: number = Date.now()): Promise<WriteOutcome> {
    const { from, until } = this.window(now);
    const out: WriteOutcome = { inserted: 0, duplicates: 0, audited: 0, dead: [] };
    const seen = new Set<string>();
    const kept: Event[] = [];
    let usage = 0;
    for (const e of events) {
      // The database returns ids in lower case; a producer may have sent upper case.
      const id = e.event_id.toLowerCase();
      if (seen.has(id)) {
        out.duplicates++;
        continue;
      }
      seen.add(id);
      if (e.event_type === 'activity') {
        // ISO strings of one length compare as times; anything else is out of range anyway.
        if (e.occurred_at.length !== 24 || e.occurred_at < from || e.occurred_at >= until) {
          out.dead.push({
            event: e,
            reason: 'occurred_at_out_of_range',
            detail: `occurred_at must be in [${from}, ${until})`,
          });
          continue;
        }
        usage++;
      }
      kept.push(e);
    }
    for (let i = 0; i < kept.length; i += this.options.maxRows) {
      await this.isolate(kept.slice(i, i + this.options.maxRows), receiver, out);
    }
    out.duplicates +=
      usage -
      out.inserted -
      out.dead.filter((d) => d.reason === 'rejected_by_database' && d.event.event_type === 'activity').length;
    if (out.dead.length > 0) await this.deadLetter(out.dead);
    return out;
  }

  private async isolate(chunk: Event[], receiver: string, out: WriteOutcome): Promise<void> {
    try {
      const r = await this.writeChunk(chunk, receiver);
      out.inserted += r.inserted;
      out.audited += r.audited;
    } catch (err) {
      if (classify(err) !== 'data') throw err;
      if (chunk.length === 1) {
        out.dead.push({
          event: chunk[0]!,
          reason: 'rejected_by_database',
          detail: `${sqlState(err)}: ${(err as Error).message}`,
        });
        return;
      }
      const mid = chunk.length >> 1;
      await this.isolate(chunk.slice(0, mid), receiver, out);
      await this.isolate(chunk.slice(mid), receiver, out);
    }
  }

  private async writeChunk(
    chunk: Event[],
    receiver: string,
    retried = false,
  ): Promise<{ inserted: number; audited: number }> {
    try {
      return await this.db.connect((s) => this.transaction(s, chunk, receiver));
    } catch (err) {
      // A partition dropped or never created behind our back: learn again and retry once.
      if (!isMissingPartition(err) || retried) throw err;
      this.partitions.forget();
      return await this.writeChunk(chunk, receiver, true);
    }
  }

  private async transaction(
    s: Session,
    chunk: Event[],
    receiver: string,
  ): Promise<{ inserted: number; audited: number }> {
    let text = '';
    const days = new Set<string>();
    const audit = [];
    const usage: Event[] = [];
    let day = '';
    for (const e of chunk) {
      if (e.event_type === 'activity') {
        usage.push(e);
        text += usageLine(e, receiver);
        // Batches are mostly of one day: slice and remember it only when it changes.
        if (day === '' || !e.occurred_at.startsWith(day)) {
          day = e.occurred_at.slice(0, 10);
          days.add(day);
        }
      } else {
        audit.push(auditRow(e));
      }
    }
    if (text !== '') {
      if (!this.staged.has(s.connection)) {
        await s.query(CREATE_STAGING);
        this.staged.add(s.connection);
      }
      await this.partitions.ensure(s, days);
    }
    let inserted = 0;
    await s.query('BEGIN');
    try {
      if (text !== '') {
        const ids = await this.insertUsage(s, text, usage);
        inserted = ids === 'all' ? usage.length : ids.length;
        if (inserted > 0) {
          // Only what this transaction inserted enters the rollups: replays add nothing.
          const deltas = new RollupDeltas();
          if (inserted === usage.length) {
            for (const e of usage) deltas.add(e);
          } else {
            const fresh = new Set(ids);
            for (const e of usage) if (fresh.delete(e.event_id.toLowerCase())) deltas.add(e);
          }
          await s.copyFrom(PENDING_TARGET, deltas.toCopy());
          this.pendingRows += deltas.size;
        }
      }
      if (audit.length > 0) await s.query(AUDIT_INSERT, [JSON.stringify(audit)]);
      await s.query('COMMIT');
    } catch (err) {
      await s.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    return { inserted, audited: audit.length };
  }

  /**
   * Inserts the usage rows of a chunk (inside the open transaction) and returns the ids it
   * inserted, or 'all'. Fast path: COPY straight into usage_events under a savepoint — when
   * none of the rows is stored yet (the common case: replays are rare) that is all the raw
   * work, as cheap as a plain COPY. A unique violation (some row is a replay) rolls back to
   * the savepoint and takes the exact path: COPY into staging, then INSERT … ON CONFLICT DO
   * NOTHING RETURNING id. Rows whose occurred_at the receiver stamped always take the exact
   * path while the dedupe window is on, since only its probe can recognise their re-sends.
   */
  private async insertUsage(s: Session, text: string, usage: readonly Event[]): Promise<string[] | 'all'> {
    const probe = this.options.dedupeWindowHours > 0 && usage.some((e) => e.occurred_at === e.recorded_at);
    if (!probe) {
      await s.query('SAVEPOINT direct_copy');
      try {
        await s.copyFrom(DIRECT_TARGET, text);
        await this.hooks.afterStage?.();
        await s.query('RELEASE SAVEPOINT direct_copy');
        return 'all';
      } catch (err) {
        if (sqlState(err) !== UNIQUE_VIOLATION) throw err;
        await s.query('ROLLBACK TO SAVEPOINT direct_copy');
      }
    }
    await s.copyFrom(COPY_TARGET, text);
    await this.hooks.afterStage?.();
    if (this.options.dedupeWindowHours > 0) await s.query(PROBE_BY_INDEX);
    return (await s.query<{ id: string }>(this.insert)).rows.map((r) => r.id);
  }

  private async deadLetter(dead: DeadLetter[]): Promise<void> {
    const rows = dead.map((d) => ({
      event_id: d.event.event_id,
      tenant_id: d.event.tenant.id.replaceAll('\u0000', '\uFFFD'),
      event_class: d.event.event_type,
      reason: d.reason,
      detail: d.detail.replaceAll('\u0000', '\uFFFD'),
      // JSON.stringify escapes NUL as the six characters \u0000, which text columns hold.
      event: JSON.stringify(d.event),
    }));
    await this.db.connect((s) => s.query(DEAD_INSERT, [JSON.stringify(rows)]));
  }
}
