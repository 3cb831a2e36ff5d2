import { inclusionProof } from '../../exporters/ledger/merkle.ts';
import type { LogReader } from '../../exporters/ledger/reader.ts';
import { decodeBundle, TILE_WIDTH } from '../../exporters/ledger/tiles.ts';
import { BatchReport, type Host } from '../../pipeline/component.ts';
import { PipelineError } from '../../pipeline/errors.ts';
import { parseEvent } from '../../pipeline/event.ts';
import type { ApiRequest, ApiResponse } from '../../pipeline/http-api.ts';

/**
 * Forensic query over a tenant's ledger (seed 003): audit events by actor, action and time,
 * each with its leaf index and inclusion proof against the latest checkpoint, so the answer
 * is re-verifiable by the caller. Answered by scanning the log (the Postgres audit_events
 * index is not used yet). Every query is itself recorded as an audit event before answering.
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

/** Records the query as an audit event of the caller's tenant, then answers it. */
export async function forensicQuery(
  req: ApiRequest,
  readerOf: () => LogReader | undefined,
  host: Host,
): Promise<ApiResponse> {
  const auth = req.auth!;
  const query = parseQuery(req.query);
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
  // No record of the query, no answer: the access itself is audited (seed 003).
  await host.ingest({
    events: [parsed.event],
    auth,
    source: { receiver: 'ledger_api', transport: 'http' },
    report: new BatchReport(),
  });

  const reader = readerOf();
  if (!reader) return { status: 200, body: { tree_size: 0, checkpoint: null, events: [] } };
  const note = reader.checkpointNote();
  const size = reader.checkpoint().size;
  const read = reader.nodeReader(size);
  const hits: unknown[] = [];
  for (let n = 0; n * TILE_WIDTH < size && hits.length < query.limit; n++) {
    const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
    const entries = decodeBundle(reader.readTile({ level: 'entries', n, width }));
    for (let i = 0; i < entries.length && hits.length < query.limit; i++) {
      const event = JSON.parse(entries[i]!.toString('utf8')) as {
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
      hits.push({ index, event, proof: inclusionProof(read, index, size).map((h) => h.toString('base64')) });
    }
  }
  return { status: 200, body: { tree_size: size, checkpoint: note, events: hits } };
}
