import { z } from 'zod';

/**
 * The redaction processor's configuration. Defaults are the privacy defaults of seed 003:
 * a key denylist, an allowlist for `metadata.details` that keeps nothing unless named,
 * every value detector on, query strings and fragments stripped, IPs truncated.
 */

/** What a detector does with a match: mask it, replace it by a keyed hash, drop the field, or nothing. */
export const actionSchema = z
  .enum(['mask', 'hash', 'drop', 'off'])
  .describe(
    'mask: replace the match by `[REDACTED:<kind>]`; hash: by `[HMAC:<kind>:<hex>]` (HMAC-SHA256 with `hmac_key`, so joins still work); drop: remove the whole field (required fields are masked instead); off: do not detect.',
  );

/** One redaction action. */
export type Action = z.output<typeof actionSchema>;

const action = (def: Action, what: string) => actionSchema.default(def).describe(`${what}. Default: ${def}.`);

/** Per-kind actions of the built-in value detectors. */
export const detectorsSchema = z
  .strictObject({
    email: action('hash', 'E-mail addresses'),
    phone: action(
      'mask',
      'Phone numbers: E.164 (+4915112345678) and formatted national numbers ((415) 555-0132)',
    ),
    payment_card: action(
      'mask',
      'Payment card numbers (13–19 digits, optionally grouped) that pass the Luhn check',
    ),
    us_ssn: action('mask', 'US social security numbers written as 123-45-6789'),
    iban: action('mask', 'IBANs that pass the ISO 13616 mod-97 check'),
    jwt: action('mask', 'JSON Web Tokens (three base64url segments starting eyJ)'),
    bearer_token: action('mask', 'Credentials after `Bearer ` / `Basic ` and `token=`-style assignments'),
    api_key: action(
      'mask',
      'Well-known API key formats: OpenAI/Anthropic sk-…, GitHub ghp_/gho_/ghs_/github_pat_, Slack xox…, Stripe sk_live_/rk_live_, Google AIza…, SendGrid SG.…',
    ),
    cloud_key: action(
      'mask',
      'Cloud access keys: AWS AKIA/ASIA ids, aws_secret_access_key assignments, Azure AccountKey= and SharedAccessSignature sig=',
    ),
    private_key: action(
      'mask',
      'PEM private keys (-----BEGIN … PRIVATE KEY----- to the END line, or to the end of the text)',
    ),
  })
  .default({
    email: 'hash',
    phone: 'mask',
    payment_card: 'mask',
    us_ssn: 'mask',
    iban: 'mask',
    jwt: 'mask',
    bearer_token: 'mask',
    api_key: 'mask',
    cloud_key: 'mask',
    private_key: 'mask',
  })
  .describe(
    'Value detectors applied to every string of the event (and to large integers in details). Default: all on.',
  );

/** A detector the user adds: a name, a regular expression and an action. */
export const customDetectorSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be snake_case, at most 32 characters')
    .describe('Kind shown in `[REDACTED:<name>]` and in the metrics label `rule`.'),
  pattern: z
    .string()
    .min(1)
    .refine((p) => {
      try {
        new RegExp(p, 'u');
        return true;
      } catch {
        return false;
      }
    }, 'must be a valid JavaScript regular expression (u flag)')
    .describe('JavaScript regular expression (u flag), matched anywhere in a string. No back-references.'),
  action: actionSchema.exclude(['off']).default('mask').describe('What to do with a match. Default: mask.'),
});

/** IP address handling. */
export const ipSchema = z
  .strictObject({
    mode: z
      .enum(['truncate', 'hmac', 'cryptopan', 'ipcrypt-pfx', 'drop'])
      .default('truncate')
      .describe(
        'truncate: keep the first `ipv4_prefix`/`ipv6_prefix` bits; hmac: `[HMAC:ip:<hex>]`; cryptopan: prefix-preserving pseudonym (Crypto-PAn, AES-128) keyed by `key`; ipcrypt-pfx: prefix-preserving encryption of draft-denis-ipcrypt (IPv4 stays IPv4) keyed by `key`; drop: remove. Default: truncate.',
      ),
    ipv4_prefix: z
      .number()
      .int()
      .min(0)
      .max(32)
      .default(24)
      .describe('Bits kept by truncate for IPv4. Default: 24 (0 keeps none).'),
    ipv6_prefix: z
      .number()
      .int()
      .min(0)
      .max(128)
      .default(48)
      .describe('Bits kept by truncate for IPv6. Default: 48.'),
    key: z
      .string()
      .nullable()
      .default('')
      // `key: ${env:X:-}` with X unset reads as YAML null: the same as empty.
      .transform((k) => k ?? '')
      .refine(
        (k) => k === '' || cryptopanKeyBytes(k) !== undefined,
        'must be 32 bytes as 64 hex digits or base64',
      )
      .describe(
        'Key of cryptopan and ipcrypt-pfx: 32 bytes as 64 hex digits or base64 (for ipcrypt-pfx the two halves must differ); use `${env:LEDGERLINE_IP_KEY}`. Empty: a random key per process (pseudonyms change at restart; a warning is logged).',
      ),
    detect_in_text: z
      .boolean()
      .default(true)
      .describe('Also rewrite IP addresses found inside any string, not only `actor.ip`. Default: true.'),
  })
  .superRefine((ip, ctx) => {
    const key = ip.key ? cryptopanKeyBytes(ip.key) : undefined;
    if (ip.mode === 'ipcrypt-pfx' && key && key.subarray(0, 16).equals(key.subarray(16)))
      ctx.addIssue({
        code: 'custom',
        path: ['key'],
        message: 'the two 16-byte halves must differ for ipcrypt-pfx',
      });
  })
  .default({ mode: 'truncate', ipv4_prefix: 24, ipv6_prefix: 48, key: '', detect_in_text: true })
  .describe('IP addresses in `actor.ip` and in text.');

