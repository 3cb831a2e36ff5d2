import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../exporters/ledger/config.ts';
import { LedgerExporter } from '../exporters/ledger/exporter.ts';
import { verifyConsistency } from '../exporters/ledger/merkle.ts';
import { verifierFromKey } from '../exporters/ledger/note.ts';
import { parseProof, verifyProof } from '../exporters/ledger/proof-file.ts';
import { auditEvents, tempDir } from '../exporters/ledger/testdata/ledger-fixtures.ts';
import { testBatch, testHost, testSettings } from '../pipeline/testing.ts';

// The `ledgerline ledger` tools, run as a user runs them: through cli/ledgerline.ts.

const CLI = fileURLToPath(new URL('./ledgerline.ts', import.meta.url));
const tmp = tempDir('ledger-cli-');
afterAll(() => tmp.cleanup());

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'ledger', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('ledgerline ledger', () => {
  const dir = join(tmp.dir, 'ledger');
  const keyFile = join(tmp.dir, 'keys', 'signing.key');
  let vkey = '';
  const events = auditEvents(300, 'acme');

  it('keygen writes a 0600 key and prints its verifier key; never overwrites', () => {
    const r = cli('keygen', '--name', 'cli.test', '--out', keyFile);
    expect(r.code).toBe(0);
    vkey = r.stdout.trim();
    expect(vkey).toMatch(/^cli\.test\+[0-9a-f]{8}\+/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${keyFile}.pub`, 'utf8').trim()).toBe(vkey);
    expect(cli('keygen', '--out', keyFile).code).toBe(2);
  });

  it('verify passes a good ledger and names the first bad index of a damaged one', async () => {
    const settings = testSettings('ledger');
    const exporter = new LedgerExporter(
      settings,
      configSchema.parse({ dir, origin: 'cli.test', signing_key_file: keyFile }),
    );
    await exporter.start(testHost(settings));
    await exporter.consume(testBatch(events));
    await exporter.consume(testBatch(auditEvents(5, 'globex')));
    await exporter.shutdown();

    const ok = cli('verify', dir, '--key', vkey);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('acme: ok, 300 entries, checkpoint 300\nglobex: ok, 5 entries, checkpoint 5\n');
    expect(cli('verify', join(dir, 'acme'), '--key', `${keyFile}.pub`).code).toBe(0);
    // An untrusted key fails the signature check.
    const wrong = cli(
      'verify',
      dir,
      '--tenant',
      'globex',
      '--key',
      execFileSync(process.execPath, [CLI, 'ledger', 'keygen', '--out', join(tmp.dir, 'other.key')], {
        encoding: 'utf8',
      }).trim(),
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/^globex: FAILED: checkpoint/);

    const bundle = join(dir, 'acme', 'tile/entries/001.p/44');
    chmodSync(bundle, 0o644);
    const data = readFileSync(bundle);
    data[data.length - 10]! ^= 0x20;
    writeFileSync(bundle, data);
    const bad = cli('verify', dir, '--key', vkey);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^acme: FAILED at entry 299: /m);
    expect(bad.stdout).toMatch(/^globex: ok/m);
  });

  it('prove prints a tlog-proof that verifies and carries the entry', () => {
    const r = cli('prove', '--dir', dir, '--tenant', 'acme', '--event', events[42]!.event_id);
    expect(r.code, r.stderr).toBe(0);
    const p = parseProof(r.stdout);
    expect(p.index).toBe(42);
    expect(() => verifyProof(r.stdout, p.extra!, [verifierFromKey(vkey)], 'cli.test/t/acme')).not.toThrow();
    expect(JSON.parse(p.extra!.toString('utf8')).event_id).toBe(events[42]!.event_id);
    expect(cli('prove', '--dir', dir, '--tenant', 'acme', '--event', 'nope').code).toBe(2);
  });

  it('consistency prints a proof between two sizes that verifies', () => {
    const r = cli('consistency', '--dir', dir, '--tenant', 'acme', '--from', '100');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('consistency 100 300');
    const root1 = Buffer.from(lines[1]!.split(' ')[2]!, 'base64');
    const root2 = Buffer.from(lines[2]!.split(' ')[2]!, 'base64');
    const proof = lines.slice(3, lines.indexOf('')).map((l) => Buffer.from(l, 'base64'));
    expect(verifyConsistency(100, 300, proof, root1, root2)).toBe(true);
    expect(cli('consistency', '--dir', dir, '--tenant', 'acme', '--from', '301').code).toBe(2);
  });
});
