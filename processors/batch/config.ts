import { z } from 'zod';

/** The batch processor's configuration (defaults as the Collector's batch processor). */
export const batchConfigSchema = z.strictObject({
  send_batch_size: z
    .number()
    .int()
    .min(1)
    .default(8192)
    .describe(
      'Events that trigger a send; a merged batch never holds more (larger inputs are split). Default: 8192.',
    ),
  timeout: z
    .number()
    .int()
    .min(0)
    .default(200)
    .describe(
      'Milliseconds after its first event that a partial batch is sent. Default: 200. 0: send every input at once (no merging).',
    ),
  send_batch_max_bytes: z
    .number()
    .int()
    .min(0)
    .default(8 * 1024 * 1024)
    .describe(
      'Estimated serialized bytes that trigger a send (estimated from string lengths plus a few bytes per field, on up to 8 sampled events per input). Default: 8388608 (8 MiB). 0: no byte limit.',
    ),
});

/** Configuration of the batch processor. */
export type BatchConfig = z.output<typeof batchConfigSchema>;
