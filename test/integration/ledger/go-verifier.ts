import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs the Go reference verifier (test/go/ledgerverify), built once per test run with
 * `build.sh` from the Go module proxy. Missing Go is a failure, never a skip.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DIR = join(ROOT, 'test', 'go', 'ledgerverify');
const BIN = join(DIR, 'ledgerverify');

/** One case for the Go verifier (see test/go/ledgerverify/main.go). */
export interface GoCase {
  kind: 'checkpoint' | 'inclusion' | 'consistency' | 'log' | 'proof-file' | 'sign';
  [key: string]: unknown;
}

/** One answer of the Go verifier. */
export interface GoResult {
  ok: boolean;
  error?: string;
  tlog?: boolean;
  size?: number;
  root?: string;
  skey?: string;
  vkey?: string;
  signed?: string;
}

let built = false;

/** Builds the verifier (go caches the build, so this is quick after the first time). */
export function buildGoVerifier(): void {
  if (built) return;
  execFileSync('sh', [join(DIR, 'build.sh')], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
  if (!existsSync(BIN)) throw new Error('the Go verifier did not build');
  built = true;
}

/** Runs cases through the Go verifier with the given trusted verifier keys. */
export function runGo(vkeys: string[], cases: GoCase[]): GoResult[] {
  buildGoVerifier();
  const out = execFileSync(BIN, [], {
    input: JSON.stringify({ vkeys, cases }),
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  return JSON.parse(out.toString('utf8')) as GoResult[];
}
