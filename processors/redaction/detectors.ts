import { ibanValid, luhnValid } from './checksums.ts';
import type { Action } from './config.ts';

/**
 * The value detectors: one regular expression per kind of secret or personal datum. They are
 * joined into a single alternation, compiled once, so that each string of an event is scanned
 * once however many detectors are on; the matching alternative is found from its named group.
 * Detectors whose false positives would be costly (cards, IBANs, IPv6) validate the match.
 */

/** A built-in detector kind; also the `rule` label of the redaction counter. */
export type DetectorKind =
  | 'private_key'
  | 'jwt'
  | 'bearer_token'
  | 'api_key'
  | 'cloud_key'
  | 'email'
  | 'iban'
  | 'payment_card'
  | 'us_ssn'
  | 'phone'
  | 'ip';

/** One detector: what it finds, its pattern, and an optional check of a match. */
export interface DetectorDef {
  kind: string;
  source: string;
  validate?: (match: string) => boolean;
}

const IPV4_OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';

/** Built-in detectors in priority order: at one position, the first that matches wins. */
export const BUILTIN_DETECTORS: readonly DetectorDef[] = [
  {
    kind: 'private_key',
    source:
      '-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\\s\\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$(?![\\s\\S]))',
  },
  { kind: 'jwt', source: '\\beyJ[A-Za-z0-9_-]{2,}\\.[A-Za-z0-9_-]{2,}\\.[A-Za-z0-9_-]*' },
  {
    kind: 'bearer_token',
    source: [
      '\\b(?:[Bb]earer|BEARER|[Bb]asic|BASIC|[Tt]oken)[ \\t]+[A-Za-z0-9._~+/=-]{8,}',
      '\\b(?:[Aa]ccess_?[Tt]oken|[Rr]efresh_?[Tt]oken|[Ii]d_?[Tt]oken|[Aa]uth_?[Tt]oken|[Cc]lient_?[Ss]ecret|[Aa]pi_?[Kk]ey|[Pp]ass(?:word|wd)?|PASS(?:WORD|WD)?|[Ss]ecret|SECRET|[Tt]oken|TOKEN)["\']?[ \\t]*[=:][ \\t]*["\']?[^\\s"\'&,;]{4,}',
    ].join('|'),
  },
  {
    kind: 'api_key',
    source: [
      '\\bsk-(?:proj-|ant-(?:api\\d\\d-)?|svcacct-)?[A-Za-z0-9_-]{20,}',
      '\\bgh[pousr]_[A-Za-z0-9]{30,}',
      '\\bgithub_pat_[A-Za-z0-9_]{22,}',
      '\\bglpat-[A-Za-z0-9_-]{20,}',
      '\\bnpm_[A-Za-z0-9]{36}',
      '\\bxox[abposr]-[A-Za-z0-9-]{10,}',
      '\\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}',
      '\\bAIza[0-9A-Za-z_-]{35}',
      '\\bSG\\.[A-Za-z0-9_-]{16,}\\.[A-Za-z0-9_-]{16,}',
    ].join('|'),
  },
  {
    kind: 'cloud_key',
    source: [
      '\\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\\b',
      '\\b[Aa][Ww][Ss]_?[Ss][Ee][Cc][Rr][Ee][Tt]_?[Aa][Cc][Cc][Ee][Ss][Ss]_?[Kk][Ee][Yy]["\']?[ \\t]*[=:][ \\t]*["\']?[A-Za-z0-9/+=]{40}',
      '\\bAccountKey=[A-Za-z0-9+/=]{20,}',
      '[?&]sig=[A-Za-z0-9%+/=]{16,}',
    ].join('|'),
  },
  {
    kind: 'email',
    // The look-behind starts a candidate only at the beginning of a run of local-part
    // characters, which keeps the scan linear on long words without `@`.
    source:
      "(?<![A-Za-z0-9!#$%&'*+/=?^_`{|}~.-])[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+",
  },
  {
    kind: 'iban',
    source: '\\b[A-Z]{2}\\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\\b',
    validate: ibanValid,
  },
  {
    kind: 'payment_card',
    source:
      // Not inside a longer word: a digit run within a hex trace id or token is not a card.
      '(?<![\\w-])(?:\\d{13,19}|\\d{4}[ -]\\d{4}[ -]\\d{4}[ -]\\d{1,7}|\\d{4}[ -]\\d{6}[ -]\\d{4,5})(?![\\w])',
    validate: luhnValid,
  },
  { kind: 'us_ssn', source: '(?<![\\d-])\\d{3}-\\d{2}-\\d{4}(?![\\d-])' },
  {
    kind: 'phone',
    source: [
      // One digit per repetition, so a number splits one way only: no backtracking blow-up.
      '\\+[1-9](?:[ .-]?\\(?\\d\\)?){6,14}(?![\\d])',
      '(?<![\\w.+-])\\(?\\d{3}\\)?[ .-]?\\d{3}[ .-]\\d{4}(?![\\w-])',
    ].join('|'),
    validate: (m) => {
      const digits = m.replace(/\D/g, '').length;
      return digits >= 8 && digits <= 15;
    },
  },
  {
    kind: 'ip',
    source: [
      `(?<![\\d.])(?:${IPV4_OCTET}\\.){3}${IPV4_OCTET}(?!\\d|\\.\\d)`,
      `(?<![\\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:${IPV4_OCTET}\\.){3}${IPV4_OCTET})?(?![\\w:])`,
    ].join('|'),
  },
];

