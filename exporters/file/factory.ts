import type { ExporterFactory } from '../../pipeline/component.ts';
import { type FileExporterConfig, fileExporterConfigSchema } from './config.ts';
import { FileExporter } from './exporter.ts';

/** The `file` exporter: NDJSON on local disk, the inspection sink. */
export const fileExporterFactory: ExporterFactory<FileExporterConfig> = {
  type: 'file',
  kind: 'exporter',
  description:
    'Appends each event as one JSON line to a local file, fsynced per batch (debugging and local inspection).',
  configSchema: fileExporterConfigSchema,
  create: (settings, config) => new FileExporter(settings, config),
};
