import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm run bench -- <scenario> [options]`: runs bench/scenarios/<scenario>.ts with the same
 * Node. Each scenario prints its own figures (throughput and latency percentiles).
 */

const dir = join(import.meta.dirname, 'scenarios');
const scenarios = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .map((f) => f.slice(0, -3))
  .sort();
const [name, ...rest] = process.argv.slice(2);
if (!name || !scenarios.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <scenario> [options]\nscenarios: ${scenarios.join(', ')}\n`);
  process.exitCode = name ? 2 : 0;
} else {
  const r = spawnSync(process.execPath, [join(dir, `${name}.ts`), ...rest], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}
