import type { RedactionConfig } from './config.ts';
import { CryptoPan } from './cryptopan.ts';
import { formatIp, parseIp, truncateIp } from './ip-address.ts';
import { IpcryptPfx } from './ipcrypt-pfx.ts';
import type { KeyedHasher } from './keys.ts';

/**
 * Applies the configured IP mode to one address. Crypto-PAn and ipcrypt-pfx cost AES work
 * per address bit, so results are cached: a working set of client addresses recurs across batches.
 */

const CACHE_LIMIT = 16384;

/** What becomes of an IP: its replacement text, or undefined to drop it. */
export class IpRewriter {
  private readonly mode: RedactionConfig['ip']['mode'];
  private readonly v4Bits: number;
  private readonly v6Bits: number;
  private readonly hasher: KeyedHasher;
  private readonly cryptopan: CryptoPan | undefined;
  private readonly pfx: IpcryptPfx | undefined;
  private readonly cache = new Map<string, string>();

  constructor(config: RedactionConfig['ip'], hasher: KeyedHasher, cryptopanKey: Buffer) {
    this.mode = config.mode;
    this.v4Bits = config.ipv4_prefix;
    this.v6Bits = config.ipv6_prefix;
    this.hasher = hasher;
    this.cryptopan = config.mode === 'cryptopan' ? new CryptoPan(cryptopanKey) : undefined;
    this.pfx = config.mode === 'ipcrypt-pfx' ? new IpcryptPfx(cryptopanKey) : undefined;
  }

  /** True when `actor.ip` is removed rather than rewritten. */
  get drops(): boolean {
    return this.mode === 'drop';
  }

  /** The rewritten address; undefined when `ip` is not an address. In drop mode, a mask. */
  rewrite(ip: string): string | undefined {
    const hit = this.cache.get(ip);
    if (hit !== undefined) return hit;
    const bytes = parseIp(ip);
    if (!bytes) return undefined;
    let out: string;
    switch (this.mode) {
      case 'truncate':
        out = formatIp(truncateIp(bytes, bytes.length === 4 ? this.v4Bits : this.v6Bits));
        break;
      case 'hmac':
        out = this.hasher.token('ip', formatIp(bytes));
        break;
      case 'cryptopan':
        out = formatIp(this.cryptopan!.anonymize(bytes));
        break;
      case 'ipcrypt-pfx':
        out = formatIp(this.pfx!.encrypt(bytes));
        break;
      case 'drop':
        out = '[REDACTED:ip]';
        break;
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(ip, out);
    return out;
  }
}
