import type { Database } from './database.ts';
import { FOLD_PENDING } from './rollups.ts';

/**
 * Runs a fold of the pending rollup deltas (rollups.ts FOLD_PENDING) as FOLD_PARTS
 * transactions at once, each over the deltas of its share of actors, each on its own
 * connection. A fold is one backend's CPU work that nothing else overlaps when it runs after
 * the last batch; split in two it uses both cores of a small server. Each part deletes
 * exactly what it upserts, so exactly-once holds per part, and readers — which add what is
 * still pending — stay exact whichever parts they see committed.
 */

/** Transactions one fold is split into. */
export const FOLD_PARTS = 2;

/** Advisory lock key of folds (other keys: migrations.ts, partitions.ts); with the part, as (key, part). */
const FOLD_LOCK = 0x6c6c_0003;

/** Folds every pending delta committed before the call in `parts` transactions; resolves with the number folded. */
export async function foldPending(db: Database, parts: number = FOLD_PARTS): Promise<number> {
  const running = Array.from({ length: parts }, (_, part) => foldPart(db, part, parts));
  // Wait for every part before reporting a failure: none is left running behind the caller.
  const results = await Promise.allSettled(running);
  let folded = 0;
  for (const r of results) {
    if (r.status === 'rejected') throw r.reason;
    folded += r.value;
  }
  return folded;
}

async function foldPart(db: Database, part: number, parts: number): Promise<number> {
  return await db.connect(async (s) => {
    await s.query('BEGIN');
    try {
      // Folds of the same part in several processes take turns: each deletes exactly what it upserts.
      await s.query('SELECT pg_advisory_xact_lock($1::int, $2::int)', [FOLD_LOCK, part]);
      const [r] = (await s.query<{ folded: number }>(FOLD_PENDING, [part, parts])).rows;
      await s.query('COMMIT');
      return r?.folded ?? 0;
    } catch (err) {
      await s.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}
