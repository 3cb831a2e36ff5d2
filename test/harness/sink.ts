import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The envelopes a `file` exporter wrote to `<dir>/data/events.ndjson` (none when it does not exist yet). */
export function readFileSink(dir: string, file = 'events.ndjson'): any[] {
  let text: string;
  try {
    text = readFileSync(join(dir, 'data', file), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
