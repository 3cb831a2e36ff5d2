import { type Document, isMap, isPair, isScalar, isSeq, type LineCounter, type Node } from 'yaml';

/**
 * Finds where a config path was written, across several merged files, so every error can say
 * `file:line:col`. The last file that writes the path wins, as it does in the merge.
 */

/** One parsed source file. */
export interface SourceFile {
  path: string;
  doc: Document;
  lines: LineCounter;
}

/** A place in a file. */
export interface Position {
  file: string;
  line: number;
  col: number;
}

type Step = string | number;

function child(node: unknown, step: Step, wantKey: boolean): Node | undefined {
  if (isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step));
    if (!pair) return undefined;
    return (wantKey ? pair.key : (pair.value ?? pair.key)) as Node | undefined;
  }
  if (isSeq(node) && typeof step === 'number') return node.items[step] as Node | undefined;
  return undefined;
}

/** The deepest node along the path in one document, and how many steps matched. */
function deepest(
  doc: Document,
  path: readonly Step[],
  pointAtKey: boolean,
): { node: Node | undefined; depth: number } {
  let node: unknown = doc.contents;
  let depth = 0;
  for (let i = 0; i < path.length; i++) {
    const last = i === path.length - 1;
    const next = child(node, path[i]!, last && pointAtKey);
    if (!next) break;
    node = next;
    depth++;
  }
  return { node: (node as Node | null) ?? undefined, depth };
}

/**
 * Where `path` is written. With `pointAtKey`, points at the key of the last step (for unknown
 * keys); otherwise at the value. Falls back to the nearest written ancestor.
 */
export function locate(files: readonly SourceFile[], path: readonly Step[], pointAtKey = false): Position {
  let best: { file: SourceFile; node: Node | undefined; depth: number } | undefined;
  for (const file of files) {
    const found = deepest(file.doc, path, pointAtKey);
    if (!best || found.depth >= best.depth) best = { file, ...found };
  }
  if (!best) return { file: '(none)', line: 1, col: 1 };
  const offset = best.node?.range?.[0] ?? 0;
  const { line, col } = best.file.lines.linePos(offset);
  return { file: best.file.path, line, col };
}
