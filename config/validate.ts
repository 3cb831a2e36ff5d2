import type { z } from 'zod';

import type { AnyFactory, Kind } from '../pipeline/component.ts';
import type { EventClass } from '../pipeline/event.ts';
import { type QueueConfig, queueConfigSchema } from '../pipeline/queue.ts';
import type { tenantsSectionSchema } from '../pipeline/tenants.ts';
import type { RootConfig, telemetrySchema } from './schema.ts';

/**
 * Checks that need the factory list: every component's own settings against its factory's
 * schema, references from pipelines, unused components, and the compliance invariants
 * (no sampling in audit pipelines, redaction before exporters, audit pipelines end in a ledger).
 */

/** One finding, at a config path; `atKey` points at the key rather than its value. */
export interface Finding {
  path: (string | number)[];
  message: string;
  severity: 'error' | 'warning';
  atKey?: boolean;
}

/** A configured component, validated. */
export interface ComponentEntry {
  id: string;
  type: string;
  kind: Kind;
  factory: AnyFactory;
  config: unknown;
  /** Exporters only: their queue and retry policy. */
  queue?: QueueConfig;
}

/** A configured pipeline. */
export interface PipelineEntry {
  id: string;
  eventClass: EventClass;
  receivers: string[];
  processors: string[];
  exporters: string[];
}

/** The validated configuration the runtime is built from. */
export interface Config {
  tenants: z.output<typeof tenantsSectionSchema>;
  components: Map<string, ComponentEntry>;
  extensions: string[];
  pipelines: PipelineEntry[];
  telemetry: z.output<typeof telemetrySchema>;
}

const SECTIONS = [
  ['receivers', 'receiver'],
  ['processors', 'processor'],
  ['exporters', 'exporter'],
  ['extensions', 'extension'],
] as const;

/** Key of a component in `Config.components`: its kind and id. */
export function componentKey(kind: Kind, id: string): string {
  return `${kind}:${id}`;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

/** ` (did you mean "x"?)` when a known name is close to the given one. */
export function suggest(given: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const dd = distance(given, k);
    if (dd < bestD) [best, bestD] = [k, dd];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(given.length / 3))
    ? ` (did you mean "${best}"?)`
    : '';
}

/** Turns zod issues into findings in the user's words, unknown keys pointing at the key. */
export function zodFindings(issues: readonly z.core.$ZodIssue[], prefix: (string | number)[]): Finding[] {
  const out: Finding[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...(issue.path as (string | number)[])];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ path: [...path, key], message: `unknown key "${key}"`, severity: 'error', atKey: true });
    } else if (issue.code === 'invalid_key') {
      out.push({ path, message: issue.issues[0]?.message ?? issue.message, severity: 'error', atKey: true });
    } else if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) {
      out.push({ path, message: 'is required', severity: 'error' });
    } else {
      out.push({ path, message: issue.message, severity: 'error' });
    }
  }
  return out;
}

