import { z } from 'zod';

/** Settings of the file exporter. */
export const fileExporterConfigSchema = z.strictObject({
  path: z
    .string()
    .min(1)
    .describe('NDJSON file the events are appended to (one envelope per line). Created with its folder.'),
  fsync: z
    .boolean()
    .default(true)
    .describe(
      'fsync after every write, so an acknowledged event survives a crash. Default true; false only for throw-away debugging.',
    ),
});

/** File exporter settings. */
export type FileExporterConfig = z.output<typeof fileExporterConfigSchema>;
