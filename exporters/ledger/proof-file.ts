import { openCheckpoint } from './checkpoint.ts';
import { type Hash, leafHash, verifyInclusion } from './merkle.ts';
import type { NoteVerifier } from './note.ts';

/**
 * c2sp.org/tlog-proof@v1: a self-contained, offline-verifiable proof that an entry is in a
 * log: the entry's index, its inclusion proof and the signed checkpoint it leads to.
 */

const HEADER = 'c2sp.org/tlog-proof@v1';

/** The parts of a tlog-proof file. */
export interface TlogProof {
  index: number;
  proof: Hash[];
  /** The signed checkpoint note, verbatim. */
  checkpoint: string;
  /** Unauthenticated application data (we put the entry's event_id here). */
  extra?: Buffer;
}

/** Writes a proof file. */
export function formatProof(p: TlogProof): string {
  let out = `${HEADER}\n`;
  if (p.extra) out += `extra ${p.extra.toString('base64')}\n`;
  out += `index ${p.index}\n`;
  for (const h of p.proof) out += `${h.toString('base64')}\n`;
  return `${out}\n${p.checkpoint}`;
}

/** Parses a proof file; throws when malformed. */
export function parseProof(text: string): TlogProof {
  const lines = text.split('\n');
  if (lines[0] !== HEADER) throw new Error(`malformed proof: first line must be ${HEADER}`);
  let i = 1;
  let extra: Buffer | undefined;
  if (lines[i]?.startsWith('extra ')) {
    extra = Buffer.from(lines[i]!.slice(6), 'base64');
    i++;
  }
  const m = /^index (0|[1-9]\d*)$/.exec(lines[i] ?? '');
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw new Error('malformed proof: bad index line');
  i++;
  const proof: Hash[] = [];
  for (; i < lines.length && lines[i] !== ''; i++) {
    const h = Buffer.from(lines[i]!, 'base64');
    if (h.length !== 32 || h.toString('base64') !== lines[i])
      throw new Error(`malformed proof: line ${i + 1} is not a hash`);
    proof.push(h);
  }
  if (i >= lines.length) throw new Error('malformed proof: no checkpoint');
  const checkpoint = lines.slice(i + 1).join('\n');
  return extra
    ? { index: Number(m[1]), proof, checkpoint, extra }
    : { index: Number(m[1]), proof, checkpoint };
}

/** Verifies a proof file for `entry` against trusted keys and the log's origin; throws why not. */
export function verifyProof(
  text: string,
  entry: Uint8Array,
  verifiers: readonly NoteVerifier[],
  origin: string,
): TlogProof {
  const p = parseProof(text);
  const c = openCheckpoint(p.checkpoint, verifiers, origin);
  if (!verifyInclusion(leafHash(entry), p.index, c.size, p.proof, c.root)) {
    throw new Error(`the inclusion proof for index ${p.index} does not lead to the checkpoint's root`);
  }
  return p;
}
