import type { ExporterFactory } from '../../pipeline/component.ts';
import { type PrometheusConfig, prometheusConfigSchema } from './config.ts';
import { PrometheusExporter } from './exporter.ts';

/** The `prometheus` exporter: business series and ledgerline's own metrics on a scrape endpoint. */
export const prometheusExporterFactory: ExporterFactory<PrometheusConfig> = {
  type: 'prometheus',
  kind: 'exporter',
  description:
    'Serves usage, audit, denial and LLM-token series (cardinality-capped) and ledgerline’s own metrics on /metrics, with /healthz and /readyz.',
  configSchema: prometheusConfigSchema,
  create: (settings, config) => new PrometheusExporter(settings, config),
};
