import { type Cipheriv, createCipheriv } from 'node:crypto';

/**
 * ipcrypt-pfx (draft-denis-ipcrypt, "prefix-preserving"): the standardised successor of
 * Crypto-PAn. Addresses are handled as 128 bits (IPv4 as ::ffff:a.b.c.d, so an IPv4 address
 * stays IPv4); output bit i is input bit i XOR the last bit of AES_K1(P) ⊕ AES_K2(P), where P
 * is a separator bit followed by the first i input bits, right-aligned. As for Crypto-PAn,
 * every block depends only on the input, so each cipher runs once per address over all blocks.
 */
export class IpcryptPfx {
  private readonly c1: Cipheriv;
  private readonly c2: Cipheriv;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new Error('ipcrypt-pfx key must be 32 bytes');
    if (Buffer.compare(key.subarray(0, 16), key.subarray(16, 32)) === 0)
      throw new Error('ipcrypt-pfx key halves must differ');
    this.c1 = createCipheriv('aes-128-ecb', key.subarray(0, 16), null);
    this.c2 = createCipheriv('aes-128-ecb', key.subarray(16, 32), null);
    this.c1.setAutoPadding(false);
    this.c2.setAutoPadding(false);
  }

  /** The pseudonym of an address given as 4 (IPv4) or 16 (IPv6) bytes, of the same length. */
  encrypt(addr: Uint8Array): Uint8Array {
    const v4 = addr.length === 4;
    const a = new Uint8Array(16);
    if (v4) {
      a[10] = 0xff;
      a[11] = 0xff;
      a.set(addr, 12);
    } else a.set(addr);
    const start = v4 ? 96 : 0;
    const steps = 128 - start;
    const blocks = Buffer.alloc(steps * 16);
    // P for the first step: the separator bit above the `start`-bit prefix.
    const p = new Uint8Array(16);
    if (v4) {
      p[3] = 0x01;
      p[14] = 0xff;
      p[15] = 0xff;
    } else p[15] = 0x01;
    for (let s = 0; s < steps; s++) {
      blocks.set(p, s * 16);
      const bit = (a[(start + s) >> 3]! >> (7 - ((start + s) & 7))) & 1;
      for (let i = 0; i < 15; i++) p[i] = ((p[i]! << 1) | (p[i + 1]! >> 7)) & 0xff;
      p[15] = ((p[15]! << 1) | bit) & 0xff;
    }
    const e1 = this.c1.update(blocks);
    const e2 = this.c2.update(blocks);
    const out = Uint8Array.from(a);
    for (let s = 0; s < steps; s++) {
      const flip = (e1[s * 16 + 15]! ^ e2[s * 16 + 15]!) & 1;
      const pos = start + s;
      out[pos >> 3]! ^= flip << (7 - (pos & 7));
    }
    return v4 ? out.subarray(12) : out;
  }
}
