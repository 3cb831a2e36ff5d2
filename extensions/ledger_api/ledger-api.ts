import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LedgerExporter } from '../../exporters/ledger/exporter.ts';
import { LogReader } from '../../exporters/ledger/reader.ts';
import { parseTilePath, TILE_WIDTH } from '../../exporters/ledger/tiles.ts';
import { type AuditIndex, hasAuditIndex } from '../../exporters/postgres/audit-index.ts';
import type { Extension, Host, Settings } from '../../pipeline/component.ts';
import { PipelineError } from '../../pipeline/errors.ts';
import type { ApiRequest, ApiResponse, Route } from '../../pipeline/http-api.ts';
import { TENANT_ID } from '../../pipeline/tenants.ts';
import type { LedgerApiConfig } from './config.ts';
import { forensicQuery } from './forensic.ts';

/**
 * Serves each tenant's log the way C2SP tlog-tiles clients fetch it: the checkpoint and the
 * immutable tiles as static paths under `/ledger/t/<tenant>/`, plus inclusion proofs by
 * event id (as tlog-proof files) and consistency proofs by sizes. A caller reads only its
 * own tenant's log: every route checks the token's tenant against the path. Admins also get
 * the forensic query, `GET /api/v1/audit/events`, over their own tenant's log (found through
 * the Postgres audit_events index when `audit_index` names a postgres exporter).
 */
export class LedgerApi implements Extension {
  private readonly settings: Settings;
  private readonly config: LedgerApiConfig;
  private exporter: LedgerExporter | undefined;
  private index: AuditIndex | undefined;
  private host: Host | undefined;

  constructor(settings: Settings, config: LedgerApiConfig) {
    this.settings = settings;
    this.config = config;
  }

  async start(host: Host): Promise<void> {
    const component = host.getComponent(this.config.exporter);
    if (!(component instanceof LedgerExporter)) {
      throw new PipelineError(
        'config_invalid',
        `${this.settings.id}: exporter "${this.config.exporter}" ${component ? 'is not a ledger exporter' : 'is not configured'}`,
      );
    }
    const indexId = this.config.audit_index;
    if (indexId !== undefined) {
      const index = host.getComponent(indexId);
      if (!hasAuditIndex(index)) {
        throw new PipelineError(
          'config_invalid',
          `${this.settings.id}: audit_index "${indexId}" ${index ? 'is not a postgres exporter' : 'is not configured'}`,
        );
      }
      this.index = index.audit;
    }
    this.exporter = component;
    this.host = host;
  }

  async shutdown(): Promise<void> {
    this.exporter = undefined;
    this.index = undefined;
  }

  routes(): Route[] {
    const route = (
      path: string,
      handle: (req: ApiRequest, reader: LogReader, tenant: string) => ApiResponse | Promise<ApiResponse>,
    ): Route => ({
      method: 'GET',
      path: `/ledger/t/:tenant${path}`,
      auth: 'tenant',
      handle: (req) => {
        const tenant = req.params.tenant!;
        if (req.auth?.tenantId !== tenant)
          throw new PipelineError('forbidden', 'a token reads only its own tenant’s ledger');
        return handle(req, this.reader(tenant), tenant);
      },
    });
    return [
      route('/checkpoint', (_req, reader) => ({
        status: 200,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache, max-age=1' },
        body: reader.checkpointNote(),
      })),
      route('/tile/*', (req, reader) => {
        const ref = parseTilePath(`tile/${req.params['*']}`);
        if (!ref) throw new PipelineError('not_found', 'not a tile path');
        // Only tiles of the latest checkpoint exist for clients (tlog-tiles: never fetch past one).
        const size = reader.checkpoint().size;
        const count = ref.level === 'entries' ? size : Math.floor(size / TILE_WIDTH ** ref.level);
        const available =
          ref.width === TILE_WIDTH
            ? (ref.n + 1) * TILE_WIDTH <= count
            : ref.n * TILE_WIDTH + ref.width <= count;
        if (!available) throw new PipelineError('not_found', 'no such tile in the latest checkpoint');
        return {
          status: 200,
          headers: {
            'content-type': 'application/octet-stream',
            'cache-control': 'public, max-age=31536000, immutable',
          },
          body: reader.readTile(ref),
        };
      }),
      route('/proof/inclusion', async (req, reader, tenant) => {
        const id = req.query.get('event_id');
        if (!id) throw new PipelineError('invalid_request', 'event_id is required');
        const log = await this.exporter?.existingLog(tenant);
        // The writer's id map is authoritative; scanning the files is only for a log it has not opened.
        const index = log ? log.indexOf(id) : reader.findEvent(id);
        if (index === undefined) throw new PipelineError('not_found', `event ${id} is not in the ledger`);
        try {
          return {
            status: 200,
            headers: { 'content-type': 'text/plain; charset=utf-8' },
            body: reader.proveInclusion(index),
          };
        } catch (err) {
          // Appended but not yet under a checkpoint: the next one is at most checkpoint_interval away.
          throw new PipelineError('timeout', (err as Error).message, { retryable: true, retryAfter: 1 });
        }
      }),
      route('/proof/consistency', (req, reader) => {
        const latest = reader.checkpoint().size;
        const from = Number(req.query.get('from') ?? Number.NaN);
        const to = req.query.has('to') ? Number(req.query.get('to')) : latest;
        if (
          !Number.isSafeInteger(from) ||
          !Number.isSafeInteger(to) ||
          from < 0 ||
          from > to ||
          to > latest
        ) {
          throw new PipelineError(
            'invalid_request',
            `need integers 0 <= from <= to <= ${latest} (the latest checkpoint)`,
          );
        }
        const p = reader.proveConsistency(from, to);
        return {
          status: 200,
          body: {
            from: p.from,
            to: p.to,
            root_from: p.rootFrom.toString('base64'),
            root_to: p.rootTo.toString('base64'),
            proof: p.proof.map((h) => h.toString('base64')),
            checkpoint: p.checkpoint,
          },
        };
      }),
      {
        method: 'GET',
        path: '/api/v1/audit/events',
        auth: 'admin',
        handle: (req) => {
          if (!this.host) throw new PipelineError('exporter_unavailable', 'the ledger API is not started');
          const tenant = req.auth!.tenantId;
          // The query is recorded first; a tenant with no ledger yet gets an empty answer.
          return forensicQuery(
            req,
            {
              reader: () => (this.hasLog(tenant) ? this.reader(tenant) : undefined),
              log: async () => await this.exporter?.existingLog(tenant),
              index: this.index,
              logger: this.settings.logger,
            },
            this.host,
          );
        },
      },
    ];
  }

  private hasLog(tenant: string): boolean {
    return (
      this.exporter !== undefined &&
      TENANT_ID.test(tenant) &&
      existsSync(join(this.exporter.config.dir, tenant, 'checkpoint'))
    );
  }

  private reader(tenant: string): LogReader {
    const exporter = this.exporter;
    if (!exporter) throw new PipelineError('exporter_unavailable', 'the ledger API is not started');
    const dir = join(exporter.config.dir, tenant);
    if (!TENANT_ID.test(tenant) || !existsSync(join(dir, 'checkpoint')))
      throw new PipelineError('not_found', `no ledger for tenant ${tenant}`);
    return new LogReader(dir);
  }
}
