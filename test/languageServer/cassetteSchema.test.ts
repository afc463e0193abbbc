/**
 * The JSON schema the extension contributes for `*.cassette.json`: it
 * accepts what the CLI's `--record` really writes and points at what is
 * wrong in a broken one.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';

const root = join(import.meta.dirname, '..', '..');
const schema = JSON.parse(readFileSync(join(root, 'schemas', 'cassette.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, validateFormats: false }).compile(schema);

function recorded(): Record<string, unknown> {
  const dir = join(mkdtempSync(join(tmpdir(), 'flyte-schema-')), 'run');
  cpSync(join(root, 'test', 'fixtures', 'lsp', 'lastrun'), dir, { recursive: true });
  execFileSync(process.execPath, [join(root, 'dist', 'cli.js'), 'run', join(dir, 'pipeline.py'), '--inputs', '{"n": 10}', '--stubs', join(dir, 'stubs.json'), '--record', join(dir, 'pipeline.cassette.json')], { stdio: 'pipe' });
  return JSON.parse(readFileSync(join(dir, 'pipeline.cassette.json'), 'utf8')) as Record<string, unknown>;
}

test('the package contributes the schema for *.cassette.json', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { contributes: { jsonValidation: { fileMatch: string; url: string }[] } };
  assert.deepEqual(pkg.contributes.jsonValidation, [{ fileMatch: '*.cassette.json', url: './schemas/cassette.schema.json' }]);
});

test('a cassette the CLI recorded (calls, a flyte_map and its items, a File) is valid', () => {
  const cassette = recorded();
  assert.equal((cassette.calls as unknown[]).length, 11);
  assert.ok(validate(cassette), JSON.stringify(validate.errors));
});

test('broken cassettes: each problem is named where it is', () => {
  const good = recorded();
  const calls = good.calls as Record<string, unknown>[];
  const errors = (c: unknown) => {
    assert.equal(validate(c), false);
    return validate.errors!.map(e => `${e.instancePath || '/'} ${e.message}`);
  };
  assert.deepEqual(errors({ ...good, version: 2 }), ['/version must be equal to constant']);
  assert.deepEqual(errors({ ...good, codeHash: 'abc' }), ['/codeHash must match pattern "^sha256:[0-9a-f]{16}$"']);
  assert.deepEqual(errors({ ...good, status: 'done' }), ['/status must be equal to one of the allowed values']);
  assert.deepEqual(errors({ ...good, calls: [{ ...calls[0], seq: 0 }] }), ['/calls/0/seq must be >= 1']);
  assert.deepEqual(errors({ ...good, calls: [{ ...calls[6], mapIndex: undefined }] }).filter(e => e.includes('mapIndex')), ['/calls/0 must have property mapIndex when property mapParent is present']);
  assert.ok(errors({ ...good, calls: [{ seq: 1, args: [], kwargs: {} }] }).includes("/calls/0 must have required property 'function'"));
  const { task: _task, ...noTask } = good;
  assert.ok(errors(noTask).includes("/ must have required property 'task'"));
});
