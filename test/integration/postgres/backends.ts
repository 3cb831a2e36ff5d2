import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresConfigSchema } from '../../../exporters/postgres/config.ts';
import { PostgresExporter } from '../../../exporters/postgres/exporter.ts';
import type { WriterHooks } from '../../../exporters/postgres/writer.ts';
import type { EventBatch, Settings } from '../../../pipeline/component.ts';
import { isRetryable } from '../../../pipeline/errors.ts';
import { testSettings } from '../../../pipeline/testing.ts';
import { type PostgresService, startPostgres } from '../../services/postgres.ts';

/**
 * The two databases the postgres suite runs against: a throw-away PostgreSQL cluster (one per
 * test file, a fresh database per test) and embedded PGlite (a fresh directory per test).
 */

/** Which database a test runs on. */
export type BackendName = 'postgres' | 'embedded';

/** One backend of the parameterised suite. */
export interface Backend {
  name: BackendName;
  /** A fresh, empty database; returns its exporter URL. */
  fresh(): Promise<string>;
  /** The server, for the postgres backend. */
  server: PostgresService | undefined;
  close(): Promise<void>;
}

/** Starts a backend (a cluster for `postgres`). */
export async function openBackend(name: BackendName): Promise<Backend> {
  if (name === 'postgres') {
    const server = await startPostgres();
    return { name, server, fresh: () => server.createDatabase(), close: () => server.stop() };
  }
  const dirs: string[] = [];
  return {
    name,
    server: undefined,
    async fresh() {
      const dir = mkdtempSync(join(tmpdir(), 'ledgerline-pglite-'));
      dirs.push(dir);
      return `embedded:${dir}`;
    },
    async close() {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** Creates and starts an exporter on `url` with config overrides. */
export async function startExporter(
  url: string,
  overrides: Record<string, unknown> = {},
  settings: Settings = testSettings('postgres'),
  hooks: WriterHooks = {},
): Promise<PostgresExporter> {
  const ex = new PostgresExporter(settings, postgresConfigSchema.parse({ url, ...overrides }), hooks);
  await ex.start();
  return ex;
}

/** Consumes like the core queue does: retryable failures are retried with a short pause. */
export async function consumeWithRetry(
  ex: PostgresExporter,
  batch: EventBatch,
  attempts = 300,
): Promise<number> {
  for (let i = 1; ; i++) {
    try {
      await ex.consume(batch);
      return i;
    } catch (err) {
      if (!isRetryable(err) || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** UTC midnight `days` from today, as ms. */
export function utcMidnight(days = 0, now: number = Date.now()): number {
  return Math.floor(now / 86_400_000) * 86_400_000 + days * 86_400_000;
}
