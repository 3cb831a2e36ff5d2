import { z } from 'zod';

/** Settings of the postgres exporter (DESIGN §8). */
export const postgresConfigSchema = z.strictObject({
  url: z
    .string()
    .min(1)
    .refine((u) => /^(postgres|postgresql):\/\//.test(u) || /^embedded:.+/.test(u), {
      message: 'must be postgres://user@host:port/db or embedded:<dir> (e.g. embedded:./data/pg)',
    })
    .default('embedded:./data/pg')
    .describe(
      'Database: `postgres://...` for a PostgreSQL server, or `embedded:<dir>` for in-process PGlite storing its files in <dir>. Default embedded:./data/pg.',
    ),
  pool: z
    .strictObject({
      max: z
        .number()
        .int()
        .min(1)
        .max(100)
        .default(4)
        .describe('Connections to a PostgreSQL server. Default 4. Ignored when embedded (one connection).'),
      connect_timeout_ms: z
        .number()
        .int()
        .positive()
        .default(5_000)
        .describe('Give up connecting after this long (retryable). Default 5000.'),
      statement_timeout_ms: z
        .number()
        .int()
        .nonnegative()
        .default(30_000)
        .describe(
          'Server-side statement_timeout for every connection; a batch running longer is retried. Default 30000; 0 means none.',
        ),
    })
    .prefault({})
    .describe('Connection pool to a PostgreSQL server.'),
  batch: z
    .strictObject({
      max_rows: z
        .number()
        .int()
        .min(1)
        .max(1_000_000)
        .default(10_000)
        .describe(
          'Largest number of events written in one transaction; bigger batches are split. Default 10000.',
        ),
      dedupe_window_hours: z
        .number()
        .int()
        .min(0)
        .max(168)
        .default(24)
        .describe(
          'Also skip an event whose event_id is stored with an occurred_at up to this many hours away (a producer that re-sends an id without occurred_at). Default 24; 0: only exact (event_id, occurred_at) replays are skipped.',
        ),
      fold_interval_ms: z
        .number()
        .int()
        .min(10)
        .max(3_600_000)
        .default(5_000)
        .describe(
          'Batches append rollup deltas to usage_rollup_pending; every this many ms (when any were appended) they are folded into the rollup tables, merging keys that repeat across batches. Readers count pending deltas too, so this only bounds how many they add up. Default 5000.',
        ),
      fold_rows: z
        .number()
        .int()
        .min(1)
        .max(10_000_000)
        .default(50_000)
        .describe(
          'Also fold as soon as this many delta rows were appended since the last fold. Default 50000.',
        ),
    })
    .prefault({})
    .describe('How batches are written.'),
  partitions: z
    .strictObject({
      ahead_days: z
        .number()
        .int()
        .min(0)
        .max(60)
        .default(3)
        .describe('Daily partitions created ahead of today. Default 3; 0: only today (others on demand).'),
      future_days: z
        .number()
        .int()
        .min(0)
        .max(60)
        .default(2)
        .describe(
          'Events whose occurred_at is more than this many days after today (UTC) go to the dead-letter table. Default 2.',
        ),
    })
    .prefault({})
    .describe('Daily partitions of usage_events (UTC days).'),
  retention: z
    .strictObject({
      raw_days: z
        .number()
        .int()
        .min(1)
        .max(3660)
        .default(30)
        .describe(
          'Days of raw usage_events kept besides today (UTC), seed 001 USAGE_RETENTION_DAYS; older partitions are dropped whole and older events are dead-lettered. Also the largest `days` of the usage API. Default 30.',
        ),
      rollup_days: z
        .number()
        .int()
        .min(1)
        .max(36600)
        .default(396)
        .describe('Days of hourly and daily rollups kept (13 months, seed 003). Default 396.'),
      dead_letter_days: z
        .number()
        .int()
        .min(1)
        .max(36600)
        .default(30)
        .describe('Days dead-letter rows are kept. Default 30.'),
    })
    .prefault({})
    .describe('What is kept, and for how long.'),
  maintenance_interval_ms: z
    .number()
    .int()
    .min(1_000)
    .default(3_600_000)
    .describe(
      'How often partitions are created ahead and retention is applied (also at start). Default 3600000 (hourly).',
    ),
});

/** Postgres exporter settings. */
export type PostgresConfig = z.output<typeof postgresConfigSchema>;