/**
 * A necessary condition of every built-in detector, checked in one pass over the characters
 * before the full alternation runs: a string for which it is false cannot match any detector,
 * so ids, hex trace ids and plain words skip the expensive scan. Each test below is a
 * character every match of some detector must contain: whitespace, `=:@+` (assignments,
 * e-mail, E.164, IPv6, URLs), an upper-case letter (IBAN, JWT `eyJ`, AKIA, AIza, SG., PEM),
 * 13 adjacent digits or digit–separator–digit (cards, phones, SSNs, IPv4), and the
 * punctuation of key prefixes (`sk-`, `glpat-`, `-----`, `k_live_`, `gh?_`, `npm_`,
 * `github_`, `xox`). Over-approximation is fine; missing a detector is not, and
 * `detectors.test.ts` checks the implication on generated inputs.
 */
export function mayMatchBuiltin(s: string): boolean {
  let digitRun = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digitRun >= 13) return true;
      continue;
    }
    const prevDigit = digitRun > 0;
    digitRun = 0;
    if (c <= 32 || c === 61 || c === 58 || c === 64 || c === 43) return true; // space = : @ +
    if (c >= 65 && c <= 90) return true; // A-Z
    if (c === 45 || c === 46) {
      // - or . between digits; `sk-`, `glpat-`, `--`
      const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (prevDigit && next >= 48 && next <= 57) return true;
      if (c === 45) {
        const prev = i > 0 ? s.charCodeAt(i - 1) : 0;
        if (prev === 107 || prev === 116 || prev === 45) return true;
      }
      continue;
    }
    if (c === 95) {
      // `k_live_`/`k_test_`, `npm_`, `github_`, `gh?_`
      const p1 = i > 0 ? s.charCodeAt(i - 1) : 0;
      if (p1 === 107 || p1 === 109 || p1 === 98) return true;
      if (i >= 3 && s.charCodeAt(i - 3) === 103 && s.charCodeAt(i - 2) === 104) return true;
      continue;
    }
    if (c === 120 && s.charCodeAt(i + 1) === 111 && s.charCodeAt(i + 2) === 120) return true; // xox
    if (c > 127) return true; // non-ASCII: leave it to the full scan
  }
  return false;
}

/** A detector as compiled: the action and how to check a match. */
export interface CompiledDetector {
  kind: string;
  action: Action;
  validate?: (match: string) => boolean;
}

/** The alternation of all enabled detectors and the detector behind each named group. */
export interface CompiledDetectors {
  regex: RegExp | undefined;
  /** False when custom detectors are on: the built-in prefilter says nothing about them. */
  prefilter: boolean;
  groups: CompiledDetector[];
}

/**
 * Joins the enabled detectors into one global regular expression whose alternatives are named
 * `d0`, `d1`, … in priority order. Built-in patterns are ASCII; the `u` flag keeps custom
 * patterns honest about Unicode.
 */
export function compileDetectors(
  defs: readonly (DetectorDef & { action: Action; custom?: boolean })[],
): CompiledDetectors {
  const groups: CompiledDetector[] = [];
  const parts: string[] = [];
  let prefilter = true;
  for (const d of defs) {
    if (d.action === 'off') continue;
    if (d.custom) prefilter = false;
    parts.push(`(?<d${groups.length}>${d.source})`);
    groups.push(
      d.validate
        ? { kind: d.kind, action: d.action, validate: d.validate }
        : { kind: d.kind, action: d.action },
    );
  }
  return { regex: parts.length ? new RegExp(parts.join('|'), 'gu') : undefined, prefilter, groups };
}

/** Index of the group that matched, from the `groups` object of a replace callback. */
export function matchedGroup(groups: Record<string, string | undefined>, count: number): number {
  for (let i = 0; i < count; i++) if (groups[`d${i}`] !== undefined) return i;
  return -1;
}
