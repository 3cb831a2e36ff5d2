import { parse as parseYaml, visit, type Document, type Scalar } from 'yaml';

/**
 * `${env:VAR}` and `${env:VAR:-default}` substitution in every string value, `$$` for a
 * literal `$`, as the Collector does. A value that is a single unquoted reference is typed by
 * YAML after substitution, so `port: ${env:PORT}` gives a number.
 */

const REF = /\$\$|\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{([^}]*)\}/g;
const WHOLE = /^\$\{env:[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

/** A problem found while substituting, at a node. */
export interface EnvProblem {
  node: Scalar;
  message: string;
}

/** Substitutes in place; returns the problems (unset variables without default, bad syntax). */
export function substituteEnv(doc: Document, env: Record<string, string | undefined>): EnvProblem[] {
  const problems: EnvProblem[] = [];
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.value.includes('$')) return;
      const raw = node.value;
      let bad = false;
      const out = raw.replace(REF, (m, name: string | undefined, def: string | undefined, other: string | undefined) => {
        if (m === '$$') return '$';
        if (other !== undefined) {
          problems.push({ node, message: `"\${${other}}" is not a reference; use \${env:NAME} or write $$ for a literal $` });
          bad = true;
          return m;
        }
        const value = env[name!];
        if (value !== undefined && value !== '') return value;
        if (def !== undefined) return def;
        problems.push({ node, message: `environment variable ${name} is not set (write \${env:${name}:-default} for a default)` });
        bad = true;
        return '';
      });
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
