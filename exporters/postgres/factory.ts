import type { ExporterFactory } from '../../pipeline/component.ts';
import { type PostgresConfig, postgresConfigSchema } from './config.ts';
import { PostgresExporter } from './exporter.ts';

/** The `postgres` exporter: usage_events with rollups and the audit_events index, on PostgreSQL or embedded PGlite. */
export const postgresExporterFactory: ExporterFactory<PostgresConfig> = {
  type: 'postgres',
  kind: 'exporter',
  description:
    'Stores activity events in day-partitioned usage_events with hourly/daily rollups and audit events in the audit_events index, exactly once, on PostgreSQL or embedded PGlite.',
  configSchema: postgresConfigSchema,
  create: (settings, config) => new PostgresExporter(settings, config),
};
