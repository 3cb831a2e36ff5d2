import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs `ledgerline run` as a real child process for end-to-end tests, the way users run it.
 * The config is written to a fresh temporary folder that is also the working directory, so
 * `./data/...` paths stay inside it. Endpoints come from the `listening` log lines.
 */

const CLI = join(import.meta.dirname, '..', '..', 'cli', 'ledgerline.ts');

/** A running ledgerline child process. */
export interface RunningLedgerline {
  /** `<component id>` or `<component id>:<protocol>` → URL, e.g. endpoints.http = http://127.0.0.1:41234 */
  endpoints: Record<string, string>;
  /** The working directory (holds the config and ./data). */
  dir: string;
  process: ChildProcess;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, no drain. */
  kill(): Promise<void>;
  /** Everything written to stdout and stderr so far. */
  logs(): string;
}

/** Options for starting ledgerline. */
export interface StartOptions {
  config: string;
  env?: Record<string, string>;
  dir?: string;
  /** Extra config files (YAML texts) merged after the main one. */
  extraConfigs?: string[];
  startTimeoutMs?: number;
}

/** Starts ledgerline on a config; resolves once it logged "ledgerline started". */
export async function startLedgerline(options: StartOptions): Promise<RunningLedgerline> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'ledgerline-e2e-'));
  const files = [options.config, ...(options.extraConfigs ?? [])].map((text, i) => {
    const file = join(dir, `config-${i}.yaml`);
    writeFileSync(file, text);
    return file;
  });
  const args = [CLI, 'run', ...files.flatMap((f) => ['--config', f]), '--log-format', 'json'];
  const child = spawn(process.execPath, args, {
    cwd: dir,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const endpoints: Record<string, string> = {};
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`ledgerline did not start in time:\n${output}`)),
      options.startTimeoutMs ?? 30_000,
    );
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(line);
        } catch {
          continue;
        }
        if (rec.msg === 'listening' && typeof rec.url === 'string') {
          endpoints[rec.protocol ? `${rec.component}:${rec.protocol}` : String(rec.component)] = rec.url;
        }
        if (rec.msg === 'ledgerline started') {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`ledgerline exited with ${code} before starting:\n${output}`));
    });
  });

  return {
    endpoints,
    dir,
    process: child,
    logs: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
