/**
 * A small argument parser for the CLI: `--name value`, `--name=value`, repeated flags collect,
 * `--flag` alone is true. Unknown flags are errors naming the flag.
 */

/** Parsed arguments: positionals and flags. */
export interface Args {
  positionals: string[];
  flags: Map<string, string[]>;
}

/** Parses argv against the flags a command knows (name → takes a value). */
export function parseArgs(argv: readonly string[], known: Record<string, boolean>): Args {
  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--') || a === '--') {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (!(name in known)) throw new Error(`unknown option --${name}`);
    let value = 'true';
    if (known[name]) {
      if (eq >= 0) value = a.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i]!;
      else throw new Error(`--${name} needs a value`);
    }
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return { positionals, flags };
}
