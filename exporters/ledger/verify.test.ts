import { chmodSync, cpSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TenantLog } from './log.ts';
import { auditEvents, tempDir, testKeys } from './testdata/ledger-fixtures.ts';
import { decodeBundle, encodeBundle } from './tiles.ts';
import { verifyLog } from './verify.ts';

// Tamper evidence: whatever is changed in the files, verify fails and names the first entry
// index at fault (or the checkpoint, when only the checkpoint was touched).

const SIZE = 600; // bundles 000 and 001 full, 002.p/88; level 1 partial of width 2
const keys = testKeys();
const tmp = tempDir('ledger-tamper-');
const pristine = join(tmp.dir, 'pristine');
const origin = 'ledgerline.test/t/acme';
let bundles: Buffer[][] = [];
let run = 0;

beforeAll(async () => {
  const log = await TenantLog.open({ dir: pristine, origin, signer: keys.signer });
  for (let done = 0; done < SIZE; done += 50) {
    await log.append(
      auditEvents(50, 'acme', done) as unknown as (Record<string, unknown> & { event_id: string })[],
    );
  }
  await log.close();
  bundles = ['tile/entries/000', 'tile/entries/001', 'tile/entries/002.p/88'].map((p) =>
    decodeBundle(readFileSync(join(pristine, p))),
  );
});
afterAll(() => tmp.cleanup());

function copy(): string {
  const dir = join(tmp.dir, `run-${run++}`);
  cpSync(pristine, dir, { recursive: true });
  return dir;
}

const BUNDLE_PATHS = ['tile/entries/000', 'tile/entries/001', 'tile/entries/002.p/88'];
const bundleOf = (i: number) => ({ path: BUNDLE_PATHS[Math.floor(i / 256)]!, at: i % 256 });

function rewrite(dir: string, path: string, data: Buffer): void {
  const full = join(dir, path);
  chmodSync(full, 0o644);
  writeFileSync(full, data);
}

/** Byte offset of entry `k`'s length prefix within its bundle. */
function offsetOf(entries: Buffer[], k: number): number {
  let at = 0;
  for (let i = 0; i < k; i++) at += 2 + entries[i]!.length;
  return at;
}

function report(dir: string) {
  return verifyLog(dir, { origin, verifiers: [keys.verifier] });
}

