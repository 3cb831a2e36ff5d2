import type { ExtensionFactory } from '../../pipeline/component.ts';
import { type LedgerApiConfig, ledgerApiConfigSchema } from './config.ts';
import { LedgerApi } from './ledger-api.ts';

/** The `ledger_api` extension: a tenant's checkpoint, tiles and proofs over HTTP. */
export const ledgerApiFactory: ExtensionFactory<LedgerApiConfig> = {
  type: 'ledger_api',
  kind: 'extension',
  description:
    'GET /ledger/t/<tenant>/checkpoint, /tile/..., /proof/inclusion?event_id=, /proof/consistency?from=&to= for the caller’s own tenant (C2SP tlog-tiles, tlog-proof).',
  configSchema: ledgerApiConfigSchema,
  create: (settings, config) => new LedgerApi(settings, config),
};
