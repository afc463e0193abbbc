/**
 * The injection grammar on fixtures, tokenized with vscode-textmate and
 * vscode-oniguruma (the same engine VS Code uses) over VS Code's Python
 * grammar (tm-grammars' python.json): the scopes a theme colours.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { before, test } from 'node:test';
import oniguruma from 'vscode-oniguruma';
import textmate, { type IGrammar } from 'vscode-textmate';

// Both packages are CommonJS: their exports come through the default import.
const { loadWASM, OnigScanner, OnigString } = oniguruma;
const { INITIAL, parseRawGrammar, Registry } = textmate;

const require = createRequire(import.meta.url);
const root = join(import.meta.dirname, '..', '..');
let grammar: IGrammar;

before(async () => {
  await loadWASM(readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm')).buffer);
  const files: Record<string, string> = {
    'source.python': require.resolve('tm-grammars/grammars/python.json'),
    'flyte-sandbox.injection': join(root, 'syntaxes', 'flyte-sandbox.injection.tmLanguage.json'),
  };
  const registry = new Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new OnigScanner(p), createOnigString: (s: string) => new OnigString(s) }),
    loadGrammar: async scope => (files[scope] ? parseRawGrammar(readFileSync(files[scope]!, 'utf8'), files[scope]) : null),
    getInjections: scope => (scope === 'source.python' ? ['flyte-sandbox.injection'] : undefined),
  });
  const g = await registry.loadGrammar('source.python');
  assert.ok(g);
  grammar = g;
});

interface Token {
  line: number;
  text: string;
  scopes: string[];
}

function tokenize(text: string): Token[] {
  let stack = INITIAL;
  const out: Token[] = [];
  text.split('\n').forEach((line, i) => {
    const r = grammar.tokenizeLine(line, stack);
    for (const t of r.tokens) out.push({ line: i + 1, text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    stack = r.ruleStack;
  });
  return out;
}

const tokens = () => tokenize(readFileSync(join(root, 'test', 'fixtures', 'grammar', 'code_tasks.py'), 'utf8'));

/** The scopes of the token with this text on this line (the nth one, from 0). */
function scopesOf(all: Token[], line: number, text: string, nth = 0): string[] {
  const found = all.filter(t => t.line === line && t.text.trim() === text);
  assert.ok(found[nth], `a token "${text}" on line ${line}: ${all.filter(t => t.line === line).map(t => JSON.stringify(t.text)).join(' ')}`);
  return found[nth]!.scopes;
}

test('flyte_map has its own scope, in a decorated task and inside code strings', () => {
  const all = tokens();
  assert.ok(scopesOf(all, 9, 'flyte_map').includes('support.function.builtin.flyte-map.python'));
  assert.ok(scopesOf(all, 15, 'flyte_map').includes('support.function.builtin.flyte-map.python'));
  assert.ok(!scopesOf(all, 26, 'flyte_map').includes('support.function.builtin.flyte-map.python'), 'flyte_map read without a call is a plain name');
});

test('@env.sandbox.orchestrator is marked', () => {
  const all = tokens();
  assert.ok(scopesOf(all, 7, 'sandbox').includes('support.type.flyte-sandbox.python'));
  assert.ok(scopesOf(all, 7, 'orchestrator').includes('entity.name.function.decorator.flyte-sandbox.python'));
});

test('the code string of orchestrator_from_str is Python, not a string', () => {
  const all = tokens();
  assert.ok(scopesOf(all, 12, 'orchestrator_from_str').includes('entity.name.function.flyte-sandbox.python'));
  const assign = scopesOf(all, 14, '=');
  assert.ok(assign.includes('meta.embedded.block.flyte-sandbox.python') && assign.includes('keyword.operator.assignment.python'), assign.join(' '));
  assert.ok(!assign.some(s => s.startsWith('string.')), 'no string scope inside the code');
  const num = scopesOf(all, 14, '1');
  assert.ok(num.includes('constant.numeric.dec.python'), num.join(' '));
  const innerString = scopesOf(all, 15, 'double');
  assert.ok(innerString.some(s => s.startsWith('string.quoted')), 'strings inside the code are strings');
  assert.ok(scopesOf(all, 15, 'concurrency').includes('variable.parameter.function-call.python'));
  const close = all.find(t => t.line === 16 && t.text.trim() === '"""')!;
  assert.ok(close.scopes.includes('punctuation.definition.string.end.python'), close.scopes.join(' '));
  // after the code string the call's other arguments are ordinary Python again
  assert.ok(scopesOf(all, 17, 'int').includes('support.type.python'));
  assert.ok(scopesOf(all, 20, 'summed').some(s => s.startsWith('string.quoted')), 'name="summed" stays a string');
});

test('the entries of tasks=[...] are the registered externals', () => {
  const all = tokens();
  assert.ok(scopesOf(all, 19, 'add').includes('entity.name.function.flyte-sandbox.external.python'));
  assert.ok(scopesOf(all, 19, 'double').includes('entity.name.function.flyte-sandbox.external.python'), 'a dotted entry is keyed by its last name');
  assert.ok(!scopesOf(all, 19, 'helpers.').includes('entity.name.function.flyte-sandbox.external.python'), 'the module part is not');
});

test('env.sandbox.orchestrator with a raw code string on one line, and the call ends where it ends', () => {
  const all = tokens();
  const add = scopesOf(all, 23, 'add', 0);
  assert.ok(add.includes('meta.embedded.block.flyte-sandbox.python') && add.includes('meta.function-call.python'), add.join(' '));
  assert.ok(scopesOf(all, 23, 'add', 1).includes('entity.name.function.flyte-sandbox.external.python'), 'the tasks=[add] entry');
  const next = scopesOf(all, 25, 'not_code');
  assert.ok(!next.includes('meta.function-call.flyte-sandbox.code-task.python'), 'the code-task call closed on its own line');
});

test('a triple-quoted string elsewhere stays a string', () => {
  const all = tokens();
  const inside = all.filter(t => t.line === 25 && t.text.includes('flyte_map'));
  assert.ok(inside.length && inside.every(t => t.scopes.some(s => s.startsWith('string.quoted'))), JSON.stringify(inside));
});
