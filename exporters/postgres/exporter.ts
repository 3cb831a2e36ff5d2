import { resolve } from 'node:path';
import { Counter } from 'prom-client';
import type { ConsumerComponent, EventBatch, Settings } from '../../pipeline/component.ts';
import { PipelineError } from '../../pipeline/errors.ts';
import { type AuditIndex, AuditQueries } from './audit-index.ts';
import type { PostgresConfig } from './config.ts';
import { type Database, ServerDatabase } from './database.ts';
import { EmbeddedDatabase } from './embedded.ts';
import { toExportError } from './failures.ts';
import { foldPending } from './fold.ts';
import { migrate } from './migrations.ts';
import { daysBetween, Partitions, utcDay } from './partitions.ts';
import { RollupQueries, type UsageStore } from './queries.ts';
import { BatchWriter, type WriteOutcome, type WriterHooks } from './writer.ts';

/**
 * The postgres exporter: activity events to usage_events and its rollups, audit events to the
 * audit_events index, exactly once. `consume` resolves after COMMIT. A maintenance run (at
 * start, then every `maintenance_interval_ms`) creates partitions ahead and applies retention.
 * Batches append rollup deltas; a fold (every `batch.fold_interval_ms`, or sooner once
 * `batch.fold_rows` deltas are pending, and at maintenance and shutdown) moves them into the
 * rollup tables. Readers (the usage API) use `usage`, which adds what is still pending.
 */
export class PostgresExporter implements ConsumerComponent {
  /** Read side for the usage API. */
  readonly usage: UsageStore;
  /** Read side of the audit_events index, for the forensic query. */
  readonly audit: AuditIndex;
  private readonly settings: Settings;
  private readonly config: PostgresConfig;
  private readonly hooks: WriterHooks;
  private readonly partitions = new Partitions();
  private readonly deadLettered: Counter<'exporter' | 'reason'>;
  private readonly duplicates: Counter<'exporter'>;
  private db: Database | undefined;
  private writer: BatchWriter | undefined;
  private timer: NodeJS.Timeout | undefined;
  private foldTimer: NodeJS.Timeout | undefined;
  private folding: Promise<number> | undefined;
  private maintaining: Promise<void> | undefined;
  private stopped = false;

  constructor(settings: Settings, config: PostgresConfig, hooks: WriterHooks = {}) {
    this.settings = settings;
    this.config = config;
    this.hooks = hooks;
    this.usage = new RollupQueries(
      () => {
        if (!this.db) throw new PipelineError('exporter_unavailable', `${settings.id} is not started`);
        return this.db;
      },
      config.retention.raw_days,
      config.retention.rollup_days,
    );
    this.audit = new AuditQueries(() => {
      if (!this.db) throw new PipelineError('exporter_unavailable', `${settings.id} is not started`);
      return this.db;
    });
    const registry = settings.telemetry.registry;
    this.deadLettered = metric(
      registry,
      'ledgerline_postgres_dead_letter_events_total',
      () =>
        new Counter({
          name: 'ledgerline_postgres_dead_letter_events_total',
          help: 'Events written to the dead_letters table, by reason.',
          labelNames: ['exporter', 'reason'],
          registers: [registry],
        }),
    );
    this.duplicates = metric(
      registry,
      'ledgerline_postgres_duplicate_events_total',
      () =>
        new Counter({
          name: 'ledgerline_postgres_duplicate_events_total',
          help: 'Replayed events that were already stored.',
          labelNames: ['exporter'],
          registers: [registry],
        }),
    );
  }

