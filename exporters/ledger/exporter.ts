import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Gauge } from 'prom-client';
import type { ConsumerComponent, EventBatch, Host, Settings } from '../../pipeline/component.ts';
import { PipelineError } from '../../pipeline/errors.ts';
import type { Event } from '../../pipeline/event.ts';
import { TENANT_ID } from '../../pipeline/tenants.ts';
import type { LedgerConfig } from './config.ts';
import { loadSigner } from './keys.ts';
import { lockLedger } from './lock.ts';
import { type AppendResult, TenantLog } from './log.ts';
import type { NoteSigner } from './note.ts';

/** Names of the ledger's own files beside the tenant directories: never a tenant's log. */
const RESERVED = new Set(['signing.key', 'verifier-keys', 'writer.lock']);

/**
 * The ledger exporter: events of a batch are grouped by `tenant.id` and appended to that
 * tenant's log; `consume` resolves once every one of them is fsynced. Activity events that
 * reach it are appended like audit events (the ledger never drops what it was given).
 */
export class LedgerExporter implements ConsumerComponent {
  private readonly settings: Settings;
  readonly config: LedgerConfig;
  private signer: NoteSigner | undefined;
  /** Verifier key of the current signing key. */
  verifierKey = '';
  private readonly logs = new Map<string, Promise<TenantLog>>();
  private timer: NodeJS.Timeout | undefined;
  private unlock: (() => void) | undefined;
  private checkpointRound: Promise<void> | undefined;
  private state: 'new' | 'started' | 'stopped' = 'new';
  private readonly treeSize: Gauge<'exporter' | 'tenant'>;

  constructor(settings: Settings, config: LedgerConfig) {
    this.settings = settings;
    this.config = config;
    const registry = settings.telemetry.registry;
    this.treeSize =
      (registry.getSingleMetric('ledgerline_ledger_tree_size') as Gauge<'exporter' | 'tenant'> | undefined) ??
      new Gauge({
        name: 'ledgerline_ledger_tree_size',
        help: 'Entries in each tenant ledger (durable size).',
        labelNames: ['exporter', 'tenant'],
        registers: [registry],
      });
  }

  /** Origin of a tenant's log. */
  originOf(tenant: string): string {
    return `${this.config.origin}/t/${tenant}`;
  }

  async start(_host?: Host): Promise<void> {
    if (this.state !== 'new') return;
    this.unlock = lockLedger(this.config.dir);
    try {
      await this.open();
    } catch (err) {
      this.unlock();
      this.unlock = undefined;
      throw err;
    }
    this.state = 'started';
    this.timer = setInterval(() => void this.checkpointAll(), this.config.checkpoint_interval);
    this.timer.unref();
  }

  private async open(): Promise<void> {
    const { signer, verifierKey, generated } = loadSigner({
      dir: this.config.dir,
      keyFile: this.config.signing_key_file,
      generate: this.config.generate_key,
      name: this.config.origin,
    });
    this.signer = signer;
    this.verifierKey = verifierKey;
    if (generated)
      this.settings.logger.warn({ verifier_key: verifierKey }, 'generated a development ledger signing key');
    this.settings.logger.info({ dir: this.config.dir, verifier_key: verifierKey }, 'ledger ready');
    // Recover every existing tenant log now, so a damaged log fails the start, not a request.
    if (existsSync(this.config.dir)) {
      for (const d of readdirSync(this.config.dir, { withFileTypes: true })) {
        if (d.isDirectory() && TENANT_ID.test(d.name) && existsSync(join(this.config.dir, d.name, 'tile'))) {
          await this.log(d.name);
        }
      }
    }
  }

  /** The log of a tenant, opened (and recovered) on first use. */
  log(tenant: string): Promise<TenantLog> {
    let log = this.logs.get(tenant);
    if (!log) {
      if (!this.signer)
        return Promise.reject(new PipelineError('exporter_unavailable', 'the ledger is not started'));
      log = TenantLog.open({
        dir: join(this.config.dir, tenant),
        origin: this.originOf(tenant),
        signer: this.signer,
        logger: this.settings.logger.child({ tenant }),
      });
      log.then(
        (l) => this.treeSize.set({ exporter: this.settings.id, tenant }, l.size),
        () => this.logs.delete(tenant),
      );
      this.logs.set(tenant, log);
    }
    return log;
  }

  /** The log of a tenant when it has one on disk (for readers: never creates a log). */
  async existingLog(tenant: string): Promise<TenantLog | undefined> {
    if (!TENANT_ID.test(tenant) || RESERVED.has(tenant)) return undefined;
    if (!this.logs.has(tenant) && !existsSync(join(this.config.dir, tenant, 'tile'))) return undefined;
    return this.log(tenant);
  }

  async consume(batch: EventBatch): Promise<void> {
    if (this.state !== 'started')
      throw new PipelineError('exporter_unavailable', 'the ledger is not running');
    const byTenant = new Map<string, Event[]>();
    for (const e of batch.events) {
      const tenant = e.tenant.id;
      if (!TENANT_ID.test(tenant) || RESERVED.has(tenant)) {
        batch.report.reject(e, 'invalid_event', `tenant.id "${tenant}" cannot name a ledger`);
        continue;
      }
      const list = byTenant.get(tenant);
      if (list) list.push(e);
      else byTenant.set(tenant, [e]);
    }
    await Promise.all(
      [...byTenant].map(async ([tenant, events]) => {
        let results: AppendResult[];
        try {
          const log = await this.log(tenant);
          results = await log.append(events as unknown as (Record<string, unknown> & { event_id: string })[]);
          this.treeSize.set({ exporter: this.settings.id, tenant }, log.size);
        } catch (err) {
          if (err instanceof PipelineError) throw err;
          throw new PipelineError(
            'exporter_unavailable',
            `ledger write for tenant ${tenant} failed: ${(err as Error).message}`,
            {
              cause: err,
              retryable: true,
            },
          );
        }
        results.forEach((r, i) => {
          if ('error' in r) batch.report.reject(events[i]!, 'invalid_event', r.error);
        });
      }),
    );
  }

  /**
   * Signs a checkpoint for every log that grew. Logs are done 32 at a time, since each is an
   * fsynced file and a directory fsync; a round still running when the timer fires again is
   * not doubled.
   */
  private async checkpointAll(): Promise<void> {
    if (this.checkpointRound) return;
    const logs = [...this.logs];
    this.checkpointRound = (async () => {
      for (let i = 0; i < logs.length; i += 32) {
        await Promise.all(
          logs.slice(i, i + 32).map(async ([tenant, p]) => {
            try {
              await (await p).checkpoint();
            } catch (err) {
              this.settings.logger.error({ err, tenant }, 'ledger checkpoint failed');
            }
          }),
        );
      }
    })().finally(() => {
      this.checkpointRound = undefined;
    });
    await this.checkpointRound;
  }

  async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    if (this.timer) clearInterval(this.timer);
    await this.checkpointRound;
    try {
      for (const p of this.logs.values()) {
        const log = await p.catch(() => undefined);
        await log?.close();
      }
    } finally {
      this.unlock?.();
      this.unlock = undefined;
    }
  }
}
