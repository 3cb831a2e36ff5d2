import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TenantLog } from './log.ts';
import { consistencyProof, rootHash, verifyConsistency } from './merkle.ts';
import { parseProof, verifyProof } from './proof-file.ts';
import { LogReader } from './reader.ts';
import { auditEvents, tempDir, testKeys } from './testdata/ledger-fixtures.ts';

const keys = testKeys();
const tmp = tempDir('ledger-reader-');
afterAll(() => tmp.cleanup());

type Env = Record<string, unknown> & { event_id: string };

describe('log reader', () => {
  it('proves against a checkpoint whose partial tiles the writer has since replaced by full ones', async () => {
    const log = await TenantLog.open({
      dir: join(tmp.dir, 'acme'),
      origin: 'reader.test/t/acme',
      signer: keys.signer,
    });
    const events = auditEvents(512) as unknown as Env[];
    await log.append(events.slice(0, 300));
    await log.checkpoint();
    await log.append(events.slice(300));
    // The writer is at 512 (not yet checkpointed): the partials of size 300 are gone.
    expect(existsSync(join(log.dir, 'tile/0/001.p/44'))).toBe(false);
    expect(existsSync(join(log.dir, 'tile/entries/001.p/44'))).toBe(false);

    const reader = new LogReader(log.dir);
    expect(reader.checkpoint([keys.verifier], log.origin).size).toBe(300);
    expect(reader.findEvent(events[299]!.event_id)).toBe(299);
    const text = reader.proveInclusion(299);
    expect(parseProof(text).index).toBe(299);
    expect(() => verifyProof(text, parseProof(text).extra!, [keys.verifier], log.origin)).not.toThrow();
    expect(() => reader.proveInclusion(300)).toThrow(/not covered/);

    const p = reader.proveConsistency(100, 300);
    expect(verifyConsistency(100, 300, p.proof, p.rootFrom, p.rootTo)).toBe(true);
    // The reader's roots agree with the writer's own tree.
    expect(p.rootTo.equals(rootHash(log.nodeReader(512), 300))).toBe(true);
    expect(consistencyProof(log.nodeReader(512), 100, 300)).toEqual(p.proof);
    await log.close();
  });
});
