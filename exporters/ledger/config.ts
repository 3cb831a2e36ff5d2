import { z } from 'zod';
import { isValidName } from './note.ts';

/** A duration as `500ms`, `1s`, `2m`, or a number of seconds; parsed to milliseconds. */
const duration = z
  .union([
    z.number().positive(),
    z.string().regex(/^\d+(?:\.\d+)?(?:ms|s|m)$/, 'must be a duration such as 500ms, 1s or 2m'),
  ])
  .transform((v) => {
    if (typeof v === 'number') return v * 1000;
    const n = Number.parseFloat(v);
    return v.endsWith('ms') ? n : v.endsWith('m') ? n * 60_000 : n * 1000;
  });

/** Configuration of the ledger exporter. */
export const configSchema = z.strictObject({
  dir: z
    .string()
    .min(1)
    .default('./data/ledger')
    .describe(
      'Directory of the ledger: one C2SP tlog-tiles log per tenant in `<dir>/<tenant>/`. Default ./data/ledger.',
    ),
  origin: z
    .string()
    .min(1)
    .refine(
      (s) => isValidName(s) && !s.endsWith('/'),
      'must hold no spaces, no "+" and no trailing "/" (e.g. ledger.example.com)',
    )
    .default('ledgerline.local')
    .describe(
      'Checkpoint origin prefix: each tenant log is `<origin>/t/<tenant>`. Use the URL prefix the logs are served under, without scheme. Default ledgerline.local.',
    ),
  signing_key_file: z
    .string()
    .default('')
    .describe(
      'File holding the Ed25519 signer key (`PRIVATE+KEY+name+hash+base64`, as `ledgerline ledger keygen` writes). Empty: `<dir>/signing.key`.',
    ),
  generate_key: z
    .boolean()
    .default(false)
    .describe(
      'When the signing key file does not exist, create a fresh key there (mode 0600) named after `origin`, and log its verifier key. For development; false: refuse to start without a key.',
    ),
  checkpoint_interval: duration
    // prefault: the default goes through the parser like a written value (a plain default would be taken as milliseconds).
    .prefault('1s')
    .describe(
      'How often a new signed checkpoint is written while entries arrive (at most this old). Default 1s.',
    ),
});

/** The ledger exporter's configuration. */
export type LedgerConfig = z.output<typeof configSchema>;
