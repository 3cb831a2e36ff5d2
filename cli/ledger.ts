import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readVerifierKeys, verifiersOf } from '../exporters/ledger/keys.ts';
import { generateKey, isValidName } from '../exporters/ledger/note.ts';
import { LogReader } from '../exporters/ledger/reader.ts';
import { verifyLog } from '../exporters/ledger/verify.ts';
import { TENANT_ID } from '../pipeline/tenants.ts';
import { parseArgs } from './args.ts';

/**
 * `ledgerline ledger ...`: key generation, offline verification of ledger directories, and
 * inclusion and consistency proofs. Every subcommand only reads the ledger files, so it is
 * safe to run beside a running ledgerline. Returns the exit code: 0 ok, 1 verification
 * failed, 2 usage error.
 */

const HELP = `ledgerline ledger — audit ledger tools

  ledgerline ledger keygen [--name NAME] [--out FILE]
      Writes a new Ed25519 signer key to FILE (mode 0600; default ./data/ledger/signing.key,
      the exporter's default) and prints its verifier key (name+hash+base64).
  ledgerline ledger verify DIR [--tenant T] [--key VKEY|FILE ...] [--origin ORIGIN]
      Re-derives every tenant log under DIR (or the one log DIR is): chain, tiles, root,
      checkpoint signature. Prints the first bad entry index of a damaged log; exit 1.
      Without --key, the keys recorded in DIR/verifier-keys are trusted (say so explicitly
      with --key for an independent check).
  ledgerline ledger prove --dir DIR --tenant T --event EVENT_ID
      Prints a c2sp.org/tlog-proof@v1 file for the event (the entry is in its extra line).
  ledgerline ledger consistency --dir DIR --tenant T --from N [--to M]
      Prints a consistency proof between tree sizes N and M (default: the latest checkpoint).
`;

/** Runs a ledger subcommand; resolves with the exit code. */
export async function ledgerCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'keygen':
        return keygen(rest);
      case 'verify':
        return verify(rest);
      case 'prove':
        return prove(rest);
      case 'consistency':
        return consistency(rest);
      case undefined:
      case '--help':
      case 'help':
        process.stdout.write(HELP);
        return 0;
      default:
        process.stderr.write(`ledgerline ledger: unknown subcommand "${sub}"\n\n${HELP}`);
        return 2;
    }
  } catch (err) {
    process.stderr.write(`ledgerline ledger ${sub}: ${(err as Error).message}\n`);
    return 2;
  }
}

function one(flags: Map<string, string[]>, name: string, fallback?: string): string {
  const v = flags.get(name)?.at(-1) ?? fallback;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}

