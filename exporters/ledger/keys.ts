import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  generateKey,
  type NoteSigner,
  type NoteVerifier,
  signerFromKey,
  verifierFromKey,
  verifierKeyOf,
} from './note.ts';

/**
 * The ledger's signing key and the verifier keys it has ever used. Every verifier key goes in
 * `<dir>/verifier-keys` (one a line, never removed), so checkpoints signed before a key
 * rotation still verify with the key they were signed with.
 */

/** File under the ledger dir listing every verifier key ever used. */
export const VERIFIER_KEYS_FILE = 'verifier-keys';

/** Loads the signer key, creating it when allowed; records its verifier key. */
export function loadSigner(options: { dir: string; keyFile: string; generate: boolean; name: string }): {
  signer: NoteSigner;
  verifierKey: string;
  generated: boolean;
} {
  const file = options.keyFile || join(options.dir, 'signing.key');
  let generated = false;
  if (!existsSync(file)) {
    if (!options.generate) {
      throw new Error(
        `signing key file ${file} does not exist: create one with \`ledgerline ledger keygen --name ${options.name} --out ${file}\`, or set generate_key: true for a development key`,
      );
    }
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${generateKey(options.name).signerKey}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    generated = true;
  }
  const text = readFileSync(file, 'utf8').trim();
  const signer = signerFromKey(text);
  const verifierKey = verifierKeyOf(text);
  recordVerifierKey(options.dir, verifierKey);
  return { signer, verifierKey, generated };
}

/** Adds a verifier key to `<dir>/verifier-keys` unless it is there. */
export function recordVerifierKey(dir: string, verifierKey: string): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, VERIFIER_KEYS_FILE);
  if (readVerifierKeys(dir).includes(verifierKey)) return;
  appendFileSync(file, `${verifierKey}\n`, { mode: 0o644 });
}

/** Verifier key strings recorded under the ledger dir. */
export function readVerifierKeys(dir: string): string[] {
  const file = join(dir, VERIFIER_KEYS_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** Verifiers from key strings. */
export function verifiersOf(keys: readonly string[]): NoteVerifier[] {
  return keys.map(verifierFromKey);
}
