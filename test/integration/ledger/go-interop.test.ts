import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint, signCheckpoint } from '../../../exporters/ledger/checkpoint.ts';
import { configSchema } from '../../../exporters/ledger/config.ts';
import { LedgerExporter } from '../../../exporters/ledger/exporter.ts';
import { readVerifierKeys } from '../../../exporters/ledger/keys.ts';
import { TenantLog } from '../../../exporters/ledger/log.ts';
import {
  consistencyProof,
  type Hash,
  inclusionProof,
  leafHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from '../../../exporters/ledger/merkle.ts';
import {
  generateKey,
  openNote,
  signerFromKey,
  verifierFromKey,
  verifierKeyOf,
} from '../../../exporters/ledger/note.ts';
import { formatProof, verifyProof } from '../../../exporters/ledger/proof-file.ts';
import { auditEvents, tempDir, testKeys } from '../../../exporters/ledger/testdata/ledger-fixtures.ts';
import { testBatch, testHost, testSettings } from '../../../pipeline/testing.ts';
import { buildGoVerifier, type GoCase, runGo } from './go-verifier.ts';

// The heart of the ledger's claim: tools nobody here wrote (Go's sumdb note and tlog, and
// transparency-dev/merkle) accept what we emit, and agree with our verifier on bad proofs.

const keys = testKeys('ledger.interop.test');
const tmp = tempDir('ledger-interop-');
afterAll(() => tmp.cleanup());
beforeAll(() => buildGoVerifier(), 300_000);

type Env = Record<string, unknown> & { event_id: string };

async function buildLog(tenant: string, n: number, groups = 7): Promise<TenantLog> {
  const log = await TenantLog.open({
    dir: join(tmp.dir, tenant),
    origin: `ledger.interop.test/t/${tenant}`,
    signer: keys.signer,
  });
  const per = Math.max(1, Math.ceil(n / groups));
  for (let done = 0; done < n; done += per)
    await log.append(auditEvents(Math.min(per, n - done), tenant, done) as unknown as Env[]);
  await log.checkpoint();
  return log;
}

const hex = (hs: readonly Hash[]) => hs.map((h) => h.toString('hex'));

/** Mutations of a proof: each must be refused by both sides. */
function corruptions(proof: Hash[], seed: number): Hash[][] {
  const out: Hash[][] = [];
  if (proof.length > 0) {
    const flipped = proof.map((h) => Buffer.from(h));
    flipped[seed % proof.length]![seed % 32]! ^= 1 << (seed % 8);
    out.push(flipped, proof.slice(1), proof.slice(0, -1));
    if (proof.length > 1) out.push([...proof].reverse());
  }
  out.push([...proof, proof[0] ?? Buffer.alloc(32, 7)]);
  return out;
}

describe('Go reference verifiers accept our ledger', () => {
  it('verifies whole logs (signature, every tile, every bundle, tlog proofs) at tile boundaries', async () => {
    const sizes = [0, 1, 2, 3, 255, 256, 257, 511, 512, 1000];
    const logs: TenantLog[] = [];
    for (const n of sizes) logs.push(await buildLog(`b${n}`, n));
    const res = runGo(
      [keys.verifierKey],
      logs.map((l) => ({ kind: 'log', dir: l.dir, origin: l.origin }) satisfies GoCase),
    );
    res.forEach((r, i) => {
      expect(r, `size ${sizes[i]}`).toMatchObject({ ok: true });
      expect(r.root).toBe(logs[i]!.root().toString('hex'));
    });
  });

  it('verifies a log of 65,536 entries (a full level-1 tile, a level-2 partial)', async () => {
    const log = await buildLog('big', 65_536, 16);
    const [r] = runGo([keys.verifierKey], [{ kind: 'log', dir: log.dir, origin: log.origin }]);
    expect(r).toMatchObject({ ok: true, size: 65_536 });
  }, 120_000);

  it('keeps many tenants apart: 300 logs through the exporter, each verified by Go', async () => {
    const dir = join(tmp.dir, 'many');
    const settings = testSettings('ledger');
    const exporter = new LedgerExporter(
      settings,
      configSchema.parse({ dir, origin: 'many.test', generate_key: true }),
    );
    await exporter.start(testHost(settings));
    const tenants = Array.from({ length: 300 }, (_, i) => `tenant-${i}`);
    // Batches mixing tenants, as a receiver shared by many tenants delivers them.
    for (let round = 0; round < 3; round++) {
      await exporter.consume(
        testBatch(tenants.flatMap((t, i) => auditEvents(1 + ((i + round) % 4), t, round * 10))),
      );
    }
    await exporter.shutdown();
    const res = runGo(
      readVerifierKeys(dir),
      tenants.map((t) => ({ kind: 'log', dir: join(dir, t), origin: `many.test/t/${t}` }) satisfies GoCase),
    );
    res.forEach((r, i) => {
      const expected = [0, 1, 2].reduce((n, round) => n + 1 + ((i + round) % 4), 0);
      expect(r, tenants[i]).toMatchObject({ ok: true, size: expected });
    });
    // A tenant's checkpoint does not pass as another's.
    const [cross] = runGo(readVerifierKeys(dir), [
      { kind: 'log', dir: join(dir, 'tenant-1'), origin: 'many.test/t/tenant-2' },
    ]);
    expect(cross!.ok).toBe(false);
  }, 120_000);

  it('agrees with us on inclusion and consistency proofs for random trees, good and corrupted', async () => {
    const log = await buildLog('random', 700, 13);
    const read = log.nodeReader(700);
    const samples = fc.sample(fc.tuple(fc.integer({ min: 1, max: 700 }), fc.nat(), fc.nat(), fc.nat()), {
      numRuns: 120,
      seed: 42,
    });
    const cases: GoCase[] = [];
    const ours: boolean[] = [];
    for (const [size, a, b, seed] of samples) {
      const index = a % size;
      const root = rootHash(read, size);
      const leaf = leafHash(log.readEntry(index));
      const proof = inclusionProof(read, index, size);
      for (const [p, idx, sz] of [
        [proof, index, size],
        ...corruptions(proof, seed).map((c) => [c, index, size] as const),
        [proof, (index + 1) % size, size],
      ] as const) {
        cases.push({
          kind: 'inclusion',
          index: idx,
          size: sz,
          leaf: leaf.toString('hex'),
          root: root.toString('hex'),
          proof: hex(p),
        });
        ours.push(verifyInclusion(leaf, idx, sz, p, root));
      }
      const m = 1 + (b % size);
      const root1 = rootHash(read, m);
      const cproof = consistencyProof(read, m, size);
      for (const p of [cproof, ...(m < size ? corruptions(cproof, seed) : [])]) {
        cases.push({
          kind: 'consistency',
          size1: m,
          size2: size,
          root1: root1.toString('hex'),
          root2: root.toString('hex'),
          proof: hex(p),
        });
        ours.push(verifyConsistency(m, size, p, root1, root));
      }
      if (m < size) {
        // A wrong old root must be refused too.
        const wrong = rootHash(read, m - 1 || 1);
        cases.push({
          kind: 'consistency',
          size1: m,
          size2: size,
          root1: wrong.toString('hex'),
          root2: root.toString('hex'),
          proof: hex(cproof),
        });
        ours.push(verifyConsistency(m, size, cproof, wrong, root));
      }
    }
    const theirs = runGo([], cases);
    let accepted = 0;
    theirs.forEach((r, i) => {
      const c = cases[i]!;
      expect(ours[i], `case ${i} ${JSON.stringify(c).slice(0, 200)}: merkle says ${r.ok} (${r.error})`).toBe(
        r.ok,
      );
      if (r.tlog !== undefined) expect(r.tlog, `case ${i}: x/mod tlog`).toBe(r.ok);
      if (r.ok) accepted++;
    });
    // The sample must hold both verdicts, or the agreement proves nothing.
    expect(accepted).toBeGreaterThan(100);
    expect(cases.length - accepted).toBeGreaterThan(300);
  });

  it('checks our signed checkpoints with sumdb/note and refuses altered ones', async () => {
    const log = await buildLog('cp', 42);
    const note = log.latestCheckpoint();
    const other = generateKey('ledger.interop.test');
    const altered = note.replace('\n42\n', '\n43\n');
    const flippedSig = note.slice(0, -5) + (note.at(-5) === 'A' ? 'B' : 'A') + note.slice(-4);
    const res = runGo(
      [keys.verifierKey],
      [
        { kind: 'checkpoint', note, origin: log.origin },
        { kind: 'checkpoint', note: altered, origin: log.origin },
        { kind: 'checkpoint', note: flippedSig, origin: log.origin },
        {
          kind: 'checkpoint',
          note: signCheckpoint({ origin: log.origin, size: 42, root: log.root() }, [
            signerFromKey(other.signerKey),
          ]),
          origin: log.origin,
        },
        { kind: 'checkpoint', note, origin: 'ledger.interop.test/t/someone-else' },
      ],
    );
    expect(res.map((r) => r.ok)).toEqual([true, false, false, false, false]);
    expect(res[0]).toMatchObject({ size: 42, root: log.root().toString('hex') });
    // Our side agrees on each.
    const ourVerdict = (n: string, origin: string) => {
      try {
        openCheckpoint(n, [keys.verifier], origin);
        return true;
      } catch {
        return false;
      }
    };
    expect([
      ourVerdict(note, log.origin),
      ourVerdict(altered, log.origin),
      ourVerdict(flippedSig, log.origin),
    ]).toEqual([true, false, false]);
  });

  it('reads keys and notes made by Go, and Go reads ours', () => {
    const [g] = runGo(
      [],
      [
        {
          kind: 'sign',
          origin: 'go.example/log',
          text: `go.example/log\n7\n${Buffer.alloc(32, 1).toString('base64')}\n`,
        },
      ],
    );
    expect(g!.ok).toBe(true);
    expect(verifierKeyOf(g!.skey!)).toBe(g!.vkey);
    expect(openNote(g!.signed!, [verifierFromKey(g!.vkey!)]).verified).toHaveLength(1);
    const ours = signerFromKey(g!.skey!);
    expect(ours.keyHash).toBe(verifierFromKey(g!.vkey!).keyHash);
  });

  it('checks our c2sp.org/tlog-proof@v1 files', async () => {
    const log = await buildLog('proofs', 300);
    const note = log.latestCheckpoint();
    const cases: GoCase[] = [];
    const expected: boolean[] = [];
    for (const index of [0, 1, 128, 255, 256, 299]) {
      const entry = log.readEntry(index);
      const text = formatProof({
        index,
        proof: inclusionProof(log.nodeReader(300), index, 300),
        checkpoint: note,
        extra: Buffer.from('id'),
      });
      expect(() => verifyProof(text, entry, [keys.verifier], log.origin)).not.toThrow();
      cases.push({ kind: 'proof-file', text, entry: entry.toString('base64'), origin: log.origin });
      expected.push(true);
      const other = log.readEntry((index + 1) % 300);
      cases.push({ kind: 'proof-file', text, entry: other.toString('base64'), origin: log.origin });
      expected.push(false);
      expect(() => verifyProof(text, other, [keys.verifier], log.origin)).toThrow();
    }
    expect(runGo([keys.verifierKey], cases).map((r) => r.ok)).toEqual(expected);
  });
});
