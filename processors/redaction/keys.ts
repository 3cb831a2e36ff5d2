import { createHmac, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { cryptopanKeyBytes, type RedactionConfig } from './config.ts';

/**
 * Key material of the keyed actions. Keys come from the config (meant for `${env:…}`); when
 * one is missing a random key is drawn for this process and a warning names the config field,
 * never the key: hashes and pseudonyms then stay consistent until restart only.
 */

// Drawn once per process: the runtime creates one redaction instance per pipeline, and the
// activity and audit pipelines must hash the same address to the same token.
let processHmacKey: Buffer | undefined;
let processIpKey: Buffer | undefined;

/** The keys the redactor works with (`cryptopan` also keys ipcrypt-pfx). */
export interface RedactionKeys {
  hmac: Buffer;
  cryptopan: Buffer;
}

/** Resolves configured keys, generating and warning about the missing ones that are needed. */
export function resolveKeys(config: RedactionConfig, logger: Logger): RedactionKeys {
  const needsHmac =
    config.ip.mode === 'hmac' ||
    Object.values(config.detectors).includes('hash') ||
    config.custom_detectors.some((d) => d.action === 'hash');
  let hmac: Buffer;
  if (config.hmac_key) hmac = Buffer.from(config.hmac_key, 'utf8');
  else {
    processHmacKey ??= randomBytes(32);
    hmac = processHmacKey;
    if (needsHmac)
      logger.warn(
        { field: 'hmac_key' },
        'no hmac_key configured: using a random per-process key, so keyed hashes change at restart and differ between processes',
      );
  }
  let cryptopan: Buffer;
  const configured = config.ip.key ? cryptopanKeyBytes(config.ip.key) : undefined;
  if (configured) cryptopan = configured;
  else {
    processIpKey ??= randomBytes(32);
    cryptopan = processIpKey;
    if (config.ip.mode === 'cryptopan' || config.ip.mode === 'ipcrypt-pfx')
      logger.warn(
        { field: 'ip.key' },
        `no ip.key configured: using a random per-process ${config.ip.mode} key, so IP pseudonyms change at restart and differ between processes`,
      );
  }
  return { hmac, cryptopan };
}

const HASH_CACHE_LIMIT = 8192;

/** HMAC-SHA256 tokens `[HMAC:<kind>:<32 hex>]`, cached because the same ids recur constantly. */
export class KeyedHasher {
  private readonly key: Buffer;
  private readonly cache = new Map<string, string>();

  constructor(key: Buffer) {
    this.key = key;
  }

  /** The token of `value`; the kind is part of the MAC input so kinds never collide. */
  token(kind: string, value: string): string {
    const k = `${kind}\u0000${value}`;
    const hit = this.cache.get(k);
    if (hit !== undefined) return hit;
    const mac = createHmac('sha256', this.key).update(k, 'utf8').digest('hex').slice(0, 32);
    const out = `[HMAC:${kind}:${mac}]`;
    if (this.cache.size >= HASH_CACHE_LIMIT) this.cache.clear();
    this.cache.set(k, out);
    return out;
  }
}
