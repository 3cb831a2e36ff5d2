import { z } from 'zod';

const mib = (what: string) => z.number().int().min(0).default(0).describe(what);

/** The memory_limiter processor's configuration. */
export const memoryLimiterConfigSchema = z
  .strictObject({
    check_interval: z
      .number()
      .int()
      .min(10)
      .default(1000)
      .describe(
        'Milliseconds between memory measurements; batches only read the last verdict. Default: 1000.',
      ),
    heap_soft_limit_mib: mib(
      'Used V8 heap at which new batches are refused with a retryable error (429/503). Default: 0, meaning 70% of the V8 heap limit.',
    ),
    heap_hard_limit_mib: mib(
      'Used V8 heap at which the limiter also logs an error and asks for a garbage collection (when node runs with --expose-gc). Default: 0, meaning 85% of the V8 heap limit.',
    ),
    queued_soft_limit_mib: z
      .number()
      .int()
      .min(0)
      .default(256)
      .describe(
        'Queued bytes (MiB) at which batches are refused: the sum of `ledgerline_queued_bytes` (every batch processor) and of the components named in `queued_from`. Default: 256. 0: no limit.',
      ),
    queued_hard_limit_mib: z
      .number()
      .int()
      .min(0)
      .default(512)
      .describe('Queued bytes at which the limiter also logs an error. Default: 512. 0: no limit.'),
    queued_from: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Ids of further components (exporters, extensions) whose `queuedBytes()` counts as queued memory; batch processors always count. Unknown ids and components without it are ignored. Default: none.',
      ),
  })
  .superRefine((c, ctx) => {
    if (c.heap_soft_limit_mib && c.heap_hard_limit_mib && c.heap_soft_limit_mib > c.heap_hard_limit_mib)
      ctx.addIssue({
        code: 'custom',
        path: ['heap_soft_limit_mib'],
        message: 'must not exceed heap_hard_limit_mib',
      });
    if (
      c.queued_soft_limit_mib &&
      c.queued_hard_limit_mib &&
      c.queued_soft_limit_mib > c.queued_hard_limit_mib
    )
      ctx.addIssue({
        code: 'custom',
        path: ['queued_soft_limit_mib'],
        message: 'must not exceed queued_hard_limit_mib',
      });
  });

/** Configuration of the memory_limiter processor. */
export type MemoryLimiterConfig = z.output<typeof memoryLimiterConfigSchema>;