  async start(): Promise<void> {
    const url = this.config.url;
    const embedded = url.startsWith('embedded:');
    const db = embedded
      ? await EmbeddedDatabase.open(embeddedDir(url))
      : new ServerDatabase(this.config, this.settings.logger);
    try {
      await migrate(db, this.settings.logger);
    } catch (err) {
      await db.close().catch(() => undefined);
      throw new PipelineError(
        'exporter_unavailable',
        `postgres: cannot prepare the database: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.db = db;
    this.writer = new BatchWriter(
      db,
      this.partitions,
      {
        maxRows: this.config.batch.max_rows,
        rawDays: this.config.retention.raw_days,
        futureDays: this.config.partitions.future_days,
        dedupeWindowHours: this.config.batch.dedupe_window_hours,
      },
      this.hooks,
    );
    await this.maintain();
    this.timer = setInterval(() => void this.maintain(), this.config.maintenance_interval_ms);
    this.timer.unref();
    this.foldTimer = setInterval(() => {
      if (this.writer && this.writer.pendingRows > 0 && !this.folding) void this.foldInBackground();
    }, this.config.batch.fold_interval_ms);
    this.foldTimer.unref();
    this.settings.logger.info(
      { database: embedded ? `embedded:${embeddedDir(url)}` : redactUrl(url) },
      'postgres exporter ready',
    );
  }

  async consume(batch: EventBatch): Promise<void> {
    if (!this.writer || this.stopped)
      throw new PipelineError('exporter_unavailable', `${this.settings.id} is not running`);
    let outcome: WriteOutcome;
    try {
      outcome = await this.writer.write(batch.events, batch.source.receiver);
    } catch (err) {
      throw toExportError(err);
    }
    if (this.writer.pendingRows >= this.config.batch.fold_rows && !this.folding) void this.foldInBackground();
    if (outcome.duplicates > 0) this.duplicates.inc({ exporter: this.settings.id }, outcome.duplicates);
    for (const d of outcome.dead) {
      this.deadLettered.inc({ exporter: this.settings.id, reason: d.reason });
      batch.report.reject(d.event, 'invalid_event', `postgres: ${d.reason}: ${d.detail}`);
    }
    if (outcome.dead.length > 0) {
      this.settings.logger.warn(
        { dead_letters: outcome.dead.length, reasons: [...new Set(outcome.dead.map((d) => d.reason))] },
        'events dead-lettered',
      );
    }
  }

  /** Runs one ad-hoc statement on the exporter's database (tools and tests; embedded has no other way in). */
  async query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]> {
    const db = this.db;
    if (!db) throw new PipelineError('exporter_unavailable', `${this.settings.id} is not started`);
    return await db.connect(async (s) => (await s.query<R>(sql, params)).rows);
  }

  /**
   * Folds every rollup delta committed before the call into the rollup tables (after any fold
   * already running); resolves with the number of pending rows folded.
   */
  async fold(): Promise<number> {
    const previous = this.folding?.catch(() => 0);
    const run = (async () => {
      await previous;
      return await this.runFold();
    })();
    this.folding = run;
    try {
      return await run;
    } finally {
      if (this.folding === run) this.folding = undefined;
    }
  }

  private async foldInBackground(): Promise<void> {
    try {
      await this.fold();
    } catch (err) {
      // The deltas stay pending (readers still count them); the next fold retries.
      this.settings.logger.warn({ err: (err as Error).message }, 'rollup fold failed; retrying later');
    }
  }

  private async runFold(): Promise<number> {
    const db = this.db;
    if (!db) return 0;
    // Deltas appended from now on count towards the next fold; a failed fold gives its count
    // back so that the timer retries it.
    const writer = this.writer;
    const appended = writer?.pendingRows ?? 0;
    if (writer) writer.pendingRows = 0;
    try {
      return await this.foldOnce(db);
    } catch (err) {
      if (writer) writer.pendingRows += Math.max(appended, 1);
      throw err;
    }
  }

  private async foldOnce(db: Database): Promise<number> {
    return await foldPending(db);
  }

  /** Creates partitions ahead and applies retention now. Errors are logged; the next run retries. */
  async maintain(now: number = Date.now()): Promise<void> {
    if (this.maintaining) return await this.maintaining;
    this.maintaining = this.runMaintenance(now).finally(() => {
      this.maintaining = undefined;
    });
    return await this.maintaining;
  }

  private async runMaintenance(now: number): Promise<void> {
    const db = this.db;
    if (!db || this.stopped) return;
    const { retention, partitions } = this.config;
    const day = 86_400_000;
    try {
      // Deltas left by a process that died before folding them are folded here too; retention
      // runs even when the fold fails (readers count pending deltas either way).
      await this.fold().catch((err: unknown) =>
        this.settings.logger.warn({ err: (err as Error).message }, 'rollup fold failed; retrying later'),
      );
      await db.connect(async (s) => {
        await this.partitions.ensure(s, daysBetween(now, now + partitions.ahead_days * day));
        const dropped = await this.partitions.dropBefore(s, utcDay(now - retention.raw_days * day));
        if (dropped.length > 0)
          this.settings.logger.info({ days: dropped }, 'usage partitions dropped (retention)');
        await s.query('DELETE FROM usage_rollup_hourly WHERE hour < $1', [
          new Date(now - retention.rollup_days * day).toISOString(),
        ]);
        const rollupCut = utcDay(now - retention.rollup_days * day);
        await s.query('DELETE FROM usage_rollup_daily WHERE day < $1::date', [rollupCut]);
        await s.query('DELETE FROM usage_rollup_daily_actor WHERE day < $1::date', [rollupCut]);
        await s.query('DELETE FROM usage_rollup_weekly_actor WHERE week < $1::date - 6', [rollupCut]);
        await s.query('DELETE FROM dead_letters WHERE dead_at < $1', [
          new Date(now - retention.dead_letter_days * day).toISOString(),
        ]);
      });
    } catch (err) {
      this.settings.logger.warn(
        { err: (err as Error).message },
        'postgres maintenance failed; retrying at the next run',
      );
    }
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.foldTimer) clearInterval(this.foldTimer);
    await this.maintaining?.catch(() => undefined);
    // Best effort: what stays pending is folded by the next start (and counted by readers).
    await this.fold().catch((err: unknown) =>
      this.settings.logger.warn({ err: (err as Error).message }, 'rollup fold at shutdown failed'),
    );
    const db = this.db;
    this.db = undefined;
    this.writer = undefined;
    await db?.close();
  }
}

/** The directory of an `embedded:<dir>` URL, resolved against the working directory. */
export function embeddedDir(url: string): string {
  const dir = url.slice('embedded:'.length);
  return dir.startsWith('memory://') ? dir : resolve(dir);
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable)';
  }
}

// Several postgres exporters may share a registry: register each series once.
function metric<T>(registry: Settings['telemetry']['registry'], name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}
