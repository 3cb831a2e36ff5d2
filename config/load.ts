import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { AnyFactory } from '../pipeline/component.ts';
import { protectReferences, substituteEnv } from './env.ts';
import { locate, type SourceFile } from './positions.ts';
import { COMPONENT_ID, type RootConfig, rootSchema } from './schema.ts';
import { type Config, type Finding, suggest, validateComponents, zodFindings } from './validate.ts';

/**
 * Loads one or more YAML config files: parse with positions, substitute `${env:...}`, merge
 * (later files win; maps merge, lists and scalars replace), validate. Every problem is
 * reported at once as `file:line:col path: message`.
 */

/** One reported problem, with where it was written. */
export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

/** The outcome of loading: a config when there were no errors, and every diagnostic. */
export interface LoadResult {
  config: Config | undefined;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

/** A config source: a file path and its text. */
export interface ConfigSource {
  path: string;
  text: string;
}

/** Formats a diagnostic the way editors and CI logs link it. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.path ? ` ${d.path}:` : '';
  return `${d.file}:${d.line}:${d.col}${where} ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`;
}

function dotted(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: maps merge key by key, everything else is replaced by the later value. */
export function mergeConfigs(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? mergeConfigs(out[k], v) : v;
  return out;
}

const TOP_KEYS = Object.keys(rootSchema.shape);

/** Loads and validates config sources with the given factories. */
export function loadConfigSources(
  sources: readonly ConfigSource[],
  factories: readonly AnyFactory[],
  env: Record<string, string | undefined> = process.env,
): LoadResult {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const files: SourceFile[] = [];
  let merged: unknown = {};

  for (const src of sources) {
    const lines = new LineCounter();
    const { text, restore } = protectReferences(src.text);
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const file: SourceFile = { path: src.path, doc, lines };
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const { line, col } = lines.linePos(e.pos[0]);
        errors.push({
          file: src.path,
          line,
          col,
          path: '',
          message: e.message.split('\n')[0]!,
          severity: 'error',
        });
      }
      continue;
    }
    for (const p of substituteEnv(doc, env, restore)) {
      const { line, col } = lines.linePos(p.node.range?.[0] ?? 0);
      errors.push({ file: src.path, line, col, path: '', message: p.message, severity: 'error' });
    }
    files.push(file);
    const js: unknown = doc.toJS() ?? {};
    if (!isPlainObject(js)) {
      errors.push({
        file: src.path,
        line: 1,
        col: 1,
        path: '',
        message: 'the file must hold a YAML mapping',
        severity: 'error',
      });
      continue;
    }
    merged = mergeConfigs(merged, js);
  }
  if (errors.length > 0) return { config: undefined, errors, warnings };

  const add = (f: Finding) => {
    const pos = locate(files, f.path, f.atKey);
    (f.severity === 'error' ? errors : warnings).push({
      ...pos,
      path: dotted(f.path),
      message: f.message,
      severity: f.severity,
    });
  };

  // Each top-level section is parsed on its own, so one broken section does not hide the errors of another.
  const obj = merged as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!TOP_KEYS.includes(key))
      add({
        path: [key],
        message: `unknown key "${key}"${suggest(key, TOP_KEYS)}`,
        severity: 'error',
        atKey: true,
      });
  }
  const sections: Record<string, unknown> = {};
  let serviceOk = true;
  for (const [key, schema] of Object.entries(rootSchema.shape)) {
    const r = (schema as z.ZodType).safeParse(obj[key]);
    if (r.success) {
      sections[key] = r.data;
      continue;
    }
    if (key === 'service') serviceOk = false;
    for (const f of zodFindings(r.error.issues, [key])) add(f);
    // A component map with a bad id: keep its well-formed ids so their settings are still checked.
    const raw = obj[key];
    sections[key] = isPlainObject(raw)
      ? Object.fromEntries(Object.entries(raw).filter(([id]) => COMPONENT_ID.test(id)))
      : key === 'tenants'
        ? []
        : {};
  }
  if (!serviceOk)
    sections.service = { extensions: [], pipelines: {}, telemetry: { logs: { level: 'info' }, metrics: {} } };
  const root = { data: sections as RootConfig };

  const { config, findings: all } = validateComponents(root.data, factories);
  // Without a valid service section, "unused" would be said of every component.
  const findings = serviceOk ? all : all.filter((f) => f.severity === 'error');
  if (Array.isArray(root.data.tenants)) {
    const seen = new Map<string, number>();
    root.data.tenants.forEach((t, i) => {
      t.keys.forEach((k, j) => {
        const prev = seen.get(k);
        if (prev !== undefined) {
          findings.push({
            path: ['tenants', i, 'keys', j],
            message: `this key is already used by tenants[${prev}]`,
            severity: 'error',
          });
        }
        seen.set(k, i);
      });
    });
  }
  for (const f of findings) add(f);
  return {
    config: errors.length === 0 ? config : undefined,
    errors: sortDiagnostics(errors),
    warnings: sortDiagnostics(warnings),
  };
}

function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return list.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}

/** Reads config files and loads them. An unreadable file is a diagnostic, not a throw. */
export function loadConfigFiles(
  paths: readonly string[],
  factories: readonly AnyFactory[],
  env: Record<string, string | undefined> = process.env,
): LoadResult {
  const sources: ConfigSource[] = [];
  const errors: Diagnostic[] = [];
  for (const path of paths) {
    try {
      sources.push({ path, text: readFileSync(path, 'utf8') });
    } catch (err) {
      errors.push({
        file: path,
        line: 1,
        col: 1,
        path: '',
        message: `cannot read: ${(err as Error).message}`,
        severity: 'error',
      });
    }
  }
  if (errors.length > 0) return { config: undefined, errors, warnings: [] };
  return loadConfigSources(sources, factories, env);
}
