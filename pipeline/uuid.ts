import { randomFillSync } from 'node:crypto';

/**
 * UUID version 7 (RFC 9562 §5.7): 48-bit Unix milliseconds, then random bits. Ids sort by
 * creation time, which keeps index inserts in Postgres and the ledger append-friendly.
 * Random bytes are drawn in blocks so that a batch of ids costs one call into the CSPRNG,
 * and the string is built from a byte → hex table without intermediate arrays: receivers mint
 * one per event that arrives without an id.
 */

const POOL_SIZE = 16 * 256;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

let lastMs = -1;
let timeHex = '';

/** Returns a new UUID v7 string for the given time (default now). */
export function uuidv7(ms: number = Date.now()): string {
  if (poolOffset + 10 > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const r = poolOffset;
  poolOffset += 10;
  const t = Math.max(0, Math.floor(ms));
  if (t !== lastMs) {
    // The 48-bit timestamp as 12 hex digits, with the dash after the first 8.
    const hex = t.toString(16).padStart(12, '0').slice(-12);
    timeHex = `${hex.slice(0, 8)}-${hex.slice(8, 12)}`;
    lastMs = t;
  }
  const p = pool;
  return (
    `${timeHex}-${HEX[0x70 | (p[r]! & 0x0f)]}${HEX[p[r + 1]!]}-` +
    `${HEX[0x80 | (p[r + 2]! & 0x3f)]}${HEX[p[r + 3]!]}-` +
    `${HEX[p[r + 4]!]}${HEX[p[r + 5]!]}${HEX[p[r + 6]!]}${HEX[p[r + 7]!]}${HEX[p[r + 8]!]}${HEX[p[r + 9]!]}`
  );
}
