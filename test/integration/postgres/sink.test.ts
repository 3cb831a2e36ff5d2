import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresExporter } from '../../../exporters/postgres/exporter.ts';
import type { Event } from '../../../pipeline/event.ts';
import { testBatch, testEvent } from '../../../pipeline/testing.ts';
import {
  type Backend,
  type BackendName,
  consumeWithRetry,
  openBackend,
  startExporter,
  utcMidnight,
} from './backends.ts';

/**
 * The postgres sink against a real PostgreSQL server and against embedded PGlite, with the
 * same assertions: exactly once across replays and crashes, UTC day partitions, retention,
 * injection strings stored as data, dead letters for what the database can never take.
 */

let seq = 0;
function tenant(): string {
  return `t${process.pid}-${Date.now().toString(36)}-${seq++}`;
}

function usageEvent(t: string, i: number, at: number, extra: Record<string, unknown> = {}): Event {
  return testEvent({
    tenant: { id: t },
    actor: { type: 'user', id: `user-${i % 5}` },
    action: i % 2 === 0 ? 'sql_generation' : 'dashboard_publish',
    occurred_at: new Date(at).toISOString(),
    usage: {
      count: 1 + (i % 3),
      sample_rate: i % 4 === 0 ? 0.5 : 1,
      latency_ms: 10 + i,
      feature: `f${i % 3}`,
    },
    ...extra,
  });
}

async function rowCounts(ex: PostgresExporter, t: string) {
  // Batches append rollup deltas; the fold moves them into the tables read here.
  await ex.fold();
  expect(await ex.query('SELECT 1 FROM usage_rollup_pending WHERE tenant_id = $1', [t])).toHaveLength(0);
  const [raw] = await ex.query<{ rows: number; ids: number }>(
    'SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids FROM usage_events WHERE tenant_id = $1',
    [t],
  );
  const [hourly] = await ex.query<{ n: number; c: number }>(
    'SELECT coalesce(sum(events), 0)::int AS n, coalesce(sum(count_sum), 0)::float8 AS c FROM usage_rollup_hourly WHERE tenant_id = $1',
    [t],
  );
  const [daily] = await ex.query<{ n: number }>(
    'SELECT coalesce(sum(events), 0)::int AS n FROM usage_rollup_daily WHERE tenant_id = $1',
    [t],
  );
  const [actor] = await ex.query<{ n: number }>(
    'SELECT coalesce(sum(events), 0)::int AS n FROM usage_rollup_daily_actor WHERE tenant_id = $1',
    [t],
  );
  const [weekly] = await ex.query<{ n: number }>(
    'SELECT coalesce(sum(events), 0)::int AS n FROM usage_rollup_weekly_actor WHERE tenant_id = $1',
    [t],
  );
  return {
    rows: raw!.rows,
    ids: raw!.ids,
    hourly: hourly!.n,
    hourlyCount: hourly!.c,
    daily: daily!.n,
    actor: actor!.n,
    weekly: weekly!.n,
  };
}

