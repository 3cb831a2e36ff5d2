import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { Logger } from 'pino';
import type { PostgresConfig } from './config.ts';

/**
 * The little the exporter needs from a database, implemented twice with the same SQL: a
 * PostgreSQL server through a `pg` pool (COPY through pg-copy-streams) and PGlite in process
 * (COPY from a blob), see embedded.ts. Transactions are plain BEGIN/COMMIT on one session.
 */

/** Rows of a statement. */
export interface QueryResult<R> {
  rows: R[];
}

/** One connection, held for the duration of a `connect` callback. */
export interface Session {
  /** Identity of the physical connection (for per-connection state such as temp tables). */
  readonly connection: object;
  /** One statement with `$n` parameters. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  /** A script of several statements, no parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** Bulk load: COPY `target` (e.g. `staging (a, b)`) from text-format rows. */
  copyFrom(target: string, text: string): Promise<void>;
}

/** A server or an embedded database. */
export interface Database {
  readonly kind: 'server' | 'embedded';
  /** Runs `fn` on one connection; the connection is dropped if `fn` failed on it. */
  connect<T>(fn: (s: Session) => Promise<T>): Promise<T>;
  /** Closes every connection. Idempotent. */
  close(): Promise<void>;
}

/** A PostgreSQL server through a connection pool. */
export class ServerDatabase implements Database {
  readonly kind = 'server';
  private readonly pool: pg.Pool;
  private closed = false;

  constructor(config: PostgresConfig, logger: Logger) {
    const statementTimeout = config.pool.statement_timeout_ms;
    this.pool = new pg.Pool({
      connectionString: config.url,
      max: config.pool.max,
      connectionTimeoutMillis: config.pool.connect_timeout_ms,
      idleTimeoutMillis: 30_000,
      ...(statementTimeout > 0 ? { statement_timeout: statementTimeout } : {}),
      application_name: 'ledgerline',
    });
    // An idle connection that dies (server restart) must not crash the process; the pool
    // drops it and the next batch reconnects.
    this.pool.on('error', (err) => logger.warn({ err: err.message }, 'postgres connection lost'));
  }

  async connect<T>(fn: (s: Session) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let failed: unknown;
    // The pool only listens on idle clients; a checked-out one that loses its socket between
    // two statements emits 'error' too, which must not become an uncaught exception. The
    // next statement then fails and the session is dropped.
    let lost: Error | undefined;
    const onError = (err: Error) => {
      lost = err;
    };
    client.on('error', onError);
    try {
      return await fn(serverSession(client));
    } catch (err) {
      failed = err;
      throw err;
    } finally {
      client.off('error', onError);
      // A failed session may be mid-transaction or broken: never hand it to the next batch.
      const broken = failed ?? lost;
      client.release(
        broken === undefined ? undefined : broken instanceof Error ? broken : new Error(String(broken)),
      );
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

function serverSession(client: pg.PoolClient): Session {
  return {
    connection: client,
    async query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      const r = await client.query(sql, params);
      return { rows: r.rows as R[] };
    },
    async exec(sql: string): Promise<void> {
      await client.query(sql);
    },
    async copyFrom(target: string, text: string): Promise<void> {
      const stream = client.query(copyStreams.from(`COPY ${target} FROM STDIN`));
      await new Promise<void>((resolve, reject) => {
        stream.on('error', reject);
        stream.on('finish', resolve);
        stream.end(text);
      });
    },
  };
}
