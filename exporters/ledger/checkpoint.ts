import type { Hash } from './merkle.ts';
import { type NoteSigner, type NoteVerifier, openNote, signNote } from './note.ts';

/**
 * C2SP tlog-checkpoint: the signed statement "the log <origin> has <size> entries with root
 * <hash>", as a signed note. Extension lines are kept but carry nothing we rely on.
 */

/** A checkpoint body. */
export interface Checkpoint {
  origin: string;
  size: number;
  root: Hash;
  /** Extension lines after the root (none in what we write). */
  extensions: string[];
}

const DECIMAL = /^(?:0|[1-9]\d*)$/;

/** The checkpoint body text: origin, decimal size, base64 root, each on its own line. */
export function formatCheckpoint(c: Omit<Checkpoint, 'extensions'> & { extensions?: string[] }): string {
  if (!c.origin || c.origin.includes('\n')) throw new Error('checkpoint origin must be one non-empty line');
  const ext = (c.extensions ?? []).map((l) => `${l}\n`).join('');
  return `${c.origin}\n${c.size}\n${c.root.toString('base64')}\n${ext}`;
}

/** Parses a checkpoint body; throws when it is malformed. */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new Error('malformed checkpoint: must end in a newline');
  const lines = text.slice(0, -1).split('\n');
  const [origin, size, root, ...extensions] = lines;
  if (!origin) throw new Error('malformed checkpoint: empty origin');
  if (!size || !DECIMAL.test(size) || !Number.isSafeInteger(Number(size)))
    throw new Error('malformed checkpoint: bad size');
  const hash = Buffer.from(root ?? '', 'base64');
  if (hash.length !== 32 || hash.toString('base64') !== root)
    throw new Error('malformed checkpoint: bad root hash');
  if (extensions.some((l) => l === '')) throw new Error('malformed checkpoint: empty extension line');
  return { origin, size: Number(size), root: hash, extensions };
}

/** Formats and signs a checkpoint as a note. */
export function signCheckpoint(c: Omit<Checkpoint, 'extensions'>, signers: readonly NoteSigner[]): string {
  return signNote(formatCheckpoint(c), signers);
}

/**
 * Opens a signed checkpoint: a known key must have signed it, and its origin must be the
 * expected one when given (so a checkpoint of another tenant's log is refused).
 */
export function openCheckpoint(
  note: string,
  verifiers: readonly NoteVerifier[],
  origin?: string,
): Checkpoint {
  const opened = openNote(note, verifiers);
  const c = parseCheckpoint(opened.text);
  if (origin !== undefined && c.origin !== origin)
    throw new Error(`checkpoint origin is "${c.origin}", expected "${origin}"`);
  return c;
}