describe.each<BackendName>(['postgres', 'embedded'])('postgres sink on %s', (name) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend(name);
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('stores a batch once when it is delivered twice, rollups included', async () => {
    const ex = await startExporter(await backend.fresh());
    try {
      const t = tenant();
      const now = Date.now();
      const events = Array.from({ length: 300 }, (_, i) => usageEvent(t, i, now - i * 1000));
      const audit = testEvent({
        event_type: 'audit',
        tenant: { id: t },
        entity: { type: 'doc', id: 'd1' },
        result: 'denied',
        occurred_at: new Date(now).toISOString(),
      });
      await ex.consume(testBatch([...events, audit]));
      await ex.consume(testBatch([...events, audit]));
      // A replay split differently, with one duplicate inside the batch itself.
      await ex.consume(testBatch([...events.slice(100, 200), events[150]!]));
      // Stored and new events mixed: only the new ones are inserted and counted.
      const more = Array.from({ length: 50 }, (_, i) => usageEvent(t, 300 + i, now - (300 + i) * 1000));
      await ex.consume(testBatch([...events.slice(250), ...more]));
      const c = await rowCounts(ex, t);
      const expectedCount = [...events, ...more].reduce((a, e) => a + (e.usage?.count ?? 1), 0);
      expect(c).toEqual({
        rows: 350,
        ids: 350,
        hourly: 350,
        hourlyCount: expectedCount,
        daily: 350,
        actor: 350,
        weekly: 350,
      });
      const audits = await ex.query<{ n: number; result: string }>(
        'SELECT count(*)::int AS n, min(result) AS result FROM audit_events WHERE tenant_id = $1',
        [t],
      );
      expect(audits[0]).toEqual({ n: 1, result: 'denied' });
    } finally {
      await ex.shutdown();
    }
  });

  it('skips an event re-sent with the same id and another occurred_at inside the dedupe window', async () => {
    const ex = await startExporter(await backend.fresh());
    try {
      const t = tenant();
      const now = Date.now();
      // The producer sent no occurred_at: each receipt stamped its own clock into both times.
      const firstAt = new Date(now - 60_000).toISOString();
      const first = { ...usageEvent(t, 1, now - 60_000), recorded_at: firstAt };
      const resent = {
        ...first,
        occurred_at: new Date(now).toISOString(),
        recorded_at: new Date(now).toISOString(),
      };
      await ex.consume(testBatch([first]));
      await ex.consume(testBatch([resent]));
      expect((await rowCounts(ex, t)).rows).toBe(1);
    } finally {
      await ex.shutdown();
    }
  });

  it('keeps exactly once when the writer is killed between COPY and COMMIT', async () => {
    const url = await backend.fresh();
    const t = tenant();
    const now = Date.now();
    const committed = Array.from({ length: 50 }, (_, i) => usageEvent(t, i, now - i * 1000));
    const crashed = Array.from({ length: 70 }, (_, i) => usageEvent(t, 100 + i, now - i * 1000));
    const dir = mkdtempSync(join(tmpdir(), 'ledgerline-crash-'));
    try {
      const file = join(dir, 'batches.json');
      writeFileSync(file, JSON.stringify([committed, crashed]));
      const child = spawn(process.execPath, [join(import.meta.dirname, 'crash-child.ts'), url, file], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d;
          if (out.includes('staged\n')) resolve();
        });
        child.on('exit', () => reject(new Error(`child exited before staging: ${out}\n${err}`)));
      });
      expect(out).toContain('committed 0');
      child.kill('SIGKILL');
      await exited;
      const ex = await startExporter(url);
      try {
        expect((await rowCounts(ex, t)).rows).toBe(50);
        await consumeWithRetry(ex, testBatch([...committed, ...crashed]));
        const c = await rowCounts(ex, t);
        expect(c).toEqual({
          rows: 120,
          ids: 120,
          hourly: 120,
          hourlyCount: c.hourlyCount,
          daily: 120,
          actor: 120,
          weekly: 120,
        });
      } finally {
        await ex.shutdown();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('partitions by UTC day whatever the offset of the input and the session time zone', async () => {
    const url = await backend.fresh();
    // The server session runs in UTC+14; partition bounds and rollup days must not move.
    const ex = await startExporter(
      name === 'postgres' ? `${url}?options=-c%20TimeZone%3DPacific%2FKiritimati` : url,
    );
    try {
      if (name === 'embedded') await ex.query("SET TimeZone = 'Pacific/Kiritimati'");
      const t = tenant();
      const today = utcMidnight(0);
      const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
      const local = (ms: number, offset: string) => {
        // Same instant written with another offset, e.g. 2026-01-02T13:59:59.999+14:00.
        const sign = offset.startsWith('-') ? -1 : 1;
        const [h, m] = offset.slice(1).split(':').map(Number);
        const shifted = new Date(ms + sign * (h! * 60 + m!) * 60_000).toISOString().slice(0, 23);
        return `${shifted}${offset}`;
      };
      const cases = [
        { at: local(today - 1, '+14:00'), day: day(today - 1) },
        { at: local(today, '-09:30'), day: day(today) },
        { at: new Date(today - 86_400_000).toISOString(), day: day(today - 86_400_000) },
        { at: local(today + 86_399_999, '+05:45'), day: day(today) },
      ];
      const events = cases.map((c, i) =>
        testEvent({
          tenant: { id: t },
          actor: { type: 'user', id: 'tz' },
          action: `tz_case_${i}`,
          occurred_at: c.at,
        }),
      );
      await ex.consume(testBatch(events));
      // The fold runs in the same odd session time zone.
      await ex.fold();
      const rows = await ex.query<{ part: string; event_type: string }>(
        'SELECT tableoid::regclass::text AS part, event_type FROM usage_events WHERE tenant_id = $1 ORDER BY event_type',
        [t],
      );
      expect(rows.map((r) => r.part)).toEqual(cases.map((c) => `usage_events_p${c.day.replaceAll('-', '')}`));
      const days = await ex.query<{ event_type: string; day: string; hour: string }>(
        `SELECT d.event_type, to_char(d.day, 'YYYY-MM-DD') AS day, to_char(h.hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') AS hour
         FROM usage_rollup_daily d JOIN usage_rollup_hourly h USING (tenant_id, event_type)
         WHERE d.tenant_id = $1 ORDER BY d.event_type`,
        [t],
      );
      expect(days.map((d) => d.day)).toEqual(cases.map((c) => c.day));
      expect(days.map((d) => d.hour)).toEqual(events.map((e) => e.occurred_at.slice(0, 13)));
    } finally {
      await ex.shutdown();
    }
  });

  it('drops whole expired partitions and dead-letters events outside the kept window', async () => {
    const ex = await startExporter(await backend.fresh(), {
      retention: { raw_days: 7, rollup_days: 5 },
      partitions: { ahead_days: 1 },
    });
    try {
      const t = tenant();
      const at = (d: number) => utcMidnight(d) + 3_600_000;
      const events = [-6, -3, 0].map((d, i) => usageEvent(t, i, at(d)));
      const tooOld = usageEvent(t, 9, at(-8));
      const tooNew = usageEvent(t, 10, at(4));
      const batch = testBatch([...events, tooOld, tooNew]);
      await ex.consume(batch);
      expect(batch.report.rejected.map((r) => r.event_id).sort()).toEqual(
        [tooOld.event_id, tooNew.event_id].sort(),
      );
      const dead = await ex.query<{ event_id: string; reason: string }>(
        'SELECT event_id::text, reason FROM dead_letters ORDER BY event_id',
      );
      expect(dead.map((d) => d.reason)).toEqual(['occurred_at_out_of_range', 'occurred_at_out_of_range']);
      const partitions = async () =>
        (
          await ex.query<{ name: string }>(
            "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'usage_events'::regclass ORDER BY 1",
          )
        ).map((r) => r.name);
      const p = (d: number) =>
        `usage_events_p${new Date(utcMidnight(d)).toISOString().slice(0, 10).replaceAll('-', '')}`;
      expect(await partitions()).toEqual(expect.arrayContaining([p(-6), p(-3), p(0), p(1)]));
      // Four days later: the cut-off is day -3, so day -6 goes, day -3 stays.
      await ex.maintain(Date.now() + 4 * 86_400_000);
      const after = await partitions();
      expect(after).not.toContain(p(-6));
      expect(after).toEqual(expect.arrayContaining([p(-3), p(0), p(4), p(5)]));
      const left = await ex.query<{ day: string }>(
        "SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM usage_events WHERE tenant_id = $1 ORDER BY 1",
        [t],
      );
      expect(left.map((r) => r.day)).toEqual(
        [-3, 0].map((d) => new Date(utcMidnight(d)).toISOString().slice(0, 10)),
      );
      // Rollups keep 5 days: of days -6, -3 and 0, only day 0 is within 5 days of "now + 4".
      const rollupDays = await ex.query<{ day: string }>(
        "SELECT DISTINCT to_char(day, 'YYYY-MM-DD') AS day FROM usage_rollup_daily WHERE tenant_id = $1",
        [t],
      );
      expect(rollupDays.map((r) => r.day)).toEqual([new Date(utcMidnight(0)).toISOString().slice(0, 10)]);
    } finally {
      await ex.shutdown();
    }
  });

  it('stores SQL injection attempts and COPY control characters as data', async () => {
    const ex = await startExporter(await backend.fresh());
    try {
      const nasty = [
        "'); DROP TABLE usage_events; --",
        'x\tinjected\tcolumns\n\\.\nCOPY done',
        '\\N',
        '$1 $$ ${env:HOME} \\x00 " \' ` ;',
        "Robert'); DELETE FROM audit_events WHERE ('1'='1",
        'ünï©ødé 🎉 \r\n',
      ];
      const t = `${tenant()}'; DROP TABLE usage_events; --`;
      const events = nasty.map((s, i) =>
        testEvent({
          tenant: { id: t },
          actor: { type: 'user', id: s },
          action: 'injection_probe',
          occurred_at: new Date(Date.now() - i).toISOString(),
          reason: s,
          entity: { type: s, id: s },
          correlation: { request_id: s },
          metadata: { safe_fields_only: true, details: { [s]: s, source: s } },
          usage: { feature: s, tool: s, capability: s, provider: s, workspace_id: s },
        }),
      );
      const audit = testEvent({
        event_type: 'audit',
        tenant: { id: t },
        actor: { type: 'user', id: nasty[0] },
        entity: { type: nasty[1], id: nasty[4] },
        result: 'success',
      });
      await ex.consume(testBatch([...events, audit]));
      const rows = await ex.query<
        Record<string, string> & {
          metadata: { details: Record<string, string>; reason: string; entity: { id: string } };
        }
      >(
        'SELECT id::text, actor_id, feature, tool, capability, provider, workspace_id, source, metadata FROM usage_events WHERE tenant_id = $1',
        [t],
      );
      expect(rows).toHaveLength(nasty.length);
      for (const e of events) {
        const s = e.actor.id;
        const r = rows.find((x) => x.id === e.event_id)!;
        expect([r.actor_id, r.feature, r.tool, r.capability, r.provider, r.workspace_id, r.source]).toEqual([
          s,
          s,
          s,
          s,
          s,
          s,
          s,
        ]);
        expect(r.metadata.details[s]).toBe(s);
        expect(r.metadata.reason).toBe(s);
        expect(r.metadata.entity.id).toBe(s);
      }
      const a = await ex.query<{ actor_id: string; entity_type: string; entity_id: string }>(
        'SELECT actor_id, entity_type, entity_id FROM audit_events WHERE tenant_id = $1',
        [t],
      );
      expect(a).toEqual([{ actor_id: nasty[0], entity_type: nasty[1], entity_id: nasty[4] }]);
      const tables = await ex.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_class WHERE relname IN ('usage_events', 'audit_events')",
      );
      expect(tables[0]!.n).toBe(2);
    } finally {
      await ex.shutdown();
    }
  });

  it('dead-letters only the events the database can never store and writes the rest', async () => {
    const ex = await startExporter(await backend.fresh());
    try {
      const t = tenant();
      const now = Date.now();
      const good = Array.from({ length: 40 }, (_, i) => usageEvent(t, i, now - i));
      // PostgreSQL text cannot hold NUL; a too-large rollup key breaks the btree limit.
      const nul = usageEvent(t, 100, now, { actor: { type: 'user', id: 'nul\u0000byte' } });
      // Incompressible 3-byte characters: 5 × 768 bytes is past the 2704-byte btree row limit.
      const huge = Array.from({ length: 256 }, (_, i) =>
        String.fromCharCode(0x4e00 + ((i * 7919) % 20000)),
      ).join('');
      const wide = usageEvent(t, 101, now, {
        usage: { feature: huge, tool: huge, capability: huge, provider: huge, workspace_id: huge },
      });
      const batch = testBatch([...good.slice(0, 17), nul, ...good.slice(17, 30), wide, ...good.slice(30)]);
      await ex.consume(batch);
      expect((await rowCounts(ex, t)).rows).toBe(40);
      expect(batch.report.rejected.map((r) => r.event_id).sort()).toEqual(
        [nul.event_id, wide.event_id].sort(),
      );
      const dead = await ex.query<{ event_id: string; reason: string; detail: string; event: string }>(
        'SELECT event_id::text, reason, detail, event FROM dead_letters WHERE tenant_id = $1 ORDER BY event_id',
        [t],
      );
      expect(dead).toHaveLength(2);
      for (const d of dead) expect(d.reason).toBe('rejected_by_database');
      const nulRow = dead.find((d) => d.event_id === nul.event_id)!;
      expect(JSON.parse(nulRow.event).actor.id).toBe('nul\u0000byte');
      // Replaying the whole batch changes nothing.
      await ex.consume(testBatch(batch.events));
      expect((await rowCounts(ex, t)).rows).toBe(40);
      expect(await ex.query('SELECT 1 FROM dead_letters WHERE tenant_id = $1', [t])).toHaveLength(2);
    } finally {
      await ex.shutdown();
    }
  });
});