/** URL handling for URLs found in any string. */
export const urlsSchema = z
  .strictObject({
    strip_query: z.boolean().default(true).describe('Remove `?query`. Default: true.'),
    strip_fragment: z.boolean().default(true).describe('Remove `#fragment`. Default: true.'),
    strip_userinfo: z.boolean().default(true).describe('Remove `user:password@`. Default: true.'),
  })
  .default({ strip_query: true, strip_fragment: true, strip_userinfo: true })
  .describe('URLs (http, https, ws, wss, ftp) keep scheme, host and path.');

/** Key patterns that are always removed from `metadata.details`, whatever the allowlist says. */
export const DEFAULT_KEY_DENYLIST = [
  'password',
  'passwd',
  'pwd',
  'secret',
  'token',
  'apikey',
  'api_key',
  'authorization',
  'auth',
  'credential',
  'cookie',
  'session',
  'email',
  'mail',
  'phone',
  'mobile',
  'ssn',
  'social_security',
  'card',
  'iban',
  'account_number',
  'body',
  'content',
  'prompt',
  'completion',
  'message',
  'query',
  'sql',
  'search',
  'file_name',
  'filename',
  'path',
  'address',
  'birth',
  'dob',
  'name',
  'ip',
  'user_agent',
  'private_key',
];

/** The redaction processor's configuration. */
export const redactionConfigSchema = z.strictObject({
  allowed_detail_keys: z
    .array(z.string().min(1).max(256))
    .default(['country'])
    .describe(
      'Keys of `metadata.details` that are kept (fail-closed: every other key is removed). A trailing `*` matches a prefix. Default: [country]. Empty: details are always emptied.',
    ),
  key_denylist: z
    .array(z.string().min(1))
    .default(DEFAULT_KEY_DENYLIST)
    .describe(
      'Key patterns removed from `metadata.details` even when allowed. The key is folded (camelCase, `-`, `.`, spaces → `_`, lower case); a pattern matches a whole `_`-separated word sequence (`user_email`, `emailAddress` match `email`; `retries` does not match `ip`), and patterns of 5+ characters also match inside words (`mypassword`). Default: password, secret, token, authorization, cookie, session, email, phone, ssn, body, content, prompt, query, file_name, … (see README). Empty: no denylist.',
    ),
  detectors: detectorsSchema,
  custom_detectors: z
    .array(customDetectorSchema)
    .default([])
    .describe('Extra detectors, applied after the built-in ones. Default: none.'),
  hmac_key: z
    .string()
    .nullable()
    .default('')
    .transform((k) => k ?? '')
    .refine((k) => k === '' || Buffer.byteLength(k, 'utf8') >= 16, 'must be at least 16 bytes')
    .describe(
      'Key of the `hash` action and of `ip.mode: hmac`, at least 16 bytes; use `${env:LEDGERLINE_REDACTION_KEY}`. Empty: a random key per process (hashes change at restart and differ between processes; a warning is logged).',
    ),
  urls: urlsSchema,
  ip: ipSchema,
  user_agent: z
    .enum(['normalize', 'drop', 'keep'])
    .default('normalize')
    .describe(
      '`actor.user_agent`: normalize to `<browser> <major> (<os>)`, drop it, or keep it verbatim. Default: normalize.',
    ),
  record_paths: z
    .boolean()
    .default(true)
    .describe(
      'Append the paths of redacted fields (never their values) to `metadata.redacted`. Default: true.',
    ),
});

/** Configuration of the redaction processor. */
export type RedactionConfig = z.output<typeof redactionConfigSchema>;

/** The 32 bytes of a Crypto-PAn key written as hex or base64, or undefined when malformed. */
export function cryptopanKeyBytes(key: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(key)) return Buffer.from(key, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(key)) {
    const b = Buffer.from(key, 'base64');
    if (b.length === 32) return b;
  }
  return undefined;
}
