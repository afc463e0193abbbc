/** The Python parser (tree-sitter's Python grammar, as wasm): one instance per process. */
import { Language, Parser, type Node, type Tree } from 'web-tree-sitter';
import { assetPath } from '../assets.ts';

export type { Node as SyntaxNode, Tree };

let ready: Promise<Parser> | undefined;

export function pythonParser(): Promise<Parser> {
  ready ??= (async () => {
    const runtimeWasm = assetPath('tree-sitter.wasm', 'web-tree-sitter/tree-sitter.wasm');
    await Parser.init({ locateFile: () => runtimeWasm });
    const language = await Language.load(assetPath('tree-sitter-python.wasm', 'tree-sitter-python/tree-sitter-python.wasm'));
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return ready;
}

export async function parsePython(text: string): Promise<Tree> {
  const tree = (await pythonParser()).parse(text);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}

/** The first syntax error in a subtree: an ERROR node or a token the parser had to invent. */
export function firstSyntaxError(node: Node): Node | undefined {
  if (!node.hasError) return undefined;
  if (node.isError || node.isMissing) return node;
  for (const child of node.children) {
    if (!child) continue;
    const found = firstSyntaxError(child);
    if (found) return found;
  }
  return node;
}

export function field(node: Node, name: string): Node | null {
  return node.childForFieldName(name);
}

export function namedChildren(node: Node): Node[] {
  return node.namedChildren.filter((c): c is Node => c !== null);
}

/** `a.b.c` for identifier/attribute chains, undefined for anything else. */
export function dottedName(node: Node | null): string | undefined {
  if (!node) return undefined;
  if (node.type === 'identifier') return node.text;
  if (node.type === 'attribute') {
    const obj = dottedName(field(node, 'object'));
    const attr = field(node, 'attribute');
    return obj && attr ? `${obj}.${attr.text}` : undefined;
  }
  return undefined;
}
