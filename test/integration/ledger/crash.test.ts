import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../../exporters/ledger/checkpoint.ts';
import { readVerifierKeys } from '../../../exporters/ledger/keys.ts';
import { TenantLog } from '../../../exporters/ledger/log.ts';
import { consistencyProof, verifyConsistency } from '../../../exporters/ledger/merkle.ts';
import { signerFromKey, verifierFromKey } from '../../../exporters/ledger/note.ts';
import { tempDir } from '../../../exporters/ledger/testdata/ledger-fixtures.ts';
import { verifyLog } from '../../../exporters/ledger/verify.ts';

// kill -9 while appending under load, restart, repeat: the log must always recover, verify,
// and hold every event whose append was acknowledged.

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const tmp = tempDir('ledger-crash-');
afterAll(() => tmp.cleanup());

/** Runs the child until it acknowledged `acks` more events, then SIGKILLs it. */
function runAndKill(dir: string, acks: number, acked: Map<string, Set<string>>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let seen = 0;
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const [word, tenant, id] = line.split(' ');
      if (word !== 'ack') return;
      const set = acked.get(tenant!) ?? new Set<string>();
      acked.set(tenant!, set);
      set.add(id!);
      if (++seen === acks) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      // Reading stops at exit; acks already in the pipe were read by 'line' handlers above.
      if (signal === 'SIGKILL') setTimeout(resolve, 50);
      else reject(new Error(`child exited ${code}: ${stderr}`));
    });
  });
}

describe('ledger crash safety', () => {
  it('recovers after kill -9 under load with every acknowledged event present', async () => {
    const dir = join(tmp.dir, 'ledger');
    const acked = new Map<string, Set<string>>();
    // Checkpoints seen after each crash: the final tree must extend every one of them.
    const seen: { tenant: string; note: string }[] = [];
    for (const acks of [1500, 2711, 4099]) {
      await runAndKill(dir, acks, acked);
      for (const tenant of ['crash-a', 'crash-b', 'crash-c']) {
        const path = join(dir, tenant, 'checkpoint');
        if (existsSync(path)) seen.push({ tenant, note: readFileSync(path, 'utf8') });
      }
    }

    const signerKey = readFileSync(join(dir, 'signing.key'), 'utf8');
    const verifiers = readVerifierKeys(dir).map(verifierFromKey);
    expect(acked.size).toBe(3);
    for (const [tenant, ids] of acked) {
      const log = await TenantLog.open({
        dir: join(dir, tenant),
        origin: `ledgerline.local/t/${tenant}`,
        signer: signerFromKey(signerKey),
      });
      const missing = [...ids].filter((id) => log.indexOf(id) === undefined);
      expect(missing, tenant).toEqual([]);
      expect(log.size).toBeGreaterThanOrEqual(ids.size);
      await log.close();
      const report = verifyLog(log.dir, { origin: log.origin, verifiers });
      expect(report, tenant).toMatchObject({ ok: true, size: log.size, checkpointSize: log.size });
      const final = openCheckpoint(log.latestCheckpoint(), verifiers, log.origin);
      for (const { note } of seen.filter((s) => s.tenant === tenant)) {
        const old = openCheckpoint(note, verifiers, log.origin);
        const proof = consistencyProof(log.nodeReader(final.size), old.size, final.size);
        expect(
          verifyConsistency(old.size, final.size, proof, old.root, final.root),
          `${tenant} ${old.size}`,
        ).toBe(true);
      }
    }
    expect(seen.length).toBeGreaterThan(0);
  }, 120_000);
});
