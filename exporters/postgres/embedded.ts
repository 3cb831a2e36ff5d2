import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Database, QueryResult, Session } from './database.ts';

/**
 * PGlite (PostgreSQL compiled to WebAssembly) in this process, for `url: embedded:<dir>`: the
 * zero-setup default. It has a single connection, so sessions take turns through a queue;
 * each session may then BEGIN/COMMIT on it exactly as on a server.
 */
export class EmbeddedDatabase implements Database {
  readonly kind = 'embedded';
  private readonly db: PGlite;
  private readonly lockFile: string | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(db: PGlite, lockFile: string | undefined) {
    this.db = db;
    this.lockFile = lockFile;
  }

  /** Opens (creating when needed) the database in `dir`; `memory://` keeps it in memory. */
  static async open(dir: string): Promise<EmbeddedDatabase> {
    if (dir.startsWith('memory://')) return new EmbeddedDatabase(await PGlite.create(dir), undefined);
    mkdirSync(dir, { recursive: true });
    const lockFile = lock(dir);
    try {
      return new EmbeddedDatabase(await PGlite.create(dir), lockFile);
    } catch (err) {
      rmSync(lockFile, { force: true });
      throw err;
    }
  }

  async connect<T>(fn: (s: Session) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('the embedded database is closed');
    const run = this.tail.then(async () => {
      try {
        return await fn(this.session());
      } catch (err) {
        // Leave the single connection clean for the next session, as a pool would.
        if (this.db.isInTransaction()) await this.db.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
    this.tail = run.catch(() => undefined);
    return await run;
  }

  private session(): Session {
    const db = this.db;
    return {
      connection: db,
      async query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
        const r = await db.query<R>(sql, params);
        return { rows: r.rows };
      },
      async exec(sql: string): Promise<void> {
        await db.exec(sql);
      },
      async copyFrom(target: string, text: string): Promise<void> {
        await db.query(`COPY ${target} FROM '/dev/blob'`, [], { blob: new Blob([text]) });
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const drained = this.tail;
    this.closed = true;
    await drained;
    await this.db.close();
    if (this.lockFile) rmSync(this.lockFile, { force: true });
  }
}

/**
 * PGlite takes no lock on its directory, and two instances on one directory corrupt it (two
 * `npm start`s, say): a pid file refuses the second one. A file left by a process that died
 * is taken over.
 */
function lock(dir: string): string {
  const file = join(dir, 'ledgerline.pid');
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return file;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const holder = Number(readFileSync(file, 'utf8').trim());
  if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
    throw new Error(
      `the embedded database ${dir} is in use by process ${holder} (remove ${file} if that is wrong)`,
    );
  }
  writeFileSync(file, String(process.pid));
  return file;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
