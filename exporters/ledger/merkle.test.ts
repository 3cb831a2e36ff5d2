import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CompactRange,
  consistencyProof,
  EMPTY_ROOT,
  type Hash,
  inclusionProof,
  leafHash,
  type NodeReader,
  nodeHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from './merkle.ts';

// RFC 6962 reference inputs and roots (the Certificate Transparency test vectors).
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((h) => Buffer.from(h, 'hex'));
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

/** A NodeReader over leaf hashes held in memory, computing interior nodes naively. */
function memoryReader(leaves: readonly Hash[]): NodeReader {
  const read: NodeReader = (level, index) =>
    level === 0 ? leaves[index]! : nodeHash(read(level - 1, index * 2), read(level - 1, index * 2 + 1));
  return read;
}

const hex = (hs: Hash[]) => hs.map((h) => h.toString('hex'));
const reader = memoryReader(LEAVES.map(leafHash));

describe('RFC 6962 Merkle tree', () => {
  it('hashes the empty tree to SHA-256("")', () => {
    expect(EMPTY_ROOT.toString('hex')).toBe(createHash('sha256').digest('hex'));
  });

  it('reproduces the reference roots for sizes 0..8', () => {
    for (let n = 0; n <= 8; n++) expect(rootHash(reader, n).toString('hex')).toBe(ROOTS[n]);
  });

  it('reproduces the reference inclusion proofs', () => {
    expect(hex(inclusionProof(reader, 0, 1))).toEqual([]);
    expect(hex(inclusionProof(reader, 0, 8))).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(hex(inclusionProof(reader, 5, 8))).toEqual([
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(hex(inclusionProof(reader, 2, 3))).toEqual([
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    ]);
    expect(hex(inclusionProof(reader, 1, 5))).toEqual([
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ]);
  });

  it('reproduces the reference consistency proofs', () => {
    expect(hex(consistencyProof(reader, 1, 1))).toEqual([]);
    expect(hex(consistencyProof(reader, 1, 8))).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(hex(consistencyProof(reader, 6, 8))).toEqual([
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(hex(consistencyProof(reader, 2, 5))).toEqual([
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ]);
  });

  it('verifies every proof it makes and refuses altered ones (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.nat(), fc.nat(), (n, a, b, flip) => {
        const leaves = Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`e${i}`)));
        const read = memoryReader(leaves);
        const index = a % n;
        const root = rootHash(read, n);
        const proof = inclusionProof(read, index, n);
        expect(verifyInclusion(leaves[index]!, index, n, proof, root)).toBe(true);
        if (proof.length > 0) {
          const bad = proof.map((h) => Buffer.from(h));
          bad[flip % bad.length]![flip % 32]! ^= 1;
          expect(verifyInclusion(leaves[index]!, index, n, bad, root)).toBe(false);
        }
        expect(verifyInclusion(leaves[index]!, index, n, proof, rootHash(read, n - 1))).toBe(false);
        const m = b % (n + 1);
        const cproof = consistencyProof(read, m, n);
        const root1 = rootHash(read, m);
        expect(verifyConsistency(m, n, cproof, root1, root)).toBe(true);
        if (cproof.length > 0) {
          const bad = cproof.map((h) => Buffer.from(h));
          bad[flip % bad.length]![flip % 32]! ^= 1;
          expect(verifyConsistency(m, n, bad, root1, root)).toBe(false);
          expect(verifyConsistency(m, n, cproof.slice(1), root1, root)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('grows a compact range whose root matches the full computation', () => {
    const leaves: Hash[] = [];
    const c = new CompactRange();
    for (let i = 0; i < 70; i++) {
      const l = leafHash(Buffer.from([i]));
      leaves.push(l);
      c.append(l);
      expect(c.root().equals(rootHash(memoryReader(leaves), i + 1))).toBe(true);
    }
    expect(CompactRange.fromReader(memoryReader(leaves), 70).root().equals(c.root())).toBe(true);
  });
});
