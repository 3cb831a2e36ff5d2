import { z } from 'zod';

/** Settings of the ledger read API. */
export const ledgerApiConfigSchema = z.strictObject({
  exporter: z
    .string()
    .min(1)
    .default('ledger')
    .describe('Id of the ledger exporter whose logs are served (e.g. ledger or ledger/eu). Default ledger.'),
});

/** Ledger read API settings. */
export type LedgerApiConfig = z.output<typeof ledgerApiConfigSchema>;
