import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/**
 * A throw-away PostgreSQL cluster from the Debian package's binaries: initdb into a temp dir,
 * started on a free port on 127.0.0.1 with its unix socket in that dir. As root (CI), the
 * server runs as the `postgres` user (created when missing), since PostgreSQL refuses root.
 * Missing binaries are an error, never a skip: run test/services/install-postgres.sh.
 */

/** A running throw-away cluster. */
export interface PostgresService {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  /** Directory holding the cluster, its socket and its log. */
  dir: string;
  /** The server binaries' directory (psql lives there too). */
  bin: string;
  /** A fresh database in this cluster; returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server (fast shutdown) and keeps the data. */
  halt(): Promise<void>;
  /** Starts a halted server again on the same port. */
  start(): Promise<void>;
  /** Stops and starts the server. */
  restart(): Promise<void>;
  /** Stops the server and removes the cluster. Idempotent. */
  stop(): Promise<void>;
}

const ROOT = '/usr/lib/postgresql';
const SERVER_USER = 'postgres';
let dbCounter = 0;
const execFileAsync = promisify(execFile);

/** Directory of the newest installed server's binaries. */
export function postgresBin(): string {
  const versions = existsSync(ROOT)
    ? readdirSync(ROOT)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(ROOT, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      `PostgreSQL server binaries not found under ${ROOT}/<version>/bin; run test/services/install-postgres.sh`,
    );
  }
  return join(ROOT, versions[0]!, 'bin');
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function ensureServerUser(): { uid: number; gid: number } {
  const lookup = (): string => execFileSync('getent', ['passwd', SERVER_USER], { encoding: 'utf8' });
  let line: string;
  try {
    line = lookup();
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/bin/sh', SERVER_USER]);
    line = lookup();
  }
  const f = line.trim().split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** Starts a new cluster. `fsync: false` (default) speeds tests; a killed server keeps commits either way. */
export async function startPostgres(options: { fsync?: boolean } = {}): Promise<PostgresService> {
  const bin = postgresBin();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'ledgerline-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const argv = (tool: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', SERVER_USER, '--', join(bin, tool), ...args]] : [join(bin, tool), args];
  const run = (tool: string, args: string[]): string => {
    const [cmd, a] = argv(tool, args);
    return execFileSync(cmd, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  // Async so that the test's event loop (and the sink's retries) keep running meanwhile.
  const runAsync = async (tool: string, args: string[]): Promise<void> => {
    const [cmd, a] = argv(tool, args);
    await execFileAsync(cmd, a, { encoding: 'utf8', cwd: dir });
  };
  if (asRoot) {
    const { uid, gid } = ensureServerUser();
    chownSync(dir, uid, gid);
  }
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    '-h 127.0.0.1',
    `-c fsync=${options.fsync ? 'on' : 'off'}`,
    '-c max_connections=100',
    '-c shared_buffers=256MB',
  ].join(' ');
  let running = false;
  const start = async (): Promise<void> => {
    try {
      await runAsync('pg_ctl', ['-D', data, '-o', settings, '-l', log, '-w', '-t', '60', 'start']);
    } catch (err) {
      throw new Error(`postgres did not start: ${(err as Error).message}\n${safeRead(log)}`);
    }
    running = true;
  };
  const halt = async (): Promise<void> => {
    if (!running) return;
    await runAsync('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
    running = false;
  };
  const onExit = (): void => {
    // Never leave a server behind when the test process ends abruptly.
    try {
      if (running) run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  await start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    url,
    port,
    dir,
    bin,
    async createDatabase(name?: string): Promise<string> {
      const db = name ?? `t_${process.pid}_${Date.now().toString(36)}_${dbCounter++}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${db.replaceAll('"', '""')}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(db)}`;
    },
    halt,
    start,
    async restart(): Promise<void> {
      await halt();
      await start();
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      try {
        await halt();
      } catch {
        try {
          run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
        } catch {}
      }
      process.off('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function safeRead(path: string): string {
  try {
    return execFileSync('tail', ['-n', '30', path], { encoding: 'utf8' });
  } catch {
    return '';
  }
}
