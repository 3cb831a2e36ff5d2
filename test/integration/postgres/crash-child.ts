import { readFileSync } from 'node:fs';
import type { Event } from '../../../pipeline/event.ts';
import { testBatch } from '../../../pipeline/testing.ts';
import { startExporter } from './backends.ts';

// Child process of the crash test: commits the first batches, then stages the last one and
// hangs between COPY and COMMIT until the parent kills it with SIGKILL.
const [url, file] = process.argv.slice(2);
const batches = JSON.parse(readFileSync(file!, 'utf8')) as Event[][];
let armed = false;
const exporter = await startExporter(url!, {}, undefined, {
  async afterStage() {
    if (!armed) return;
    process.stdout.write('staged\n');
    await new Promise(() => undefined);
  },
});
for (let i = 0; i < batches.length; i++) {
  armed = i === batches.length - 1;
  await exporter.consume(testBatch(batches[i]!));
  process.stdout.write(`committed ${i}\n`);
}
