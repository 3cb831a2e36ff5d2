import type { Logger } from 'pino';
import type { TenantLog } from '../../exporters/ledger/log.ts';
import { inclusionProof } from '../../exporters/ledger/merkle.ts';
import type { LogReader } from '../../exporters/ledger/reader.ts';
import { decodeBundle, TILE_WIDTH } from '../../exporters/ledger/tiles.ts';
import type { AuditIndex, LeafIndex } from '../../exporters/postgres/audit-index.ts';
import { BatchReport, type Host } from '../../pipeline/component.ts';
import { PipelineError } from '../../pipeline/errors.ts';
import { parseEvent } from '../../pipeline/event.ts';
import type { ApiRequest, ApiResponse } from '../../pipeline/http-api.ts';

/**
 * Forensic query over a tenant's ledger (seed 003): audit events by actor, action and time,
 * each with its leaf index and inclusion proof against the latest checkpoint, so the answer
 * is re-verifiable by the caller. With a postgres exporter configured as `audit_index`, its
 * audit_events index finds the events (oldest first) and the ledger supplies each event's
 * bytes and proof — the index picks, the ledger testifies; without one, the log is scanned in
 * append order. Every query is itself recorded as an audit event first: no record, no answer.
 */

const MAX_LIMIT = 1000;

/** Filters of a forensic query. */
export interface ForensicQuery {
  actor?: string;
  action?: string;
  from?: number;
  to?: number;
  limit: number;
}

/** Parses `actor`, `action`, `from`, `to` (RFC 3339), `limit` (default 100, at most 1000). */
export function parseQuery(q: URLSearchParams): ForensicQuery {
  const time = (name: string): number | undefined => {
    const v = q.get(name);
    if (v === null) return undefined;
    const t = Date.parse(v);
    if (Number.isNaN(t)) throw new PipelineError('invalid_request', `${name} must be an RFC 3339 timestamp`);
    return t;
  };
  const limit = q.has('limit') ? Number(q.get('limit')) : 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new PipelineError('invalid_request', `limit must be 1..${MAX_LIMIT}`);
  const out: ForensicQuery = { limit };
  const actor = q.get('actor');
  const action = q.get('action');
  if (actor) out.actor = actor;
  if (action) out.action = action;
  const from = time('from');
  const to = time('to');
  if (from !== undefined) out.from = from;
  if (to !== undefined) out.to = to;
  return out;
}

/** Where a forensic query looks. */
export interface ForensicSources {
  /** The tenant's log as files, when the tenant has one. */
  reader(): LogReader | undefined;
  /** The writer's open log of the tenant (its id map knows every appended event), when it has one. */
  log(): Promise<TenantLog | undefined>;
  /** The Postgres audit_events index, when configured. */
  index: AuditIndex | undefined;
  logger: Logger;
}

/** One answer row: an event the ledger holds, with its proof, or an indexed one it cannot prove yet. */
type Hit =
  | { event_id: string; index: number; event: unknown; proof: string[] }
  | {
      event_id: string;
      index: number | null;
      event: null;
      proof: null;
      status: 'awaiting_checkpoint' | 'not_in_ledger';
    };

/** Records the query as an audit event of the caller's tenant, then answers it. */
export async function forensicQuery(
  req: ApiRequest,
  sources: ForensicSources,
  host: Host,
): Promise<ApiResponse> {
  const auth = req.auth!;
  const query = parseQuery(req.query);
  await recordQuery(req, query, host);
  const reader = sources.reader();
  const note = reader ? reader.checkpointNote() : null;
  const size = reader ? reader.checkpoint().size : 0;
  if (sources.index) {
    const events = await fromIndex(auth.tenantId, query, sources, reader, size);
    return { status: 200, body: { tree_size: size, checkpoint: note, source: 'audit_index', events } };
  }
  const events = reader ? scan(reader, size, query) : [];
  return { status: 200, body: { tree_size: size, checkpoint: note, source: 'ledger_scan', events } };
}

