import { isIPv4, isIPv6 } from 'node:net';

/**
 * IP addresses as bytes: parsing (IPv4 dotted quad, IPv6 with `::` and an embedded IPv4 tail),
 * RFC 5952 formatting, and prefix truncation. node:net validates; the byte work is ours.
 */

/** Bytes of an IPv4 (4) or IPv6 (16) address, or undefined when `s` is not one. */
export function parseIp(s: string): Uint8Array | undefined {
  if (isIPv4(s)) return parseIpv4(s);
  if (!isIPv6(s) || s.includes('%')) return undefined;
  return parseIpv6(s);
}

function parseIpv4(s: string): Uint8Array {
  const out = new Uint8Array(4);
  const parts = s.split('.');
  for (let i = 0; i < 4; i++) out[i] = Number(parts[i]);
  return out;
}

function parseIpv6(s: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = s;
  let tail: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    tail = parseIpv4(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest === undefined ? [] : rest ? rest.split(':') : [];
  const groups =
    rest === undefined
      ? headGroups
      : [...headGroups, ...Array<string>(8 - headGroups.length - restGroups.length).fill('0'), ...restGroups];
  for (let i = 0; i < 8; i++) {
    const v = Number.parseInt(groups[i] ?? '0', 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

/** Text form of address bytes: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[i * 2]! << 8) | b[i * 2 + 1]!);
  let bestStart = -1;
  let bestLen = 1; // a single zero group is not compressed (RFC 5952 §4.2.2)
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Copy of the address with every bit after the first `bits` set to zero. */
export function truncateIp(b: Uint8Array, bits: number): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) {
    const keep = bits - i * 8;
    out[i] = keep >= 8 ? b[i]! : keep <= 0 ? 0 : b[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}
