/**
 * Child process of the crash test: appends audit events for three tenants through the ledger
 * exporter as fast as it can, from several concurrent producers, and prints `ack <tenant>
 * <event_id>` for each event once `consume` resolved (stdout to a pipe is synchronous on
 * Linux, so a printed ack reached the parent before any later kill). Runs until killed.
 */
import { configSchema } from '../../../exporters/ledger/config.ts';
import { ledgerExporterFactory } from '../../../exporters/ledger/factory.ts';
import { auditEvents } from '../../../exporters/ledger/testdata/ledger-fixtures.ts';
import { testBatch, testHost, testSettings } from '../../../pipeline/testing.ts';

const dir = process.argv[2]!;
const settings = testSettings('ledger');
const exporter = ledgerExporterFactory.create(
  settings,
  configSchema.parse({ dir, generate_key: true, checkpoint_interval: '100ms' }),
);
await exporter.start(testHost(settings));
process.stdout.write('ready\n');

const tenants = ['crash-a', 'crash-b', 'crash-c'];
let seq = 0;
async function producer(): Promise<never> {
  for (;;) {
    const n = 1 + (seq % 37);
    const events = tenants.flatMap((t, i) => auditEvents(1 + ((n + i) % 13), t, seq));
    seq += n;
    await exporter.consume(testBatch(events));
    process.stdout.write(events.map((e) => `ack ${e.tenant.id} ${e.event_id}\n`).join(''));
  }
}
await Promise.all([producer(), producer(), producer(), producer()]);
