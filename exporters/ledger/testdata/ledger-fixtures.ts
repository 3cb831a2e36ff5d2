import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testEvent } from '../../../pipeline/testing.ts';
import { generateKey, type NoteSigner, type NoteVerifier, signerFromKey, verifierFromKey } from '../note.ts';

/** Test fixtures for ledger tests: a temp dir, a key pair, and audit events. Not used at run time. */

/** A fresh temp dir and a function removing it. */
export function tempDir(prefix = 'ledger-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A key pair with its signer and verifier. */
export function testKeys(name = 'ledgerline.test'): {
  signerKey: string;
  verifierKey: string;
  signer: NoteSigner;
  verifier: NoteVerifier;
} {
  const k = generateKey(name);
  return { ...k, signer: signerFromKey(k.signerKey), verifier: verifierFromKey(k.verifierKey) };
}

/** `n` distinct audit events of `tenant`, numbered from `from`. */
export function auditEvents(n: number, tenant = 'acme', from = 0): ReturnType<typeof testEvent>[] {
  const out = [];
  for (let i = from; i < from + n; i++) {
    out.push(
      testEvent({
        event_type: 'audit',
        tenant: { id: tenant },
        entity: { type: 'policy', id: `p-${i}` },
        result: 'success',
        action: 'policy_acknowledged',
        metadata: { safe_fields_only: true, details: { n: i, note: 'ünïcødé €' } },
      }),
    );
  }
  return out;
}
