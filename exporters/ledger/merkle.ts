import { createHash, hash as digest } from 'node:crypto';

/**
 * RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verifiers. Trees are read through a
 * `NodeReader` (the tiles on disk, or an array in tests), so proofs never need the whole tree
 * in memory. Sizes and indexes are JavaScript numbers: exact up to 2^53 entries.
 */

/** A SHA-256 hash, 32 bytes. */
export type Hash = Buffer;

/** Root of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

/** Leaf hash: SHA-256(0x00 || entry). */
export function leafHash(entry: Uint8Array): Hash {
  const input = Buffer.allocUnsafe(entry.length + 1);
  input[0] = 0;
  input.set(entry, 1);
  // One-shot hashing: markedly cheaper than a Hash object per leaf on the append path.
  return digest('sha256', input, 'buffer');
}

/** Interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Hash {
  const input = Buffer.allocUnsafe(1 + left.length + right.length);
  input[0] = 1;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return digest('sha256', input, 'buffer');
}

/** Hash of the perfect subtree of height `level` whose leftmost leaf is `index << level`. */
export type NodeReader = (level: number, index: number) => Hash;

/** Largest power of two strictly below n (n > 1). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** log2 of n when n is a power of two, else -1. */
function exactLog2(n: number): number {
  if (n < 1) return -1;
  let level = 0;
  while (n > 1) {
    if (n % 2 !== 0) return -1;
    n /= 2;
    level++;
  }
  return level;
}

/** MTH(D[lo:hi]) for a range the RFC 6962 recursion produces (lo aligned to the range's split). */
export function rangeHash(read: NodeReader, lo: number, hi: number): Hash {
  const n = hi - lo;
  const level = exactLog2(n);
  if (level >= 0 && lo % n === 0) return read(level, lo / n);
  if (n === 0) return EMPTY_ROOT;
  const k = splitPoint(n);
  return nodeHash(rangeHash(read, lo, lo + k), rangeHash(read, lo + k, hi));
}

/** Root hash of the tree of `size` leaves. */
export function rootHash(read: NodeReader, size: number): Hash {
  return size === 0 ? EMPTY_ROOT : rangeHash(read, 0, size);
}

/** Inclusion proof PATH(index, D[0:size]) (RFC 6962 §2.1.1), leaf sibling first. */
export function inclusionProof(read: NodeReader, index: number, size: number): Hash[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`index ${index} is not below size ${size}`);
  const out: Hash[] = [];
  path(read, index, 0, size, out);
  return out;
}

function path(read: NodeReader, m: number, lo: number, hi: number, out: Hash[]): void {
  const n = hi - lo;
  if (n <= 1) return;
  const k = splitPoint(n);
  if (m < k) {
    path(read, m, lo, lo + k, out);
    out.push(rangeHash(read, lo + k, hi));
  } else {
    path(read, m - k, lo + k, hi, out);
    out.push(rangeHash(read, lo, lo + k));
  }
}

/** Consistency proof PROOF(m, D[0:n]) (RFC 6962 §2.1.2). Empty when m is 0 or m equals n. */
export function consistencyProof(read: NodeReader, m: number, n: number): Hash[] {
  if (!(m >= 0 && m <= n)) throw new RangeError(`cannot prove ${m} consistent with ${n}`);
  const out: Hash[] = [];
  if (m > 0 && m < n) subproof(read, m, 0, n, true, out);
  return out;
}

function subproof(read: NodeReader, m: number, lo: number, hi: number, complete: boolean, out: Hash[]): void {
  const n = hi - lo;
  if (m === n) {
    if (!complete) out.push(rangeHash(read, lo, hi));
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    subproof(read, m, lo, lo + k, complete, out);
    out.push(rangeHash(read, lo + k, hi));
  } else {
    subproof(read, m - k, lo + k, hi, false, out);
    out.push(rangeHash(read, lo, lo + k));
  }
}

/** The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or undefined when malformed. */
export function rootFromInclusion(
  leaf: Hash,
  index: number,
  size: number,
  proof: readonly Hash[],
): Hash | undefined {
  if (!(index >= 0 && index < size) || leaf.length !== 32) return undefined;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0 || p.length !== 32) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

/** True when `proof` shows the leaf at `index` is in the tree of `size` with `root`. */
export function verifyInclusion(
  leaf: Hash,
  index: number,
  size: number,
  proof: readonly Hash[],
  root: Hash,
): boolean {
  const r = rootFromInclusion(leaf, index, size, proof);
  return r?.equals(root) === true;
}

/**
 * True when `proof` shows the tree of size1 with root1 is a prefix of the tree of size2 with
 * root2 (RFC 9162 §2.1.4.2). From the empty tree only the empty root and an empty proof count.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Hash[],
  root1: Hash,
  root2: Hash,
): boolean {
  if (!(size1 >= 0 && size1 <= size2)) return false;
  if (proof.some((p) => p.length !== 32)) return false;
  if (size1 === size2) return proof.length === 0 && root1.equals(root2);
  if (size1 === 0) return proof.length === 0 && root1.equals(EMPTY_ROOT);
  if (proof.length === 0) return false;
  const path = exactLog2(size1) >= 0 ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(root1) && sr.equals(root2);
}

/**
 * The right edge of a growing tree: the roots of its perfect subtrees, largest first (the
 * binary decomposition of its size). Appending is O(log n) and the root is a fold of the edge.
 */
export class CompactRange {
  /** Subtree roots, largest (leftmost) first. */
  readonly hashes: Hash[] = [];
  /** Height of each subtree in `hashes`. */
  readonly levels: number[] = [];
  size = 0;

  /** Appends one leaf hash; `onNode(level, index, hash)` sees every completed interior node. */
  append(leaf: Hash, onNode?: (level: number, index: number, hash: Hash) => void): void {
    let h = leaf;
    let level = 0;
    let index = this.size;
    while (this.levels.length > 0 && this.levels[this.levels.length - 1] === level) {
      h = nodeHash(this.hashes.pop()!, h);
      this.levels.pop();
      level++;
      index = Math.floor(index / 2);
      onNode?.(level, index, h);
    }
    this.hashes.push(h);
    this.levels.push(level);
    this.size++;
  }

  /** The tree's root hash. */
  root(): Hash {
    if (this.hashes.length === 0) return EMPTY_ROOT;
    let r = this.hashes[this.hashes.length - 1]!;
    for (let i = this.hashes.length - 2; i >= 0; i--) r = nodeHash(this.hashes[i]!, r);
    return r;
  }

  /** Builds the edge of a tree of `size` leaves from its node hashes. */
  static fromReader(read: NodeReader, size: number): CompactRange {
    const c = new CompactRange();
    let start = 0;
    for (let level = 52; level >= 0; level--) {
      const width = 2 ** level;
      if (size - start >= width) {
        c.hashes.push(read(level, start / width));
        c.levels.push(level);
        start += width;
      }
    }
    c.size = size;
    return c;
  }
}
