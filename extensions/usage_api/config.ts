import { z } from 'zod';

const eventTypes = z.array(z.string().min(1).max(128));

/** Settings of the usage API extension (seed 001's summary endpoints). */
export const usageApiConfigSchema = z.strictObject({
  exporter: z
    .string()
    .min(1)
    .default('postgres')
    .describe('Id of the postgres exporter whose rollups answer the queries. Default postgres.'),
  default_days: z
    .number()
    .int()
    .min(1)
    .default(30)
    .describe(
      'Window when a request gives no `days`; capped at the exporter’s retention.raw_days. Default 30.',
    ),
  query_event_types: eventTypes
    .default(['sql_generation', 'sql_execution'])
    .describe(
      'Event types (actions) counted by /api/v1/usage/queries. Default [sql_generation, sql_execution]; empty: none.',
    ),
  dashboard_event_types: eventTypes
    .default(['dashboard_publish', 'dashboard_viewed'])
    .describe(
      'Event types counted by /api/v1/usage/dashboards. Default [dashboard_publish, dashboard_viewed]; empty: none.',
    ),
});

/** Usage API settings. */
export type UsageApiConfig = z.output<typeof usageApiConfigSchema>;
