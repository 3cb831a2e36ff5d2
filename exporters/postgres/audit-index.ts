import type { Database } from './database.ts';

/**
 * Read side of the audit_events index, for the forensic query (extensions/ledger_api). The
 * index is not the record — the ledger is — so it answers only "which events": the caller
 * reads each hit from the ledger and proves it there. Leaf indexes are filled in once the
 * ledger has told a reader where an event is (the index row is written by this exporter in
 * parallel with the ledger's append, so neither knows the other's result at write time).
 */

/** Filters of a forensic query; times are ms since the epoch, `to` exclusive. */
export interface AuditFilter {
  actor?: string;
  action?: string;
  from?: number;
  to?: number;
  limit: number;
}

/** One indexed audit event. */
export interface AuditHit {
  event_id: string;
  occurred_at: string;
  /** Leaf index in the tenant's ledger, when known. */
  leaf_index: number | null;
}

/** Where the ledger holds an event. */
export interface LeafIndex {
  event_id: string;
  leaf_index: number;
}

/** What the postgres exporter offers the forensic query. */
export interface AuditIndex {
  /** Audit events of one tenant matching the filter, oldest first (then by id). */
  find(tenantId: string, filter: AuditFilter): Promise<AuditHit[]>;
  /** Records leaf indexes the ledger reported; rows that already have one are left alone. */
  recordLeafIndexes(tenantId: string, leaves: readonly LeafIndex[]): Promise<void>;
}

/** True when a component offers an AuditIndex as `audit`. */
export function hasAuditIndex(c: unknown): c is { audit: AuditIndex } {
  const a = (c as { audit?: Partial<AuditIndex> } | undefined)?.audit;
  return typeof a?.find === 'function' && typeof a.recordLeafIndexes === 'function';
}

// Arrays rather than a JSON recordset: the planner then knows how many rows come in and
// probes the primary key for each, instead of hashing the whole table.
const RECORD_LEAVES = `UPDATE audit_events AS a SET leaf_index = x.leaf_index
FROM unnest($2::uuid[], $3::bigint[]) AS x(event_id, leaf_index)
WHERE a.tenant_id = $1 AND a.event_id = x.event_id AND a.leaf_index IS NULL`;

/** The AuditIndex over the exporter's database. */
export class AuditQueries implements AuditIndex {
  private readonly db: () => Database;

  constructor(db: () => Database) {
    this.db = db;
  }

  async find(tenantId: string, filter: AuditFilter): Promise<AuditHit[]> {
    // Only the conditions asked for, so the planner picks the matching index
    // (tenant+actor+time, tenant+action+time or tenant+time); values are always parameters.
    const params: unknown[] = [tenantId];
    const where = ['tenant_id = $1'];
    const add = (sql: string, value: unknown): void => {
      params.push(value);
      where.push(`${sql} $${params.length}`);
    };
    if (filter.actor !== undefined) add('actor_id =', filter.actor);
    if (filter.action !== undefined) add('action =', filter.action);
    if (filter.from !== undefined) add('occurred_at >=', new Date(filter.from).toISOString());
    if (filter.to !== undefined) add('occurred_at <', new Date(filter.to).toISOString());
    params.push(filter.limit);
    const sql = `SELECT event_id::text AS event_id, occurred_at, leaf_index FROM audit_events
WHERE ${where.join(' AND ')} ORDER BY occurred_at, event_id LIMIT $${params.length}`;
    const rows = await this.db().connect(
      async (s) =>
        (
          await s.query<{ event_id: string; occurred_at: Date | string; leaf_index: string | number | null }>(
            sql,
            params,
          )
        ).rows,
    );
    return rows.map((r) => ({
      event_id: r.event_id,
      occurred_at: new Date(r.occurred_at).toISOString(),
      // bigint arrives as a string from pg and PGlite alike.
      leaf_index: r.leaf_index === null ? null : Number(r.leaf_index),
    }));
  }

  async recordLeafIndexes(tenantId: string, leaves: readonly LeafIndex[]): Promise<void> {
    if (leaves.length === 0) return;
    const ids = leaves.map((l) => l.event_id);
    const indexes = leaves.map((l) => l.leaf_index);
    await this.db().connect((s) => s.query(RECORD_LEAVES, [tenantId, ids, indexes]));
  }
}
