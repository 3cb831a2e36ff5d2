import { z } from 'zod';
import { tenantsSectionSchema } from '../pipeline/tenants.ts';

/**
 * The top level of the configuration file, Collector-style. Each component's own settings are
 * validated by its factory's schema (config/validate.ts); here they are only maps of ids.
 */

/** A component id: `type` or `type/name`. */
export const COMPONENT_ID = /^[a-z][a-z0-9_]*(?:\/[A-Za-z0-9_.-]+)?$/;
/** A pipeline id: its event class, optionally `/name`. */
export const PIPELINE_ID = /^(activity|audit)(?:\/[A-Za-z0-9_.-]+)?$/;

const componentMap = (what: string) =>
  z
    .record(
      z
        .string()
        .regex(COMPONENT_ID, 'component ids are `type` or `type/name` (lowercase type, e.g. otlp/internal)'),
      z.unknown(),
    )
    .default({})
    .describe(`${what} by id (\`type\` or \`type/name\`). Empty: none.`);

/** One pipeline: receivers feed processors in order, then every exporter. */
export const pipelineSchema = z.strictObject({
  receivers: z.array(z.string()).min(1, 'a pipeline needs at least one receiver').describe('Receiver ids.'),
  processors: z.array(z.string()).default([]).describe('Processor ids, applied in this order. Empty: none.'),
  exporters: z.array(z.string()).min(1, 'a pipeline needs at least one exporter').describe('Exporter ids.'),
});

/** How ledgerline reports on itself. */
export const telemetrySchema = z
  .strictObject({
    logs: z
      .strictObject({
        level: z
          .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
          .default('info')
          .describe('Log level. Default info.'),
      })
      .default({ level: 'info' })
      .describe('ledgerline’s own logs (JSON lines, or text on a terminal).'),
    metrics: z
      .strictObject({
        otlp: z
          .strictObject({
            endpoint: z.string().describe('OTLP/gRPC endpoint, e.g. http://localhost:4317.'),
            headers: z.record(z.string(), z.string()).default({}).describe('Headers sent with every export.'),
            interval_ms: z
              .number()
              .int()
              .positive()
              .default(10_000)
              .describe('Export interval. Default 10000.'),
          })
          .optional()
          .describe('Also push the self-metrics over OTLP. Absent: only the Prometheus endpoint.'),
      })
      .default({})
      .describe('Self-metrics export.'),
  })
  .default({ logs: { level: 'info' }, metrics: {} })
  .describe('Self-observability settings.');

/** The `service` section: what is switched on, and the pipelines. */
export const serviceSchema = z.strictObject({
  extensions: z.array(z.string()).default([]).describe('Extension ids to start. Empty: none.'),
  pipelines: z
    .record(
      z.string().regex(PIPELINE_ID, 'pipeline ids are `activity` or `audit`, optionally with `/name`'),
      pipelineSchema,
    )
    .refine((p) => Object.keys(p).length > 0, 'at least one pipeline is needed')
    .describe('Pipelines keyed by event class: activity, audit, activity/raw, audit/eu ...'),
  telemetry: telemetrySchema,
});

/** The whole file. */
export const rootSchema = z.strictObject({
  tenants: tenantsSectionSchema,
  receivers: componentMap('Receivers'),
  processors: componentMap('Processors'),
  exporters: componentMap('Exporters'),
  extensions: componentMap('Extensions'),
  service: serviceSchema,
});

/** The file as parsed, before component configs are validated. */
export type RootConfig = z.output<typeof rootSchema>;
