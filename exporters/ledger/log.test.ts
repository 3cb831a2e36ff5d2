import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openCheckpoint } from './checkpoint.ts';
import { checkEntry } from './entry.ts';
import { TenantLog } from './log.ts';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from './merkle.ts';
import { LedgerDamagedError, listFiles } from './recovery.ts';
import { tailWorker } from './tail-client.ts';
import { auditEvents, tempDir, testKeys } from './testdata/ledger-fixtures.ts';
import { decodeBundle } from './tiles.ts';
import { verifyLog } from './verify.ts';

const keys = testKeys();
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

async function openLog(dir?: string) {
  let d = dir;
  if (!d) {
    const t = tempDir();
    cleanups.push(t.cleanup);
    d = join(t.dir, 'acme');
  }
  return TenantLog.open({ dir: d, origin: 'ledgerline.test/t/acme', signer: keys.signer });
}

const envelopes = (n: number, from = 0) =>
  auditEvents(n, 'acme', from) as unknown as (Record<string, unknown> & { event_id: string })[];

describe('tenant log', () => {
  it('starts empty with a signed checkpoint of the empty tree', async () => {
    const log = await openLog();
    const c = openCheckpoint(log.latestCheckpoint(), [keys.verifier], 'ledgerline.test/t/acme');
    expect(c.size).toBe(0);
    expect(c.root.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(verifyLog(log.dir, { origin: log.origin, verifiers: [keys.verifier] }).ok).toBe(true);
  });

  it('chains entries and stays idempotent on event_id', async () => {
    const log = await openLog();
    const evs = envelopes(3);
    const r1 = await log.append(evs);
    expect(r1).toEqual([0, 1, 2].map((index) => ({ index, duplicate: false })));
    const r2 = await log.append([evs[1]!, ...envelopes(1, 3), evs[1]!]);
    expect(r2).toEqual([
      { index: 1, duplicate: true },
      { index: 3, duplicate: false },
      { index: 3 - 2, duplicate: true },
    ]);
    expect(log.size).toBe(4);
    const e0 = checkEntry(log.readEntry(0));
    const e1 = checkEntry(log.readEntry(1));
    expect(e0.ok && e0.prevHash).toBe('0'.repeat(64));
    expect(e1.ok && e0.ok && e1.prevHash === e0.hash).toBe(true);
  });

  it.each([1, 255, 256, 257, 513])('writes the tiles of %i entries, sealed, and they verify', async (n) => {
    const log = await openLog();
    // Several groups of uneven sizes, so partial tiles are extended across commits.
    for (let done = 0; done < n; ) {
      const k = Math.min(n - done, 1 + ((done * 7) % 97));
      await log.append(envelopes(k, done));
      done += k;
    }
    await log.checkpoint();
    const c = openCheckpoint(log.latestCheckpoint(), [keys.verifier], log.origin);
    expect(c.size).toBe(n);
    expect(c.root.equals(rootHash(log.nodeReader(n), n))).toBe(true);
    const files = listFiles(join(log.dir, 'tile'));
    if (n >= 256) {
      expect(files).toContain('0/000');
      expect(files).toContain('entries/000');
      expect(files).toContain('1/000.p/1');
      expect(statSync(join(log.dir, 'tile/0/000')).mode & 0o777).toBe(0o444);
      // Partials of a tile are deleted once the full tile exists.
      expect(existsSync(join(log.dir, 'tile/0/000.p'))).toBe(false);
    }
    if (n % 256 !== 0)
      expect(files).toContain(`entries/${String(Math.floor(n / 256)).padStart(3, '0')}.p/${n % 256}`);
    expect(verifyLog(log.dir, { origin: log.origin, verifiers: [keys.verifier] })).toMatchObject({
      ok: true,
      size: n,
    });
    const i = Math.floor(n / 2);
    expect(
      verifyInclusion(leafHash(log.readEntry(i)), i, n, inclusionProof(log.nodeReader(n), i, n), c.root),
    ).toBe(true);
  });

  it('recovers its state on reopen and keeps appending the same chain', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const dir = join(t.dir, 'acme');
    const a = await openLog(dir);
    await a.append(envelopes(300));
    const root300 = a.root();
    await a.close();
    const b = await openLog(dir);
    expect(b.size).toBe(300);
    expect(b.root().equals(root300)).toBe(true);
    expect(b.indexOf(envelopes(1, 0)[0]!.event_id)).toBeUndefined();
    const replay = await b.append([
      { ...(checkEntryEnvelope(b.readEntry(5)) as Record<string, unknown> & { event_id: string }) },
    ]);
    expect(replay).toEqual([{ index: 5, duplicate: true }]);
    await b.append(envelopes(10, 300));
    await b.checkpoint();
    expect(verifyLog(dir, { origin: b.origin, verifiers: [keys.verifier] })).toMatchObject({
      ok: true,
      size: 310,
    });
    const proof = consistencyProof(b.nodeReader(310), 300, 310);
    expect(verifyConsistency(300, 310, proof, root300, b.root())).toBe(true);
  });

  it('refuses entries too large for a bundle without spending an index', async () => {
    const log = await openLog();
    const [big] = envelopes(1);
    (big!.metadata as { details: Record<string, unknown> }).details = { blob: 'x'.repeat(70_000) };
    const r = await log.append([big!, ...envelopes(1, 1)]);
    expect(r[0]).toHaveProperty('error');
    expect(r[1]).toEqual({ index: 0, duplicate: false });
  });

  it('fails the group that cannot be built, then recovers and keeps one chain', async () => {
    const log = await openLog();
    expect((await log.append(envelopes(300))).every((r) => 'index' in r && !r.duplicate)).toBe(true);
    const bad = envelopes(2, 300);
    // NaN is not a JSON number: building the group throws after the first event took an index.
    await expect(log.append([bad[0]!, { ...bad[1]!, metadata: { n: Number.NaN } }])).rejects.toThrow(
      /JSON number/,
    );
    const r = await log.append(envelopes(20, 400));
    expect(r.map((x) => ('index' in x ? x.index : -1))).toEqual(
      Array.from({ length: 20 }, (_, i) => 300 + i),
    );
    // The failed group's good event was never written: appending it again is new, not a replay.
    expect(log.indexOf(bad[0]!.event_id)).toBeUndefined();
    expect(await log.append([bad[0]!])).toEqual([{ index: 320, duplicate: false }]);
    await log.close();
    const verdict = verifyLog(log.dir, { origin: log.origin, verifiers: [keys.verifier] });
    expect(verdict).toMatchObject({ ok: true, size: 321 });
  });

  it('answers appends made at once in order, over groups in flight together', async () => {
    const log = await openLog();
    // More than one group holds (GROUP_EVENTS), so two groups are in flight, each in parts.
    const evs = envelopes(5000);
    const calls = Array.from({ length: 50 }, (_, k) => log.append(evs.slice(k * 100, k * 100 + 100)));
    // A replay of an event whose group is still in flight answers with that event's index.
    const replay = log.append([evs[4500]!]);
    const results = (await Promise.all(calls)).flat();
    expect(results.map((r) => ('index' in r && !r.duplicate ? r.index : -1))).toEqual(
      Array.from({ length: 5000 }, (_, i) => i),
    );
    expect(await replay).toEqual([{ index: 4500, duplicate: true }]);
    expect(log.size).toBe(5000);
    await log.close();
    expect(verifyLog(log.dir, { origin: log.origin, verifiers: [keys.verifier] })).toMatchObject({
      ok: true,
      size: 5000,
    });
  });

  it('answers a replay while a newer group has already deleted the partial bundle it reads', async () => {
    const log = await openLog();
    const evs = envelopes(603);
    const a = log.append(evs.slice(0, 300));
    // Two turns of the event loop: the second append becomes a group of its own, in flight with A's.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const b = log.append(evs.slice(300, 600));
    await a;
    // B completes bundle 1, so the worker deletes tile/entries/001.p/ while this thread still
    // reads at A's size (300: bundle 1 is the partial of width 44).
    for (let i = 0; i < 200 && existsSync(join(log.dir, 'tile/entries/001.p')); i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(existsSync(join(log.dir, 'tile/entries/001.p'))).toBe(false);
    expect(log.indexOf(evs[280]!.event_id)).toBe(280);
    expect(checkEntry(log.readEntry(280))).toMatchObject({ ok: true, eventId: evs[280]!.event_id });
    const mixed = await log.append([evs[280]!, ...evs.slice(600)]);
    expect(mixed).toEqual([
      { index: 280, duplicate: true },
      { index: 600, duplicate: false },
      { index: 601, duplicate: false },
      { index: 602, duplicate: false },
    ]);
    await b;
    await log.close();
    expect(verifyLog(log.dir, { origin: log.origin, verifiers: [keys.verifier] })).toMatchObject({
      ok: true,
      size: 603,
    });
  });

  it('fails only the groups of a worker that died, after it exited, and keeps every file consistent', async () => {
    const log = await openLog();
    const evs = envelopes(30);
    await log.append(evs.slice(0, 2));
    const worker = (tailWorker as unknown as { worker: Worker }).worker;
    let meanwhile: Promise<unknown> | undefined;
    // Right after the crash is reported, before the worker has exited, another append comes.
    worker.once('error', () => {
      meanwhile = log.append(evs.slice(10, 12));
      meanwhile.catch(() => undefined);
    });
    const lost = log.append(evs.slice(2, 4));
    await new Promise((r) => setImmediate(r));
    // A malformed message makes the worker throw outside any handler.
    worker.postMessage({ op: 'append', log: 1e9, seq: 0, slot: -1, length: 1, count: 1 });
    await expect(lost).rejects.toThrow(/ledger worker failed/);
    // It went to the dying worker: it fails too (retryable), and nothing of it is written.
    await vi.waitFor(() => expect(meanwhile).toBeDefined());
    await expect(meanwhile).rejects.toThrow(/ledger worker failed/);
    // The caller retries: the log has re-derived its state and a new worker takes the group.
    expect(await log.append(evs.slice(10, 12))).toEqual([
      { index: 2, duplicate: false },
      { index: 3, duplicate: false },
    ]);
    await log.append(evs.slice(20, 23));
    await log.close();
    expect(verifyLog(log.dir, { origin: log.origin, verifiers: [keys.verifier] })).toMatchObject({
      ok: true,
      size: 7,
    });
    // Every partial bundle left on disk is a prefix of the log: no write of the dead worker's
    // group landed behind the recovery.
    const ids = [0, 1, 10, 11, 20, 21, 22].map((i) => evs[i]!.event_id);
    for (const name of readdirSync(join(log.dir, 'tile/entries/000.p'))) {
      const bundle = decodeBundle(readFileSync(join(log.dir, 'tile/entries/000.p', name)));
      expect(bundle.map((e) => checkEntry(e).ok && (checkEntry(e) as { eventId: string }).eventId)).toEqual(
        ids.slice(0, Number(name)),
      );
    }
  });

  it('leaves no temp files behind', async () => {
    const log = await openLog();
    await log.append(envelopes(20));
    expect(readdirSync(log.dir, { recursive: true }).some((f) => String(f).includes('.tmp-'))).toBe(false);
  });
});

function checkEntryEnvelope(bytes: Buffer): unknown {
  const env = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  delete env.integrity;
  return env;
}

describe('tenant log recovery', () => {
  async function built(n: number) {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const dir = join(t.dir, 'acme');
    const log = await openLog(dir);
    await log.append(envelopes(n));
    await log.close();
    return { dir, root: log.root() };
  }

  it('rebuilds hash tiles a crash left unwritten and sweeps temp files', async () => {
    const { dir, root } = await built(300);
    rmSync(join(dir, 'tile/0/001.p/44'));
    rmSync(join(dir, 'tile/0/000'));
    rmSync(join(dir, 'tile/1/000.p/1'));
    writeFileSync(join(dir, 'tile/entries/001.p/45.tmp-abc'), 'torn');
    const log = await openLog(dir);
    expect(log.size).toBe(300);
    expect(log.root().equals(root)).toBe(true);
    expect(existsSync(join(dir, 'tile/0/000'))).toBe(true);
    expect(existsSync(join(dir, 'tile/entries/001.p/45.tmp-abc'))).toBe(false);
    expect(verifyLog(dir, { origin: log.origin, verifiers: [keys.verifier] })).toMatchObject({
      ok: true,
      size: 300,
    });
  });

  it('moves files past the durable tail to quarantine/ instead of deleting them', async () => {
    const { dir } = await built(300);
    // As if a crashed group had written a later partial tile but not its entries.
    writeFileSync(join(dir, 'tile/0/001.p/50'), Buffer.alloc(50 * 32));
    const log = await openLog(dir);
    expect(log.size).toBe(300);
    expect(existsSync(join(dir, 'tile/0/001.p/50'))).toBe(false);
    expect(readdirSync(join(dir, 'quarantine'), { recursive: true }).map(String)).toContainEqual(
      expect.stringMatching(/001\.p\/50$/),
    );
    await log.append(envelopes(10, 300));
    expect(verifyLog(dir, { origin: log.origin, verifiers: [keys.verifier] }).ok).toBe(true);
  });

  it('refuses to start when entries the checkpoint covers are gone', async () => {
    const { dir } = await built(300);
    rmSync(join(dir, 'tile/entries/001.p/44'));
    await expect(openLog(dir)).rejects.toThrow(LedgerDamagedError);
  });

  it('refuses to start when the tail does not match its tiles', async () => {
    const { dir } = await built(300);
    const p = join(dir, 'tile/0/001.p/44');
    chmodSync(p, 0o644);
    const data = readFileSync(p);
    data[5]! ^= 1;
    writeFileSync(p, data);
    await expect(openLog(dir)).rejects.toThrow(/does not match/);
  });
});
