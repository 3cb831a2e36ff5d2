import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';

/**
 * C2SP signed-note with Ed25519, byte-compatible with Go's golang.org/x/mod/sumdb/note:
 * key id = SHA-256(name || 0x0A || 0x01 || pubkey)[:4], verifier keys `name+hash+base64`,
 * signer keys `PRIVATE+KEY+name+hash+base64`, signature lines `— name base64(id || sig)`.
 */

const ALG_ED25519 = 0x01;
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const SIG_PREFIX = '\u2014 ';

/** A key that signs notes. */
export interface NoteSigner {
  name: string;
  /** The 4-byte key id as a number (big-endian). */
  keyHash: number;
  sign(text: string): Buffer;
}

/** A key that verifies notes. */
export interface NoteVerifier {
  name: string;
  keyHash: number;
  verify(text: string, signature: Buffer): boolean;
}

/** One signature line of a note. */
export interface NoteSignature {
  name: string;
  keyHash: number;
  /** base64 of key id || signature, as on the line. */
  base64: string;
}

/** A note whose signature by a known key checked out. */
export interface OpenedNote {
  text: string;
  /** Signatures by known keys that verified. */
  verified: NoteSignature[];
  /** Signatures by keys we do not know (neither trusted nor refused). */
  unverified: NoteSignature[];
}

/** True for a key or signer name the note format allows: non-empty, no whitespace, no `+`. */
export function isValidName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

/** The 4-byte key id of an Ed25519 key. */
export function keyHash(name: string, publicKey: Buffer): number {
  const h = createHash('sha256')
    .update(name, 'utf8')
    .update('\n')
    .update(Buffer.from([ALG_ED25519]))
    .update(publicKey)
    .digest();
  return h.readUInt32BE(0);
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** A fresh key pair as Go's note.GenerateKey writes them: signer (secret) and verifier strings. */
export function generateKey(name: string): { signerKey: string; verifierKey: string } {
  if (!isValidName(name)) throw new Error(`invalid key name "${name}": no spaces or "+"`);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519.length);
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length);
  const h = hex8(keyHash(name, pub));
  return {
    signerKey: `PRIVATE+KEY+${name}+${h}+${Buffer.concat([Buffer.from([ALG_ED25519]), seed]).toString('base64')}`,
    verifierKey: `${name}+${h}+${Buffer.concat([Buffer.from([ALG_ED25519]), pub]).toString('base64')}`,
  };
}

function parseKey(fields: string[], what: string): { name: string; hash: number; key: Buffer } {
  // base64 may itself hold "+": the key is everything after the second separator.
  const [name, hash] = fields;
  const b64 = fields.slice(2).join('+');
  if (fields.length < 3 || !name || !isValidName(name) || !/^[0-9a-f]{8}$/.test(hash ?? '')) {
    throw new Error(`malformed ${what} key`);
  }
  const raw = Buffer.from(b64 ?? '', 'base64');
  if (raw.length !== 33 || raw[0] !== ALG_ED25519 || raw.toString('base64') !== b64) {
    throw new Error(`malformed ${what} key: not an Ed25519 key`);
  }
  return { name, hash: Number.parseInt(hash!, 16), key: raw.subarray(1) };
}

/** A signer from a `PRIVATE+KEY+name+hash+base64` string. */
export function signerFromKey(signerKey: string): NoteSigner {
  const parts = signerKey.trim().split('+');
  if (parts[0] !== 'PRIVATE' || parts[1] !== 'KEY')
    throw new Error('malformed signer key: must start with PRIVATE+KEY+');
  const { name, hash, key } = parseKey(parts.slice(2), 'signer');
  const privateKey: KeyObject = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, key]),
    format: 'der',
    type: 'pkcs8',
  });
  const pub = createPublicKey(privateKey)
    .export({ format: 'der', type: 'spki' })
    .subarray(SPKI_ED25519.length);
  if (keyHash(name, pub) !== hash) throw new Error('malformed signer key: the key hash does not match');
  return { name, keyHash: hash, sign: (text) => sign(null, Buffer.from(text, 'utf8'), privateKey) };
}

/** The verifier key string of a signer key. */
export function verifierKeyOf(signerKey: string): string {
  const parts = signerKey.trim().split('+');
  const { name, hash, key } = parseKey(parts.slice(2), 'signer');
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, key]),
    format: 'der',
    type: 'pkcs8',
  });
  const pub = createPublicKey(privateKey)
    .export({ format: 'der', type: 'spki' })
    .subarray(SPKI_ED25519.length);
  return `${name}+${hex8(hash)}+${Buffer.concat([Buffer.from([ALG_ED25519]), pub]).toString('base64')}`;
}

/** A verifier from a `name+hash+base64` string. */
export function verifierFromKey(verifierKey: string): NoteVerifier {
  const { name, hash, key } = parseKey(verifierKey.trim().split('+'), 'verifier');
  if (keyHash(name, key) !== hash) throw new Error('malformed verifier key: the key hash does not match');
  const publicKey = createPublicKey({ key: Buffer.concat([SPKI_ED25519, key]), format: 'der', type: 'spki' });
  return {
    name,
    keyHash: hash,
    verify: (text, sig) => sig.length === 64 && verify(null, Buffer.from(text, 'utf8'), publicKey, sig),
  };
}

/** Signs `text` (which must end in a newline) into a note: text, blank line, signature lines. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  if (!text.endsWith('\n') || text.includes('\n\n'))
    throw new Error('note text must end in a newline and hold no blank line');
  let out = `${text}\n`;
  for (const s of signers) {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(s.keyHash);
    out += `${SIG_PREFIX}${s.name} ${Buffer.concat([id, s.sign(text)]).toString('base64')}\n`;
  }
  return out;
}

/**
 * Opens a note: splits text from signatures and checks each signature by a known key.
 * Throws when the note is malformed, a known key's signature is bad, or no known key signed.
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new Error('malformed note: no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const sigText = note.slice(split + 2);
  if (!sigText.endsWith('\n')) throw new Error('malformed note: signatures must end in a newline');
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  for (const line of sigText.slice(0, -1).split('\n')) {
    if (!line.startsWith(SIG_PREFIX))
      throw new Error('malformed note: a signature line does not start with "— "');
    const [name, b64, extra] = line.slice(SIG_PREFIX.length).split(' ');
    const raw = Buffer.from(b64 ?? '', 'base64');
    if (!name || extra !== undefined || raw.length < 5 || raw.toString('base64') !== b64) {
      throw new Error('malformed note: bad signature line');
    }
    const hash = raw.readUInt32BE(0);
    const sig: NoteSignature = { name, keyHash: hash, base64: b64 };
    const v = verifiers.find((k) => k.name === name && k.keyHash === hash);
    if (!v) {
      unverified.push(sig);
      continue;
    }
    if (!v.verify(text, raw.subarray(4))) throw new Error(`invalid signature by ${name}`);
    verified.push(sig);
  }
  if (verified.length === 0) throw new Error('no signature by a known key');
  return { text, verified, unverified };
}