async function recordQuery(req: ApiRequest, query: ForensicQuery, host: Host): Promise<void> {
  const auth = req.auth!;
  const details: Record<string, string | number> = { limit: query.limit };
  if (query.actor) details.actor = query.actor;
  if (query.action) details.action = query.action;
  if (query.from !== undefined) details.from = new Date(query.from).toISOString();
  if (query.to !== undefined) details.to = new Date(query.to).toISOString();
  const parsed = parseEvent({
    event_type: 'audit',
    actor: { type: auth.roles.has('service') ? 'service' : 'user', id: `key:${auth.keyId}` },
    tenant: { id: auth.tenantId },
    entity: { type: 'audit_log', id: auth.tenantId },
    action: 'audit_events_queried',
    result: 'success',
    metadata: { safe_fields_only: true, details },
  });
  if (!parsed.ok) throw new PipelineError('internal', 'could not build the audit event of a forensic query');
  const report = new BatchReport();
  await host.ingest({
    events: [parsed.event],
    auth,
    source: { receiver: 'ledger_api', transport: 'http' },
    report,
  });
  // A pipeline may refuse the record without failing the call (a rule, a sink's data error):
  // then the access is not on file, and the query is not answered either (seed 003).
  const refused = report.rejected.find((r) => r.event_id === parsed.event.event_id);
  if (refused)
    throw new PipelineError(
      'exporter_unavailable',
      `the forensic query could not be recorded as an audit event (${refused.code}: ${refused.message}); it was not run`,
    );
}

async function fromIndex(
  tenant: string,
  query: ForensicQuery,
  sources: ForensicSources,
  reader: LogReader | undefined,
  size: number,
): Promise<Hit[]> {
  const found = await sources.index!.find(tenant, query);
  const log = found.some((h) => h.leaf_index === null) ? await sources.log() : undefined;
  const read = reader && size > 0 ? reader.nodeReader(size) : undefined;
  const learnt: LeafIndex[] = [];
  const hits: Hit[] = [];
  for (const h of found) {
    let index = h.leaf_index;
    if (index === null) {
      index = log?.indexOf(h.event_id) ?? null;
      // Only an index under a signed checkpoint is final: one still in flight could be lost
      // with its group and the event appended elsewhere on the retry.
      if (index !== null && index < size) learnt.push({ event_id: h.event_id, leaf_index: index });
    }
    if (index === null) {
      hits.push({ event_id: h.event_id, index: null, event: null, proof: null, status: 'not_in_ledger' });
      continue;
    }
    if (!reader || !read || index >= size) {
      hits.push({ event_id: h.event_id, index, event: null, proof: null, status: 'awaiting_checkpoint' });
      continue;
    }
    const event = JSON.parse(reader.entry(index, size).toString('utf8')) as { event_id?: string };
    // The index is not the record: an index row pointing at another event is not passed off as it.
    if (event.event_id !== h.event_id) {
      sources.logger.warn({ event_id: h.event_id, index }, 'audit index points at another ledger entry');
      hits.push({ event_id: h.event_id, index: null, event: null, proof: null, status: 'not_in_ledger' });
      continue;
    }
    hits.push({
      event_id: h.event_id,
      index,
      event,
      proof: inclusionProof(read, index, size).map((x) => x.toString('base64')),
    });
  }
  // Remembered for the next query, off the answer's path: a failure here costs a ledger lookup
  // next time, nothing more.
  if (learnt.length > 0)
    void sources
      .index!.recordLeafIndexes(tenant, learnt)
      .catch((err: unknown) =>
        sources.logger.warn({ err: (err as Error).message }, 'could not record ledger leaf indexes'),
      );
  return hits;
}

function scan(reader: LogReader, size: number, query: ForensicQuery): Hit[] {
  const read = reader.nodeReader(size);
  const hits: Hit[] = [];
  for (let n = 0; n * TILE_WIDTH < size && hits.length < query.limit; n++) {
    const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
    const entries = decodeBundle(reader.readTile({ level: 'entries', n, width }));
    for (let i = 0; i < entries.length && hits.length < query.limit; i++) {
      const event = JSON.parse(entries[i]!.toString('utf8')) as {
        event_id: string;
        event_type?: string;
        actor?: { id?: string };
        action?: string;
        occurred_at?: string;
      };
      if (event.event_type !== 'audit') continue;
      if (query.actor !== undefined && event.actor?.id !== query.actor) continue;
      if (query.action !== undefined && event.action !== query.action) continue;
      const t = Date.parse(event.occurred_at ?? '');
      if (query.from !== undefined && !(t >= query.from)) continue;
      if (query.to !== undefined && !(t < query.to)) continue;
      const index = n * TILE_WIDTH + i;
      hits.push({
        event_id: event.event_id,
        index,
        event,
        proof: inclusionProof(read, index, size).map((h) => h.toString('base64')),
      });
    }
  }
  return hits;
}
