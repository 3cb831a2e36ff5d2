import { type Cipheriv, createCipheriv } from 'node:crypto';

/**
 * Crypto-PAn (Xu, Fan, Ammar, Moon 2002): prefix-preserving pseudonymisation of IP addresses.
 * Two addresses sharing a k-bit prefix map to pseudonyms sharing a k-bit prefix, so subnets
 * stay comparable for fraud and anomaly work while hosts are hidden.
 *
 * The 32-byte key is an AES-128 key (first half) and a pad secret (second half); the pad is
 * AES(pad secret). Output bit i is input bit i XOR the first bit of AES(first i input bits,
 * then the pad's bits). All blocks of one address depend only on the input, so they are
 * encrypted in one ECB call rather than one call per bit. Matches the reference
 * implementation's sample trace for IPv4 and the common IPv6 extension (128-bit blocks).
 */
export class CryptoPan {
  private readonly cipher: Cipheriv;
  private readonly pad: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new Error('Crypto-PAn key must be 32 bytes');
    // ECB without padding is stateless per block, so one cipher serves every address.
    this.cipher = createCipheriv('aes-128-ecb', key.subarray(0, 16), null);
    this.cipher.setAutoPadding(false);
    this.pad = this.cipher.update(key.subarray(16, 32));
  }

  /** The pseudonym of an address given as 4 (IPv4) or 16 (IPv6) bytes. */
  anonymize(addr: Uint8Array): Uint8Array {
    const bits = addr.length * 8;
    const blocks = Buffer.allocUnsafe(bits * 16);
    for (let pos = 0; pos < bits; pos++) {
      const off = pos * 16;
      this.pad.copy(blocks, off);
      const full = pos >> 3;
      for (let i = 0; i < full; i++) blocks[off + i] = addr[i]!;
      const rem = pos & 7;
      if (rem) {
        const mask = (0xff << (8 - rem)) & 0xff;
        blocks[off + full] = (addr[full]! & mask) | (this.pad[full]! & ~mask & 0xff);
      }
    }
    const enc = this.cipher.update(blocks);
    const out = new Uint8Array(addr.length);
    for (let pos = 0; pos < bits; pos++) {
      const flip = enc[pos * 16]! >> 7;
      out[pos >> 3]! |= flip << (7 - (pos & 7));
    }
    for (let i = 0; i < addr.length; i++) out[i]! ^= addr[i]!;
    return out;
  }
}
