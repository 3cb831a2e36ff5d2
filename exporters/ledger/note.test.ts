import { describe, expect, it } from 'vitest';
import { openCheckpoint, parseCheckpoint, signCheckpoint } from './checkpoint.ts';
import { EMPTY_ROOT } from './merkle.ts';
import {
  generateKey,
  keyHash,
  openNote,
  signerFromKey,
  signNote,
  verifierFromKey,
  verifierKeyOf,
} from './note.ts';
import { formatProof, parseProof } from './proof-file.ts';

describe('signed notes and checkpoints', () => {
  it('writes keys in the Go note format with the key id of the spec', () => {
    const k = generateKey('example.com/log');
    expect(k.signerKey).toMatch(/^PRIVATE\+KEY\+example\.com\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{43}=?/);
    const v = verifierFromKey(k.verifierKey);
    const pub = Buffer.from(k.verifierKey.split('+').slice(2).join('+'), 'base64').subarray(1);
    expect(v.keyHash).toBe(keyHash('example.com/log', pub));
    expect(verifierKeyOf(k.signerKey)).toBe(k.verifierKey);
    expect(() => verifierFromKey(k.verifierKey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'))).toThrow();
  });

  it('signs and opens notes, ignoring unknown signers and refusing bad signatures', () => {
    const a = generateKey('a.example');
    const b = generateKey('b.example');
    const note = signNote('hello\n', [signerFromKey(a.signerKey), signerFromKey(b.signerKey)]);
    expect(note.split('\n').filter((l) => l.startsWith('\u2014 '))).toHaveLength(2);
    const opened = openNote(note, [verifierFromKey(a.verifierKey)]);
    expect(opened.text).toBe('hello\n');
    expect(opened.verified.map((s) => s.name)).toEqual(['a.example']);
    expect(opened.unverified.map((s) => s.name)).toEqual(['b.example']);
    expect(() => openNote(note.replace('hello', 'hellO'), [verifierFromKey(a.verifierKey)])).toThrow(
      /invalid signature/,
    );
    expect(() => openNote(note, [verifierFromKey(generateKey('c.example').verifierKey)])).toThrow(
      /no signature/,
    );
  });

  it('formats checkpoints and refuses malformed ones', () => {
    const k = generateKey('log.example');
    const note = signCheckpoint({ origin: 'log.example/t/acme', size: 0, root: EMPTY_ROOT }, [
      signerFromKey(k.signerKey),
    ]);
    expect(
      note.startsWith(
        'log.example/t/acme\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n\u2014 log.example ',
      ),
    ).toBe(true);
    expect(openCheckpoint(note, [verifierFromKey(k.verifierKey)], 'log.example/t/acme').size).toBe(0);
    for (const bad of [
      'o\n01\nAA==\n',
      'o\n1\nAA==\n',
      '\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n',
      'o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
    ]) {
      expect(() => parseCheckpoint(bad), JSON.stringify(bad)).toThrow();
    }
  });

  it('round-trips tlog-proof files', () => {
    const text = formatProof({
      index: 3,
      proof: [EMPTY_ROOT, EMPTY_ROOT],
      checkpoint: 'o\n4\nX\n\n\u2014 o AAAA\n',
      extra: Buffer.from('e'),
    });
    expect(text.split('\n').slice(0, 3)).toEqual(['c2sp.org/tlog-proof@v1', 'extra ZQ==', 'index 3']);
    const p = parseProof(text);
    expect(p.index).toBe(3);
    expect(p.proof).toHaveLength(2);
    expect(p.checkpoint).toBe('o\n4\nX\n\n\u2014 o AAAA\n');
    expect(() => parseProof(text.replace('index 3', 'index 03'))).toThrow();
  });
});
