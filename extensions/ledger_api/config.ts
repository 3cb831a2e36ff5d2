import { z } from 'zod';

/** Settings of the ledger read API. */
export const ledgerApiConfigSchema = z.strictObject({
  exporter: z
    .string()
    .min(1)
    .default('ledger')
    .describe('Id of the ledger exporter whose logs are served (e.g. ledger or ledger/eu). Default ledger.'),
  audit_index: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Id of a postgres exporter whose audit_events index answers the forensic query (GET /api/v1/audit/events), oldest first; events and proofs still come from the ledger. Unset: the ledger is scanned in append order.',
    ),
});

/** Ledger read API settings. */
export type LedgerApiConfig = z.output<typeof ledgerApiConfigSchema>;
