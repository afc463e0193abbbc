/**
 * A code-string task whose code is a constant imported from another
 * workspace file (`from snippets import CODE`): Python reads it there, so
 * the debugger does too, and every position — a failure's traceback, a line
 * breakpoint, a stop, the CLI's list — is that file's.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { DebugRuntime } from '../../engine/debug/runtime.ts';
import type { EndInfo, StoppedInfo } from '../../engine/debug/api.ts';
import { loadProgram } from '../../engine/index.ts';
import { writeTree } from '../helpers.ts';

const FILES = {
  'main.py': `import flyte
from flyte.sandbox import orchestrator_from_str

from snippets import SUMMED, NOT_CODE

env = flyte.TaskEnvironment(name="cross")


@env.task
def add(x: int, y: int) -> int:
    return x + y


summed = orchestrator_from_str(SUMMED, inputs={"n": int}, output=int, tasks=[add])
broken = orchestrator_from_str(NOT_CODE, inputs={"n": int}, tasks=[add])
`,
  'snippets.py': `"""Sandboxed code kept apart from the tasks that run it."""

SUMMED = """
a = add(n, 1)
b = a * 10
c = b // (n - 2)
c
"""


def not_code():
    return "x"


NOT_CODE = not_code()
`,
};

test('a code string imported from another file runs with that file\'s positions: line breakpoints, stops and tracebacks are there', async () => {
  const dir = writeTree(FILES);
  const program = await loadProgram(join(dir, 'main.py'));
  const task = program.findTask('summed');
  assert.equal(task.codeModule.path, join(dir, 'snippets.py'));
  assert.equal(task.module.path, join(dir, 'main.py'));
  assert.match(program.unreadable.map(u => u.reason).join('\n'), /its code is the result of `not_code\(\)`, computed when it runs|NOT_CODE/);

  const rt = new DebugRuntime();
  await rt.launch({ program: join(dir, 'main.py'), task: 'summed', inputs: { n: 2 }, stubs: { add: { python: 'args[0] + args[1]' } }, stopOnExternalCall: 'none' });
  const [elsewhere] = await rt.setLineBreakpoints(join(dir, 'main.py'), [{ line: 14 }]);
  assert.equal(elsewhere!.verified, false);
  assert.match(elsewhere!.message!, /snippets\.py/);
  const [bp] = await rt.setLineBreakpoints(join(dir, 'snippets.py'), [{ line: 5 }]);
  assert.equal(bp!.verified, true, bp!.message);
  await rt.setExceptionFilters([]);
  const stop = once(rt, 'stopped') as Promise<[StoppedInfo]>;
  await rt.configurationDone();
  const [s] = await stop;
  assert.equal(s.description, 'line 5: b = a * 10');
  const frames = await rt.stack(1);
  assert.deepEqual([frames[0]!.file, frames[0]!.line], [join(dir, 'snippets.py'), 5]);
  const locals = await rt.frameLocals(frames[0]!.id);
  assert.equal(locals!.locals.get('a'), 3);
  await rt.setLineBreakpoints(join(dir, 'snippets.py'), []);
  const ended = once(rt, 'ended') as Promise<[EndInfo]>;
  await rt.continue(1);
  const [end] = await ended;
  assert.equal(end.error?.type, 'ZeroDivisionError');
  const top = end.error!.frames.at(-1)!;
  assert.deepEqual([top.file, top.line, top.sourceLine], [join(dir, 'snippets.py'), 6, 'c = b // (n - 2)']);
  await rt.terminate();
});