function keygen(argv: string[]): number {
  const { flags } = parseArgs(argv, { name: true, out: true });
  const name = one(flags, 'name', 'ledgerline.local');
  if (!isValidName(name)) throw new Error(`--name "${name}" may hold no spaces and no "+"`);
  const out = one(flags, 'out', './data/ledger/signing.key');
  if (existsSync(out))
    throw new Error(`${out} exists; a signing key is never overwritten (move it away first)`);
  const { signerKey, verifierKey } = generateKey(name);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${signerKey}\n`, { mode: 0o600, flag: 'wx' });
  writeFileSync(`${out}.pub`, `${verifierKey}\n`, { mode: 0o644 });
  process.stderr.write(`wrote ${out} (secret, mode 0600) and ${out}.pub\n`);
  process.stdout.write(`${verifierKey}\n`);
  return 0;
}

/** Keys from --key values: a verifier key string, or a file of them (one a line). */
function keysFrom(values: readonly string[]): string[] {
  return values.flatMap((v) =>
    existsSync(v)
      ? readFileSync(v, 'utf8')
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
      : [v],
  );
}

function verify(argv: string[]): number {
  const { positionals, flags } = parseArgs(argv, { tenant: true, key: true, origin: true });
  const dir = positionals[0];
  if (!dir || positionals.length > 1)
    throw new Error('usage: ledgerline ledger verify DIR [--tenant T] [--key VKEY] [--origin ORIGIN]');
  // DIR is either a ledger (tenant logs below it) or one tenant log.
  const single = existsSync(join(dir, 'checkpoint'));
  const root = single ? dirname(dir) : dir;
  let tenants: string[];
  if (single) tenants = [basename(dir)];
  else if (flags.has('tenant')) tenants = [one(flags, 'tenant')];
  else
    tenants = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && TENANT_ID.test(d.name))
      .map((d) => d.name)
      .sort();
  let keys = keysFrom(flags.get('key') ?? []);
  if (keys.length === 0) {
    keys = readVerifierKeys(root);
    if (keys.length === 0)
      throw new Error('no verifier key: pass --key (name+hash+base64, or a file of them)');
    process.stderr.write(
      `note: trusting the ${keys.length} key(s) in ${join(root, 'verifier-keys')}; pass --key for an independent check\n`,
    );
  }
  const verifiers = verifiersOf(keys);
  const progress = process.stderr.isTTY;
  let failed = 0;
  for (const tenant of tenants) {
    const logDir = single ? dir : join(dir, tenant);
    const origin = flags.has('origin') ? `${one(flags, 'origin')}/t/${tenant}` : originOf(logDir, tenant);
    const report = verifyLog(logDir, {
      origin,
      verifiers,
      onProgress: progress
        ? (done, total) =>
            process.stderr.write(
              `\r${tenant}: ${done}/${total} entries (${Math.floor((100 * done) / Math.max(1, total))}%)`,
            )
        : undefined,
    });
    if (progress) process.stderr.write('\r\x1b[K');
    if (report.ok) {
      const tail = report.size - report.checkpointSize;
      process.stdout.write(
        `${tenant}: ok, ${report.size} entries, checkpoint ${report.checkpointSize}${tail > 0 ? ` (${tail} not yet checkpointed)` : ''}\n`,
      );
    } else {
      failed++;
      const at = report.firstBadIndex === undefined ? '' : ` at entry ${report.firstBadIndex}`;
      process.stdout.write(
        `${tenant}: FAILED${at}: ${report.problem}${report.file ? ` [${report.file}]` : ''}\n`,
      );
    }
  }
  return failed > 0 ? 1 : 0;
}

/** The origin a tenant log's checkpoint names, which must end in `/t/<tenant>`. */
function originOf(logDir: string, tenant: string): string {
  const path = join(logDir, 'checkpoint');
  const first = existsSync(path) ? readFileSync(path, 'utf8').split('\n', 1)[0]! : '';
  return first.endsWith(`/t/${tenant}`) ? first : `(unknown origin)/t/${tenant}`;
}

function readerFor(flags: Map<string, string[]>): LogReader {
  const tenant = one(flags, 'tenant');
  if (!TENANT_ID.test(tenant)) throw new Error(`--tenant "${tenant}" is not a tenant id`);
  const reader = new LogReader(join(one(flags, 'dir', './data/ledger'), tenant));
  if (!reader.exists()) throw new Error(`no ledger for tenant ${tenant} in ${reader.dir}`);
  return reader;
}

function prove(argv: string[]): number {
  const { flags } = parseArgs(argv, { dir: true, tenant: true, event: true });
  const reader = readerFor(flags);
  const id = one(flags, 'event');
  const index = reader.findEvent(id);
  if (index === undefined) throw new Error(`event ${id} is not in the ledger of ${one(flags, 'tenant')}`);
  process.stdout.write(reader.proveInclusion(index));
  return 0;
}

function consistency(argv: string[]): number {
  const { flags } = parseArgs(argv, { dir: true, tenant: true, from: true, to: true });
  const reader = readerFor(flags);
  const latest = reader.checkpoint().size;
  const p = reader.proveConsistency(Number(one(flags, 'from')), Number(one(flags, 'to', String(latest))));
  let out = `consistency ${p.from} ${p.to}\nroot ${p.from} ${p.rootFrom.toString('base64')}\nroot ${p.to} ${p.rootTo.toString('base64')}\n`;
  for (const h of p.proof) out += `${h.toString('base64')}\n`;
  process.stdout.write(`${out}\n${p.checkpoint}`);
  return 0;
}