/** Validates components and pipelines of a structurally valid root. */
export function validateComponents(
  root: RootConfig,
  factories: readonly AnyFactory[],
): { config: Config; findings: Finding[] } {
  const findings: Finding[] = [];
  const components = new Map<string, ComponentEntry>();

  for (const [section, kind] of SECTIONS) {
    const known = factories.filter((f) => f.kind === kind);
    for (const [id, value] of Object.entries(root[section])) {
      const type = id.split('/')[0]!;
      const factory = known.find((f) => f.type === type);
      if (!factory) {
        const names = known.map((f) => f.type);
        findings.push({
          path: [section, id],
          message: `unknown ${kind} type "${type}"${suggest(type, names)}; known: ${names.join(', ') || 'none'}`,
          severity: 'error',
          atKey: true,
        });
        continue;
      }
      let raw: unknown = value ?? {};
      let queue: QueueConfig | undefined;
      if (kind === 'exporter' && raw && typeof raw === 'object' && !Array.isArray(raw)) {
        const { queue: q, ...rest } = raw as Record<string, unknown>;
        const parsedQueue = queueConfigSchema.safeParse(q);
        if (parsedQueue.success) queue = parsedQueue.data;
        else findings.push(...zodFindings(parsedQueue.error.issues, [section, id, 'queue']));
        raw = rest;
      }
      const parsed = factory.configSchema.safeParse(raw);
      if (!parsed.success) {
        findings.push(...zodFindings(parsed.error.issues, [section, id]));
        continue;
      }
      const entry: ComponentEntry = { id, type, kind, factory, config: parsed.data };
      if (kind === 'exporter') entry.queue = queue ?? queueConfigSchema.parse(undefined);
      components.set(componentKey(kind, id), entry);
    }
  }

  const used = new Set<string>();
  const pipelines: PipelineEntry[] = [];
  for (const [pid, p] of Object.entries(root.service.pipelines)) {
    const eventClass = pid.split('/')[0] as EventClass;
    const refs = [
      ['receivers', 'receiver', p.receivers],
      ['processors', 'processor', p.processors],
      ['exporters', 'exporter', p.exporters],
    ] as const;
    for (const [list, kind, ids] of refs) {
      ids.forEach((id, i) => {
        used.add(componentKey(kind, id));
        const inSection = Object.hasOwn(root[list], id);
        if (!inSection) {
          findings.push({
            path: ['service', 'pipelines', pid, list, i],
            message: `${kind} "${id}" is not defined under ${list}${suggest(id, Object.keys(root[list]))}`,
            severity: 'error',
          });
        }
      });
    }
    pipelines.push({
      id: pid,
      eventClass,
      receivers: p.receivers,
      processors: p.processors,
      exporters: p.exporters,
    });

    // Compliance invariants, from what factories declare about themselves.
    const caps = (kind: Kind, id: string) =>
      components.get(componentKey(kind, id))?.factory.capabilities ?? {};
    if (eventClass === 'audit') {
      p.processors.forEach((id, i) => {
        if (caps('processor', id).samples) {
          findings.push({
            path: ['service', 'pipelines', pid, 'processors', i],
            message: `"${id}" samples events; audit events must never be sampled, so it may not be in an audit pipeline`,
            severity: 'error',
          });
        }
      });
      const ledgerKnown = factories.some((f) => f.kind === 'exporter' && f.capabilities?.ledger);
      const allDefined = p.exporters.every((id) => Object.hasOwn(root.exporters, id));
      const reachesLedger = (id: string) => caps('exporter', id).ledger || caps('exporter', id).forwards;
      if (ledgerKnown && allDefined && !p.exporters.some(reachesLedger)) {
        findings.push({
          path: ['service', 'pipelines', pid, 'exporters'],
          message:
            'an audit pipeline must export to a ledger exporter (or forward to workers that have one, e.g. kafka), so every audit event is in the tamper-evident log',
          severity: 'error',
        });
      }
    }
    const redactionKnown = factories.some((f) => f.kind === 'processor' && f.capabilities?.redacts);
    if (redactionKnown && !p.processors.some((id) => caps('processor', id).redacts)) {
      findings.push({
        path: ['service', 'pipelines', pid, 'processors'],
        message: 'every pipeline needs a redaction processor before its exporters, so no PII reaches a sink',
        severity: 'error',
      });
    }
  }

  root.service.extensions.forEach((id, i) => {
    used.add(componentKey('extension', id));
    if (!Object.hasOwn(root.extensions, id)) {
      findings.push({
        path: ['service', 'extensions', i],
        message: `extension "${id}" is not defined under extensions${suggest(id, Object.keys(root.extensions))}`,
        severity: 'error',
      });
    }
  });

  for (const [section, kind] of SECTIONS) {
    for (const id of Object.keys(root[section])) {
      if (!used.has(componentKey(kind, id))) {
        findings.push({
          path: [section, id],
          message: `${kind} "${id}" is defined but not used by any ${kind === 'extension' ? 'service.extensions entry' : 'pipeline'}`,
          severity: 'warning',
          atKey: true,
        });
      }
    }
  }

  const config: Config = {
    tenants: root.tenants,
    components,
    extensions: root.service.extensions,
    pipelines,
    telemetry: root.service.telemetry,
  };
  return { config, findings };
}
