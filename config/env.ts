import { type Document, parse as parseYaml, type Scalar, visit } from 'yaml';

/**
 * `${env:VAR}` and `${env:VAR:-default}` substitution in every string value, `$$` for a
 * literal `$`, as the Collector does. A value that is a single unquoted reference is typed by
 * YAML after substitution, so `port: ${env:PORT}` gives a number.
 */

const REF = /\$\$|\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{([^}]*)\}/g;
const WHOLE = /^\$\{env:[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

/**
 * Hides every `${...}` from the YAML parser behind a placeholder of the same length, because
 * `{` and `}` are flow indicators: `{ url: ${env:DATABASE_URL} }` would not parse otherwise.
 * Equal lengths keep every line:column position exact. `restore` undoes it in a scalar.
 */
export function protectReferences(text: string): { text: string; restore: (value: string) => string } {
  let prefix = 'zQz';
  while (text.includes(prefix)) prefix += 'Q';
  const originals: string[] = [];
  const protectedText = text.replace(/\$\$|\$\{[^}\n]*\}/g, (m) => {
    if (m === '$$') return m;
    const id = originals.length.toString(36);
    const placeholder = `${prefix}${id}`;
    if (placeholder.length > m.length) return m; // too short to hide; the parser will report it
    originals.push(m);
    return placeholder + '_'.repeat(m.length - placeholder.length);
  });
  if (originals.length === 0) return { text, restore: (v) => v };
  const pattern = new RegExp(`${prefix}([0-9a-z]+)_*`, 'g');
  const restore = (value: string) =>
    value.includes(prefix)
      ? value.replace(pattern, (m, id: string) => originals[Number.parseInt(id, 36)] ?? m)
      : value;
  return { text: protectedText, restore };
}

/** A problem found while substituting, at a node. */
export interface EnvProblem {
  node: Scalar;
  message: string;
}

/** Substitutes in place; returns the problems (unset variables without default, bad syntax). */
export function substituteEnv(
  doc: Document,
  env: Record<string, string | undefined>,
  restore: (value: string) => string = (v) => v,
): EnvProblem[] {
  const problems: EnvProblem[] = [];
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string') return;
      const raw = restore(node.value);
      node.value = raw;
      if (!raw.includes('$')) return;
      let bad = false;
      const out = raw.replace(
        REF,
        (m, name: string | undefined, def: string | undefined, other: string | undefined) => {
          if (m === '$$') return '$';
          if (other !== undefined) {
            problems.push({
              node,
              message: `"\${${other}}" is not a reference; use \${env:NAME} or write $$ for a literal $`,
            });
            bad = true;
            return m;
          }
          const value = env[name!];
          if (value !== undefined && value !== '') return value;
          if (def !== undefined) return def;
          problems.push({
            node,
            message: `environment variable ${name} is not set (write \${env:${name}:-default} for a default)`,
          });
          bad = true;
          return '';
        },
      );
      if (bad) return;
      if (node.type === 'PLAIN' && WHOLE.test(raw)) {
        const typed: unknown = parseYaml(out);
        node.value = typed === null || typeof typed !== 'object' ? typed : out;
      } else {
        node.value = out;
      }
    },
  });
  return problems;
}
