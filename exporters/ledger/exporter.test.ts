import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testBatch, testEvent, testHost, testSettings } from '../../pipeline/testing.ts';
import { openCheckpoint } from './checkpoint.ts';
import { configSchema } from './config.ts';
import type { LedgerExporter } from './exporter.ts';
import { ledgerExporterFactory } from './factory.ts';
import { readVerifierKeys, verifiersOf } from './keys.ts';
import { consistencyProof, verifyConsistency } from './merkle.ts';
import { generateKey, verifierFromKey } from './note.ts';
import { auditEvents, tempDir } from './testdata/ledger-fixtures.ts';
import { verifyLog } from './verify.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function make(config: Record<string, unknown> = {}): { exporter: LedgerExporter; dir: string } {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const dir = (config.dir as string | undefined) ?? t.dir;
  const settings = testSettings('ledger');
  const exporter = ledgerExporterFactory.create(
    settings,
    configSchema.parse({ dir, generate_key: true, ...config }),
  ) as LedgerExporter;
  return { exporter, dir };
}

describe('ledger exporter', () => {
  it('is a ledger exporter by its capabilities, and shuts down without start, twice', async () => {
    expect(ledgerExporterFactory.capabilities).toEqual({ ledger: true });
    const { exporter } = make();
    await exporter.shutdown();
    await exporter.shutdown();
  });

  it('appends each tenant to its own log and resolves after the write', async () => {
    const { exporter, dir } = make();
    await exporter.start(testHost(testSettings('ledger')));
    const events = [
      ...auditEvents(3, 'acme'),
      ...auditEvents(2, 'globex'),
      testEvent({ tenant: { id: 'acme' } }),
    ];
    const batch = testBatch(events);
    await exporter.consume(batch);
    expect(batch.report.rejected).toEqual([]);
    expect((await exporter.log('acme')).size).toBe(4); // the activity event is kept too
    expect((await exporter.log('globex')).size).toBe(2);
    await exporter.shutdown();
    const verifiers = verifiersOf(readVerifierKeys(dir));
    for (const t of ['acme', 'globex']) {
      expect(verifyLog(join(dir, t), { origin: `ledgerline.local/t/${t}`, verifiers }).ok).toBe(true);
    }
  });

  it('rejects events it cannot ledger and keeps the rest', async () => {
    const { exporter } = make();
    await exporter.start(testHost(testSettings('ledger')));
    const [ok] = auditEvents(1);
    const badTenant = { ...auditEvents(1)[0]!, tenant: { id: '../etc' } };
    const reserved = { ...auditEvents(1)[0]!, tenant: { id: 'signing.key' } };
    const [huge] = auditEvents(1);
    huge!.metadata.details = { blob: 'x'.repeat(70_000) };
    const batch = testBatch([ok!, badTenant, reserved, huge!]);
    await exporter.consume(batch);
    expect(batch.report.rejected.map((r) => [r.event_id, r.code])).toEqual([
      [badTenant.event_id, 'invalid_event'],
      [reserved.event_id, 'invalid_event'],
      [huge!.event_id, 'invalid_event'],
    ]);
    expect((await exporter.log('acme')).size).toBe(1);
    await exporter.shutdown();
  });

  it('creates a development key with mode 0600 only when generate_key is set', async () => {
    const { exporter, dir } = make();
    await exporter.start(testHost(testSettings('ledger')));
    expect(statSync(join(dir, 'signing.key')).mode & 0o777).toBe(0o600);
    expect(readVerifierKeys(dir)).toEqual([exporter.verifierKey]);
    await exporter.shutdown();
    const { exporter: strict } = make({ generate_key: false });
    await expect(strict.start(testHost(testSettings('ledger')))).rejects.toThrow(/ledger keygen/);
  });

  it('allows one writer per ledger directory and takes over a lock left by a dead process', async () => {
    const { exporter: a, dir } = make();
    await a.start(testHost(testSettings('ledger')));
    const { exporter: b } = make({ dir });
    await expect(b.start(testHost(testSettings('ledger')))).rejects.toThrow(/another ledger exporter/);
    await a.shutdown();
    // As after kill -9: the lock names a process that is gone.
    writeFileSync(join(dir, 'writer.lock'), '2147483646\n');
    const { exporter: c } = make({ dir });
    await c.start(testHost(testSettings('ledger')));
    expect(readFileSync(join(dir, 'writer.lock'), 'utf8').trim()).toBe(String(process.pid));
    await c.shutdown();
  });

  it('keeps old checkpoints verifiable across a key rotation', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const k1 = generateKey('ledgerline.local');
    const k2 = generateKey('ledgerline.local');
    writeFileSync(join(t.dir, 'k1'), k1.signerKey, { mode: 0o600 });
    writeFileSync(join(t.dir, 'k2'), k2.signerKey, { mode: 0o600 });
    const dir = join(t.dir, 'ledger');

    const { exporter: a } = make({ dir, signing_key_file: join(t.dir, 'k1'), generate_key: false });
    await a.start(testHost(testSettings('ledger')));
    await a.consume(testBatch(auditEvents(10)));
    await a.shutdown();
    const old = readFileSync(join(dir, 'acme', 'checkpoint'), 'utf8');
    const oldCp = openCheckpoint(old, [verifierFromKey(k1.verifierKey)], 'ledgerline.local/t/acme');

    const { exporter: b } = make({ dir, signing_key_file: join(t.dir, 'k2'), generate_key: false });
    await b.start(testHost(testSettings('ledger')));
    await b.consume(testBatch(auditEvents(5, 'acme', 10)));
    const log = await b.log('acme');
    await b.shutdown();
    const fresh = openCheckpoint(log.latestCheckpoint(), [verifierFromKey(k2.verifierKey)], log.origin);
    expect(fresh.size).toBe(15);
    expect(() =>
      openCheckpoint(log.latestCheckpoint(), [verifierFromKey(k1.verifierKey)], log.origin),
    ).toThrow();
    // The old checkpoint still verifies with the old key, and the new tree extends it.
    expect(openCheckpoint(old, [verifierFromKey(k1.verifierKey)], log.origin).size).toBe(10);
    expect(
      verifyConsistency(10, 15, consistencyProof(log.nodeReader(15), 10, 15), oldCp.root, fresh.root),
    ).toBe(true);
    expect(readVerifierKeys(dir)).toEqual([k1.verifierKey, k2.verifierKey]);
    expect(verifyLog(log.dir, { origin: log.origin, verifiers: verifiersOf(readVerifierKeys(dir)) }).ok).toBe(
      true,
    );
  });
});
