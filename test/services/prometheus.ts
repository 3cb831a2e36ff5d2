import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

/**
 * A throw-away Prometheus server (Debian package `prometheus`) scraping the test's ledgerline
 * on a short interval, with a client for its HTTP query API, and `promtool` for linting
 * expositions and testing rule files. Missing binaries are an error, never a skip:
 * run test/services/install-prometheus.sh.
 */

/** One endpoint Prometheus scrapes. */
export interface ScrapeTarget {
  job: string;
  /** Base URL of the target, `http://127.0.0.1:<port>`. */
  url: string;
  /** Default `/metrics`. */
  path?: string;
  /** File holding a bearer token Prometheus sends (`authorization.credentials_file`). */
  bearerTokenFile?: string;
}

/** One series of an instant query's answer. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** A running Prometheus. */
export interface PrometheusService {
  /** `http://127.0.0.1:<port>` */
  url: string;
  dir: string;
  /** Instant query at the current time. */
  query(promql: string): Promise<Sample[]>;
  /** Polls `promql` until `accept` holds (e.g. a scrape brought the expected value); returns that answer. */
  waitFor(promql: string, accept: (samples: Sample[]) => boolean, deadlineMs?: number): Promise<Sample[]>;
  /** The scrape targets' health, as `/api/v1/targets` reports it. */
  targets(): Promise<{ job: string; health: string; lastError: string }[]>;
  /** Server log so far (for failure messages). */
  logs(): string;
  /** Stops the server and removes its data. Idempotent. */
  stop(): Promise<void>;
}

/** Path of a binary from the package, or an error naming the install script. */
export function prometheusBinary(name: 'prometheus' | 'promtool'): string {
  const env = process.env[name === 'prometheus' ? 'PROMETHEUS_BIN' : 'PROMTOOL_BIN'];
  if (env) return env;
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error(`${name} not found on PATH; run test/services/install-prometheus.sh`);
  return found;
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What to start Prometheus with. */
export interface PrometheusOptions {
  targets: ScrapeTarget[];
  /** Scrape and rule evaluation interval. Default 1000. */
  scrapeIntervalMs?: number;
  ruleFiles?: string[];
}

/**
 * Starts Prometheus scraping `targets`. The free port is found before Prometheus binds it, so
 * another suite may take it in between: that start is retried on a new port.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusService> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test((err as Error).message)) throw err;
    }
  }
}

async function startOnce(options: PrometheusOptions): Promise<PrometheusService> {
  const bin = prometheusBinary('prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'll-prometheus-'));
  const interval = `${options.scrapeIntervalMs ?? 1000}ms`;
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    rule_files: options.ruleFiles ?? [],
    scrape_configs: options.targets.map((t) => {
      const u = new URL(t.url);
      return {
        job_name: t.job,
        scheme: u.protocol.replace(':', ''),
        metrics_path: t.path ?? '/metrics',
        ...(t.bearerTokenFile
          ? { authorization: { type: 'Bearer', credentials_file: t.bearerTokenFile } }
          : {}),
        static_configs: [{ targets: [u.host] }],
      };
    }),
  };
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, stringify(config));
  execFileSync(prometheusBinary('promtool'), ['check', 'config', configFile], { stdio: 'pipe' });

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = '';
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const api = async (path: string): Promise<unknown> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: unknown; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error}`);
    return body.data;
  };

  for (let i = 0; ; i++) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited at start:\n${log}`);
    }
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300) {
      await stop();
      throw new Error(`prometheus did not become ready:\n${log}`);
    }
    await sleep(100);
  }

  const query = async (promql: string): Promise<Sample[]> => {
    const data = (await api(`/api/v1/query?query=${encodeURIComponent(promql)}`)) as {
      resultType: string;
      result: { metric: Record<string, string>; value: [number, string] }[] | [number, string];
    };
    if (data.resultType === 'scalar')
      return [{ metric: {}, value: Number((data.result as [number, string])[1]) }];
    return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({
      metric: r.metric,
      value: Number(r.value[1]),
    }));
  };

  return {
    url,
    dir,
    query,
    async waitFor(promql, accept, deadlineMs = 60_000) {
      const until = Date.now() + deadlineMs;
      let last: Sample[] = [];
      while (Date.now() < until) {
        last = await query(promql);
        if (accept(last)) return last;
        await sleep(250);
      }
      throw new Error(`prometheus: ${promql} never matched; last answer ${JSON.stringify(last)}\n${log}`);
    },
    async targets() {
      const data = (await api('/api/v1/targets')) as {
        activeTargets: { labels: { job: string }; health: string; lastError: string }[];
      };
      return data.activeTargets.map((t) => ({ job: t.labels.job, health: t.health, lastError: t.lastError }));
    },
    logs: () => log,
    stop,
  };
}

/** Result of a promtool run. */
export interface PromtoolResult {
  ok: boolean;
  output: string;
}

/** Runs promtool with `args`, feeding `stdin`. */
export function promtool(args: string[], stdin?: string): PromtoolResult {
  const r = spawnSync(prometheusBinary('promtool'), args, { input: stdin, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** `promtool check metrics` on an exposition (text format): lint problems fail it. */
export function promtoolCheckMetrics(exposition: string): PromtoolResult {
  return promtool(['check', 'metrics'], exposition);
}
