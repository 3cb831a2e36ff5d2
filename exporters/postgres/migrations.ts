import { readdirSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Database } from './database.ts';

/**
 * A small versioned migration runner: the SQL files of `migrations/` (`NNN_name.sql`) are
 * applied in order, each in its own transaction together with its row in
 * `schema_migrations`, while a session-level advisory lock keeps two ledgerline processes
 * starting at once from racing. Applied files are never edited; changes are new files.
 */

/** One migration. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

// A fixed advisory lock key ("ledgerline migrations"); other keys live in partitions.ts.
const MIGRATION_LOCK = 0x6c6c_0001;

/** The migrations shipped with this version, in order. */
export function loadMigrations(dir: URL = new URL('./migrations/', import.meta.url)): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      version: Number(f.slice(0, 3)),
      name: f.slice(4, -4),
      sql: readFileSync(new URL(f, dir), 'utf8'),
    }));
}

/** Applies the pending migrations; returns the versions applied now. */
export async function migrate(
  db: Database,
  logger: Logger,
  migrations: Migration[] = loadMigrations(),
): Promise<number[]> {
  return await db.connect(async (s) => {
    await s.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await s.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const done = new Set(
        (await s.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
          (r) => r.version,
        ),
      );
      const newest = Math.max(0, ...done);
      const known = Math.max(0, ...migrations.map((m) => m.version));
      if (newest > known)
        logger.warn({ newest, known }, 'the database has migrations newer than this ledgerline');
      const applied: number[] = [];
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await s.query('BEGIN');
        try {
          await s.exec(m.sql);
          await s.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await s.query('COMMIT');
        } catch (err) {
          await s.query('ROLLBACK').catch(() => undefined);
          throw new Error(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, {
            cause: err,
          });
        }
        applied.push(m.version);
        logger.info({ version: m.version, name: m.name }, 'migration applied');
      }
      return applied;
    } finally {
      await s.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    }
  });
}
