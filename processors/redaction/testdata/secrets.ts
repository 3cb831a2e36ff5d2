import fc from 'fast-check';

/**
 * Generators of secrets and personal data in the formats the default redaction config must
 * catch, for the property tests. Every generated value is valid for its kind (cards pass
 * Luhn, IBANs pass mod-97) so that a surviving value is a real leak, not a test artefact.
 */

const DIGIT = '0123456789';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const B64URL = `${ALNUM}-_`;

const chars = (alphabet: string, min: number, max = min) =>
  fc.array(fc.constantFrom(...alphabet), { minLength: min, maxLength: max }).map((a) => a.join(''));

const luhnComplete = (body: string): string => {
  for (let d = 0; d <= 9; d++) {
    const s = body + d;
    let sum = 0;
    for (let i = 0; i < s.length; i++) {
      let x = s.charCodeAt(s.length - 1 - i) - 48;
      if (i % 2 === 1) {
        x *= 2;
        if (x > 9) x -= 9;
      }
      sum += x;
    }
    if (sum % 10 === 0) return s;
  }
  throw new Error('unreachable');
};

const mod97 = (s: string): number => {
  let r = 0;
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    r = c >= 65 ? (r * 100 + (c - 55)) % 97 : (r * 10 + (c - 48)) % 97;
  }
  return r;
};

const group = (s: string, sep: string, sizes: number[]): string => {
  const out: string[] = [];
  let i = 0;
  for (const n of sizes) {
    out.push(s.slice(i, i + n));
    i += n;
  }
  if (i < s.length) out.push(s.slice(i));
  return out.filter(Boolean).join(sep);
};

/** Luhn-valid Visa (16) or Amex (15) numbers, contiguous or grouped by spaces or dashes. */
export const paymentCard = fc
  .tuple(fc.constantFrom('4', '34', '37', '51', '55'), chars(DIGIT, 14), fc.constantFrom('', ' ', '-'))
  .map(([prefix, rest, sep]) => {
    const amex = prefix.startsWith('3');
    const len = amex ? 15 : 16;
    const n = luhnComplete((prefix + rest).slice(0, len - 1));
    return sep === '' ? n : group(n, sep, amex ? [4, 6, 5] : [4, 4, 4, 4]);
  });

/** IBANs with correct check digits, compact or in groups of four. */
export const iban = fc
  .tuple(fc.constantFrom(['DE', 18], ['FR', 23], ['GB', 18], ['NL', 14], ['ES', 20]), fc.boolean())
  .chain(([[cc, n], spaced]) =>
    chars(UPPER_ALNUM, n as number).map((bban) => {
      const b = /^\d/.test(bban) ? bban : `1${bban.slice(1)}`;
      const check = 98 - mod97(`${b}${cc}00`);
      const s = `${cc}${String(check).padStart(2, '0')}${b}`;
      return spaced ? group(s, ' ', [4, 4, 4, 4, 4, 4, 4, 4]) : s;
    }),
  );

/** US SSNs as 123-45-6789. */
export const ssn = fc
  .tuple(chars(DIGIT, 3), chars(DIGIT, 2), chars(DIGIT, 4))
  .map(([a, b, c]) => `${a}-${b}-${c}`);

/** Phone numbers: E.164 and the common North American formats. */
export const phone = fc.oneof(
  fc.tuple(fc.constantFrom('1', '44', '49', '33', '353'), chars(DIGIT, 9, 11)).map(([cc, n]) => `+${cc}${n}`),
  fc
    .tuple(fc.constantFrom('+1 ', '+44 ', '+49 '), chars(DIGIT, 3), chars(DIGIT, 3), chars(DIGIT, 4))
    .map(([cc, a, b, c]) => `${cc}${a} ${b} ${c}`),
  fc
    .tuple(chars('23456789', 1), chars(DIGIT, 2), chars(DIGIT, 3), chars(DIGIT, 4))
    .map(([a, b, c, d]) => `(${a}${b}) ${c}-${d}`),
  fc
    .tuple(chars('23456789', 1), chars(DIGIT, 2), chars(DIGIT, 3), chars(DIGIT, 4), fc.constantFrom('-', '.'))
    .map(([a, b, c, d, s]) => `${a}${b}${s}${c}${s}${d}`),
);

