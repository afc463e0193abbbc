/**
 * Inline values while a flyte-sandbox session is paused: the names the
 * stopped frame's lines use, from its `def` (or the top of a code string)
 * down to the stopped line. VS Code looks each one up in the frame's Locals
 * and shows `name = value` at the line's end; names that are not bound there
 * show nothing.
 */
import * as vscode from 'vscode';
import { DEBUG_TYPE } from './sessionModel.ts';

const KEYWORDS = new Set(['False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield', 'print', 'len', 'range', 'sum', 'min', 'max', 'list', 'dict', 'str', 'int', 'float', 'bool', 'zip', 'enumerate', 'sorted', 'flyte_map']);
const MAX_LINES = 200;

/** The code of a line without its comment and string contents (names inside strings are not variables). */
function codeOnly(text: string): string {
  return text.replace(/("""|'''|"|')(?:\\.|(?!\1).)*\1/g, m => ' '.repeat(m.length)).replace(/#.*$/, '');
}

export class SandboxInlineValues implements vscode.InlineValuesProvider {
  provideInlineValues(document: vscode.TextDocument, viewPort: vscode.Range, context: vscode.InlineValueContext): vscode.InlineValue[] | undefined {
    if (vscode.debug.activeDebugSession?.type !== DEBUG_TYPE) return undefined;
    const stopped = context.stoppedLocation.start.line;
    const indent = (n: number) => /^\s*/.exec(document.lineAt(n).text)![0].length;
    let first = stopped;
    for (let n = stopped; n >= Math.max(0, stopped - MAX_LINES); n--) {
      const text = document.lineAt(n).text;
      first = n;
      if (/^\s*(async\s+)?def\s/.test(text) && (n === stopped || indent(n) < indent(stopped))) break;
      if (/orchestrator_from_str\(|sandbox\.orchestrator\(/.test(text)) break;
    }
    const values: vscode.InlineValue[] = [];
    for (let n = Math.max(first, viewPort.start.line); n <= Math.min(stopped, viewPort.end.line); n++) {
      const text = codeOnly(document.lineAt(n).text);
      const seen = new Set<string>();
      for (const m of text.matchAll(/(?<![\w.])[A-Za-z_]\w*/g)) {
        const name = m[0];
        if (KEYWORDS.has(name) || seen.has(name) || /^\s*\(/.test(text.slice(m.index + name.length))) continue;
        seen.add(name);
        values.push(new vscode.InlineValueVariableLookup(new vscode.Range(n, m.index, n, m.index + name.length), name, true));
      }
    }
    return values;
  }
}
