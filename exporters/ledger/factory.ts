import type { ExporterFactory } from '../../pipeline/component.ts';
import { configSchema, type LedgerConfig } from './config.ts';
import { LedgerExporter } from './exporter.ts';

/** The `ledger` exporter: per-tenant Merkle logs with signed checkpoints (DESIGN §7). */
export const ledgerExporterFactory: ExporterFactory<LedgerConfig> = {
  type: 'ledger',
  kind: 'exporter',
  description:
    'Appends events to a per-tenant tamper-evident Merkle log (C2SP tlog-tiles, signed checkpoints).',
  configSchema,
  capabilities: { ledger: true },
  create: (settings, config) => new LedgerExporter(settings, config),
};