/** E-mail addresses (fast-check's RFC-shaped generator). */
export const email = fc.emailAddress();

const b64urlJson = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** JSON Web Tokens. */
export const jwt = fc
  .tuple(fc.string({ minLength: 1, maxLength: 12 }), chars(B64URL, 20, 43))
  .map(([sub, sig]) => `${b64urlJson({ alg: 'HS256', typ: 'JWT' })}.${b64urlJson({ sub })}.${sig}`);

/** Bearer and Basic credentials and key=value secrets. */
export const bearer = fc.oneof(
  chars(`${ALNUM}._~+/-`, 16, 40).map((t) => `Bearer ${t}`),
  chars(`${ALNUM}+/`, 12, 40).map((t) => `Basic ${t}=`),
  fc
    .tuple(
      fc.constantFrom('password', 'passwd', 'api_key', 'access_token', 'client_secret', 'token', 'secret'),
      fc.constantFrom('=', ': ', '='),
      chars(ALNUM, 8, 24),
    )
    .map(([k, s, v]) => `${k}${s}${v}`),
);

/** Well-known API key formats. */
export const apiKey = fc.oneof(
  chars(ALNUM, 40, 48).map((s) => `sk-proj-${s}`),
  chars(ALNUM, 40).map((s) => `sk-ant-api03-${s}`),
  chars(ALNUM, 36).map((s) => `ghp_${s}`),
  chars(ALNUM, 36).map((s) => `gho_${s}`),
  chars(`${ALNUM}_`, 60).map((s) => `github_pat_${s}`),
  fc.tuple(chars(DIGIT, 12), chars(ALNUM, 24)).map(([a, b]) => `xoxb-${a}-${b}`),
  chars(ALNUM, 24, 32).map((s) => `sk_live_${s}`),
  chars(`${ALNUM}-_`, 35).map((s) => `AIza${s}`),
  fc.tuple(chars(`${ALNUM}-_`, 22), chars(`${ALNUM}-_`, 43)).map(([a, b]) => `SG.${a}.${b}`),
);

/** Cloud access keys. */
export const cloudKey = fc.oneof(
  fc.tuple(fc.constantFrom('AKIA', 'ASIA'), chars(UPPER_ALNUM, 16)).map(([p, s]) => `${p}${s}`),
  chars(`${ALNUM}/+`, 40).map((s) => `aws_secret_access_key=${s}`),
  chars(`${ALNUM}+/`, 86).map((s) => `AccountKey=${s}==`),
);

/** PEM private keys, complete or cut off. */
export const privateKey = fc
  .tuple(
    fc.constantFrom('', 'RSA ', 'EC ', 'OPENSSH ', 'ENCRYPTED '),
    chars(`${ALNUM}+/`, 64, 64),
    fc.boolean(),
  )
  .map(
    ([kind, body, complete]) =>
      `-----BEGIN ${kind}PRIVATE KEY-----\n${body}\n${body}${complete ? `\n-----END ${kind}PRIVATE KEY-----` : ''}`,
  );

/** A secret of any kind, with its kind. */
export const anySecret = fc.oneof(
  paymentCard.map((s) => ({ kind: 'payment_card', s })),
  iban.map((s) => ({ kind: 'iban', s })),
  ssn.map((s) => ({ kind: 'us_ssn', s })),
  phone.map((s) => ({ kind: 'phone', s })),
  email.map((s) => ({ kind: 'email', s })),
  jwt.map((s) => ({ kind: 'jwt', s })),
  bearer.map((s) => ({ kind: 'bearer_token', s })),
  apiKey.map((s) => ({ kind: 'api_key', s })),
  cloudKey.map((s) => ({ kind: 'cloud_key', s })),
  privateKey.map((s) => ({ kind: 'private_key', s })),
);