describe('ledger verify', () => {
  it('passes an untouched log', () => {
    expect(report(copy())).toMatchObject({ ok: true, size: SIZE, checkpointSize: SIZE });
  });

  it('names the first bad index for any flipped byte in any entry (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: SIZE - 1 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (i, pos, mask) => {
          const dir = copy();
          const { path, at } = bundleOf(i);
          const entries = bundles[Math.floor(i / 256)]!;
          const data = encodeBundle(entries);
          const start = offsetOf(entries, at);
          // Any byte of the entry, its length prefix included.
          const byte = start + (pos % (entries[at]!.length + 2));
          data[byte]! ^= mask;
          rewrite(dir, path, data);
          const r = report(dir);
          rmSync(dir, { recursive: true, force: true });
          expect(r.ok).toBe(false);
          expect(r.firstBadIndex).toBe(i);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('names the first bad index when entries are deleted, swapped, reordered or truncated (property)', () => {
    const kinds = ['delete', 'swap', 'reorder', 'truncate'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.integer({ min: 0, max: SIZE - 1 }),
        fc.integer({ min: 1, max: 40 }),
        (kind, i, k) => {
          const dir = copy();
          const b = Math.floor(i / 256);
          const at = i % 256;
          const entries = bundles[b]!.slice();
          const { path } = bundleOf(i);
          let expected = i;
          if (kind === 'delete') entries.splice(at, 1);
          if (kind === 'swap') {
            const j = Math.min(entries.length - 1, at + k);
            if (j === at) {
              // Nothing to swap with after the last entry: swap with the one before.
              [entries[at - 1], entries[at]] = [entries[at]!, entries[at - 1]!];
              expected = i - 1;
            } else [entries[at], entries[j]] = [entries[j]!, entries[at]!];
          }
          if (kind === 'reorder') {
            const tail = entries.splice(at);
            entries.push(...(tail.length > 1 ? [...tail.slice(1), tail[0]!] : tail));
            if (tail.length === 1) {
              entries.splice(at - 1, 2, entries[at]!, entries[at - 1]!);
              expected = i - 1;
            }
          }
          let data = encodeBundle(entries);
          if (kind === 'truncate')
            data = encodeBundle(bundles[b]!).subarray(
              0,
              offsetOf(bundles[b]!, at) + Math.min(k, bundles[b]![at]!.length),
            );
          rewrite(dir, path, data);
          const r = report(dir);
          rmSync(dir, { recursive: true, force: true });
          expect(r.ok, kind).toBe(false);
          expect(r.firstBadIndex, `${kind} at ${i}: ${r.problem}`).toBe(expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('names the first index under a tampered tile hash at any level (property)', () => {
    const tiles = [
      { path: 'tile/0/000', span: 1, width: 256 },
      { path: 'tile/0/001', span: 1, width: 256, base: 256 },
      { path: 'tile/0/002.p/88', span: 1, width: 88, base: 512 },
      { path: 'tile/1/000.p/2', span: 256, width: 2 },
    ];
    fc.assert(
      fc.property(fc.constantFrom(...tiles), fc.nat(), fc.integer({ min: 1, max: 255 }), (t, pos, mask) => {
        const dir = copy();
        const data = readFileSync(join(dir, t.path));
        const byte = pos % data.length;
        data[byte]! ^= mask;
        rewrite(dir, t.path, data);
        const r = report(dir);
        rmSync(dir, { recursive: true, force: true });
        expect(r.ok).toBe(false);
        expect(r.firstBadIndex).toBe((t.base ?? 0) + Math.floor(byte / 32) * t.span);
      }),
      { numRuns: 40 },
    );
  });

  it('names the first missing index when files are deleted or bundles swapped', () => {
    const cases: [string, (dir: string) => void, number][] = [
      ['delete the tail bundle', (d) => rmSync(join(d, 'tile/entries/002.p/88')), 512],
      ['delete a full bundle', (d) => rmSync(join(d, 'tile/entries/001')), 256],
      ['delete a level-0 tile', (d) => rmSync(join(d, 'tile/0/001')), 256],
      ['delete the level-1 tile', (d) => rmSync(join(d, 'tile/1/000.p/2')), 0],
      [
        'swap two full bundles',
        (d) => {
          renameSync(join(d, 'tile/entries/000'), join(d, 'x'));
          renameSync(join(d, 'tile/entries/001'), join(d, 'tile/entries/000'));
          renameSync(join(d, 'x'), join(d, 'tile/entries/001'));
        },
        0,
      ],
    ];
    for (const [what, mutate, index] of cases) {
      const dir = copy();
      mutate(dir);
      expect(report(dir), what).toMatchObject({ ok: false, firstBadIndex: index });
    }
  });

  it('refuses an altered, foreign or unsigned checkpoint without blaming an entry', () => {
    const note = readFileSync(join(pristine, 'checkpoint'), 'utf8');
    const variants = [
      note.replace(`\n${SIZE}\n`, `\n${SIZE - 1}\n`),
      note.replace(origin, 'ledgerline.test/t/globex'),
      note.slice(0, note.indexOf('\n\n') + 2),
      note.replace(/— (\S+) (\S)/, (_m, name: string, c: string) => `— ${name} ${c === 'A' ? 'B' : 'A'}`),
    ];
    for (const v of variants) {
      const dir = copy();
      writeFileSync(join(dir, 'checkpoint'), v);
      const r = report(dir);
      expect(r.ok).toBe(false);
      expect(r.firstBadIndex).toBeUndefined();
      expect(r.file).toBe('checkpoint');
    }
    // A checkpoint signed by a key we do not trust is refused as well.
    expect(verifyLog(pristine, { origin, verifiers: [testKeys().verifier] })).toMatchObject({
      ok: false,
      file: 'checkpoint',
    });
  });
});
