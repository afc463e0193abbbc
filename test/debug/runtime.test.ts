import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { DebugRuntime } from '../../engine/debug/runtime.ts';
import type { EndInfo, StoppedInfo } from '../../engine/debug/api.ts';
import { pyRepr } from '../../engine/index.ts';
import { flow, writeTree } from '../helpers.ts';

const FLOW = flow(`
  @env.task
  def fib(n: int) -> int: ...

  @env.task
  def add(a: int, b: int) -> int: ...

  @env.sandbox.orchestrator
  def pipe(n: int) -> int:
      total = 0
      for i in range(n):
          total = add(total, fib(i))
      squares = flyte_map("fib", [1, 2, 3], concurrency=2)
      return total + sum(squares)
`);

function file(source = FLOW): string {
  return join(writeTree({ 'flow.py': source }), 'flow.py');
}

async function stopped(rt: DebugRuntime): Promise<StoppedInfo> {
  const [s] = await once(rt, 'stopped') as [StoppedInfo];
  return s;
}

const STUBS = { fib: { python: 'args[0] * 10' }, add: { python: 'args[0] + args[1]' } };

test('stop at every external call, step with next, look at args, continue to the result', async () => {
  const rt = new DebugRuntime();
  await rt.launch({ program: file(), inputs: { n: 2 }, stubs: STUBS });
  const first = stopped(rt);
  await rt.configurationDone();
  let s = await first;
  assert.deepEqual([s.reason, s.threadId, s.description], ['external call', 1, 'fib(0)']);
  assert.equal((await rt.evaluate('args[0] + 100')).result, '100');
  const stack = await rt.stack(1);
  assert.equal(stack[0]!.name, 'fib(0)  [pending external call]');
  assert.deepEqual(stack.slice(1).map(f => [f.name, f.line]), [['pipe', 13], ['<module>', 10]]);
  // next goes over the line (its calls answered as on continue) to the next line of the frame: the loop header
  const nextStop = stopped(rt);
  await rt.next(1);
  s = await nextStop;
  assert.deepEqual([s.reason, s.description], ['step', 'line 12: for i in range(n):']);
  // at a for line the loop variable already holds the item of the iteration about to run
  const locals = await rt.frameLocals((await rt.stack(1))[0]!.id);
  assert.deepEqual([...locals!.locals.entries()], [['n', 2], ['total', 0], ['i', 1]]);
  await rt.launch; // keep the session
  const ended = once(rt, 'ended');
  await rt.setFunctionBreakpoints([]);
  // continue through the rest with stops turned off by answering each stop
  rt.on('stopped', st => void rt.continue(st.threadId, true));
  await rt.continue(1);
  const [end] = await ended as [EndInfo];
  assert.equal(end.status, 'ok');
  assert.equal(end.output, 0 + 10 + 10 + 20 + 30);
});

test('function breakpoint with a condition; line breakpoints say why they cannot be hit', async () => {
  const rt = new DebugRuntime();
  const info = await rt.launch({ program: file(), inputs: { n: 5 }, stubs: STUBS, stopOnExternalCall: 'none' });
  const fnStatus = await rt.setFunctionBreakpoints([{ name: 'fib', condition: 'args[0] == 3' }, { name: 'nope' }, { name: 'env.fib' }]);
  assert.equal(fnStatus[0]!.verified, true);
  assert.match(fnStatus[1]!.message!, /'nope' is not an external this task may call.*Registered: add, fib/);
  assert.match(fnStatus[2]!.message!, /Use the name the sandbox calls/);
  const lineStatus = await rt.setLineBreakpoints(info.file, [{ line: 14 }, { line: 12 }, { line: 3 }]);
  assert.deepEqual(lineStatus.map(b => b.verified), [true, true, false]);
  assert.match(lineStatus[2]!.message!, /line 3 is not part of the sandboxed task pipe/);
  await rt.setLineBreakpoints(info.file, []);
  const s = stopped(rt);
  await rt.configurationDone();
  const hit = await s;
  assert.deepEqual([hit.reason, hit.description], ['function breakpoint', 'fib(3)']);
  assert.equal(hit.hitBreakpointIds![0], fnStatus[0]!.id);
  await rt.terminate();
});

test('flyte_map items are threads; each stops on its own and continues on its own', async () => {
  const rt = new DebugRuntime();
  await rt.launch({ program: file(), inputs: { n: 0 }, stubs: STUBS, stopOnExternalCall: ['flyte_map', 'fib'] });
  const stops: StoppedInfo[] = [];
  rt.on('stopped', s => stops.push(s));
  const gate = stopped(rt);
  await rt.configurationDone();
  assert.equal((await gate).description, "flyte_map('fib', [1, 2, 3], concurrency=2)");
  await rt.continue(1);
  // Both items in flight stop; wait for the second stop itself rather than for a while.
  await stoppedUntil(rt, () => stops.filter(s => s.threadId !== 1).length === 2);
  const threads = await rt.threads();
  assert.deepEqual(threads.map(t => t.name), ['pipe (sandbox)', 'flyte_map fib [1/3]', 'flyte_map fib [2/3]'], 'concurrency 2: two items in flight');
  const itemStack = await rt.stack(threads[1]!.id);
  assert.equal(itemStack[0]!.name, 'fib(1) · flyte_map item 1/3  [flyte_map item]');
  assert.equal((await rt.evaluate('args[0]', threads[2]!.id)).result, '2');
  await rt.resolveCall(threads[2]!.id, { action: 'return', value: 200 });
  await stoppedUntil(rt, () => stops.some(s => s.description.startsWith('fib(3)')));
  assert.deepEqual((await rt.threads()).map(t => t.name), ['pipe (sandbox)', 'flyte_map fib [1/3]', 'flyte_map fib [3/3]']);
  const ended = once(rt, 'ended');
  rt.on('stopped', s => void rt.continue(s.threadId, true));
  await rt.continue(threads[1]!.id);
  await rt.continue(itemThreadOf(await rt.threads()));
  const [end] = await ended as [EndInfo];
  assert.equal(end.output, 10 + 200 + 30);
});

/** Resolves once `done()` holds, checked now and at every stop (no clock involved). */
function stoppedUntil(rt: DebugRuntime, done: () => boolean): Promise<void> {
  return new Promise(resolve => {
    const check = () => {
      if (!done()) return;
      rt.off('stopped', check);
      resolve();
    };
    rt.on('stopped', check);
    check();
  });
}

function itemThreadOf(threads: { id: number; name: string }[]): number {
  return threads.find(t => t.name.includes('[3/3]'))!.id;
}

test('an external exception stops when `raised` is on; an uncaught failure stops with its traceback', async () => {
  const rt = new DebugRuntime();
  await rt.launch({ program: file(), inputs: { n: 2 }, stubs: { ...STUBS, add: { raise: 'ValueError: no adding' } }, stopOnExternalCall: 'none' });
  await rt.setExceptionFilters([{ filterId: 'uncaught' }, { filterId: 'raised', condition: 'ValueError' }]);
  const raised = stopped(rt);
  await rt.configurationDone();
  const s = await raised;
  assert.deepEqual([s.reason, s.description], ['exception', 'ValueError raised by add(0, 0)']);
  assert.equal((await rt.exceptionInfo(1))!.message, 'no adding');
  const uncaught = stopped(rt);
  await rt.continue(1);
  const u = await uncaught;
  assert.deepEqual([u.reason, u.description], ['exception', 'ValueError: no adding']);
  const frames = await rt.stack(1);
  assert.deepEqual(frames.map(f => [f.name, f.line]), [['pipe', 13], ['<module>', 10]]);
  const info = await rt.exceptionInfo(1);
  assert.match(info!.stackTrace, /line 13, in pipe\n {4}total = add\(total, fib\(i\)\)\nValueError: no adding/);
  const ended = once(rt, 'ended');
  await rt.continue(1);
  assert.equal(((await ended)[0] as EndInfo).error!.type, 'ValueError');
});

test('step back, rewind to a call and give it a different result (what if)', async () => {
  const rt = new DebugRuntime();
  await rt.launch({ program: file(), inputs: { n: 3 }, stubs: STUBS, stopOnExternalCall: ['add'] });
  rt.on('output', () => undefined);
  const go = async (action: () => Promise<void>) => {
    const s = stopped(rt);
    await action();
    return s;
  };
  await go(() => rt.configurationDone());
  await go(() => rt.continue(1));
  const third = await go(() => rt.continue(1));
  assert.equal(third.description, 'add(10, 20)');
  const back = await go(() => rt.stepBack(1));
  assert.deepEqual([back.reason, back.description], ['step', 'fib(2)']);
  const again = await go(() => rt.rewindTo(2));
  assert.deepEqual([again.reason, again.description], ['goto', 'add(0, 0)']);
  assert.equal((await rt.calls()).length, 2);
  const ended = once(rt, 'ended');
  rt.on('stopped', s => void rt.continue(s.threadId));
  await rt.resolveCall(1, { action: 'return', expression: '1000' });
  const [end] = await ended as [EndInfo];
  assert.equal(pyRepr(end.output), String(1000 + 10 + 20 + 10 + 20 + 30), 'what if add(0, 0) had returned 1000');
});

test('stubModule: a JS file answers calls from inside QuickJS, after the JSON stubs', async () => {
  const dir = writeTree({ 'flow.py': FLOW, 'stubs.js': 'export function fib(n) { return n + 1000; }\nexport function add(a, b) { return a - b; }\n' });
  const rt = new DebugRuntime();
  await rt.launch({ program: join(dir, 'flow.py'), inputs: { n: 2 }, stubs: { add: { python: 'args[0] + args[1]' } }, stubModule: join(dir, 'stubs.js'), stopOnExternalCall: 'none' });
  const ended = once(rt, 'ended');
  await rt.configurationDone();
  const [end] = await ended as [EndInfo];
  assert.equal(end.status, 'ok', JSON.stringify(end.error));
  assert.equal(end.output, 1000 + 1001 + 1001 + 1002 + 1003, 'fib from stubs.js, add from the JSON stub (JSON stubs come first)');
  await assert.rejects(new DebugRuntime().launch({ program: join(dir, 'flow.py'), inputs: { n: 1 }, stubModule: join(dir, 'nope.js') }), /^LaunchError: stubModule: no such file/);
});

test('every call knows the line and column that made it: at a stop, and after the run for calls answered by stubs', async () => {
  const rt = new DebugRuntime();
  const source = flow(`
    @env.task
    def fib(n: int) -> int: ...

    @env.sandbox.orchestrator
    def twice(n: int) -> int:
        a = fib(n)
        b = fib(n + 1) + fib(n + 2)
        c = flyte_map("fib", [a, b])
        return a + b + sum(c)
  `);
  await rt.launch({ program: file(source), inputs: { n: 1 }, stubs: { fib: { python: 'args[0] * 10' } }, stopOnExternalCall: 'none' });
  await rt.setFunctionBreakpoints([{ name: 'fib', condition: 'args[0] == 1' }]);
  await rt.follow(true); // as the IO panel does: every call placed before the end
  const first = stopped(rt);
  await rt.configurationDone();
  await first;
  // stopped at fib(1), the only call on its line: the pending call knows its place at once
  const pending = (await rt.calls()).at(-1)!;
  assert.deepEqual([pending.function, pending.args, pending.site?.line, pending.site?.column], ['fib', [1], 8, 9]);
  const ended = once(rt, 'ended');
  await rt.setFunctionBreakpoints([]);
  await rt.continue(1);
  await ended;
  const calls = await rt.calls();
  assert.deepEqual(calls.map(c => `${c.function}@${c.site?.line}:${c.site?.column}`), ['fib@8:9', 'fib@9:9', 'fib@9:22', 'flyte_map@10:9', 'fib@10:9', 'fib@10:9']);
});

test('line breakpoints on a statement that calls nothing: a condition over the frame\'s locals, a hit count, a logpoint with {local}', async () => {
  const rt = new DebugRuntime();
  const info = await rt.launch({ program: file(), inputs: { n: 4 }, stubs: STUBS, stopOnExternalCall: 'none' });
  const logs: string[] = [];
  rt.on('output', o => o.category === 'console' && logs.push(o.text));
  // line 12 is `for i in range(n):`, line 13 `total = add(total, fib(i))`
  const statuses = await rt.setLineBreakpoints(info.file, [{ line: 12, logMessage: 'i is {i}, total {total}' }, { line: 13, condition: 'total >= 10', hitCondition: '2' }]);
  assert.deepEqual(statuses.map(s => s.verified), [true, true]);
  const s = stopped(rt);
  await rt.configurationDone();
  const hit = await s;
  assert.equal(hit.reason, 'breakpoint');
  const locals = await rt.frameLocals((await rt.stack(1))[0]!.id);
  // total: 0, 0+0, 0+10, 10+20: the condition holds from i=2 on, and its second hit is i=3
  assert.deepEqual(Object.fromEntries(locals!.locals), { n: 4, total: 30, i: 3 });
  assert.deepEqual(logs.filter(l => l.startsWith('i is')), ['i is 0, total 0\n', 'i is 1, total 0\n', 'i is 2, total 10\n', 'i is 3, total 30\n']);
  await rt.terminate();
});

test('a runtime taking over from a killed one replays its calls and pauses inside the loop the sandbox was spinning in', async () => {
  const source = flow(`
    @env.task
    def fib(n: int) -> int: ...

    @env.sandbox.orchestrator
    def spin(n: int) -> int:
        a = fib(n)
        k = 0
        while a > 0:
            k += 1
        return k
  `);
  const program = file(source);
  // the first runtime: its sandbox spins after one call (here Monty's own limit ends it; in a session the child is killed)
  const first = new DebugRuntime();
  await first.launch({ program, inputs: { n: 2 }, stubs: { fib: { value: 5 } }, stopOnExternalCall: 'none', limits: { maxDurationSecs: 0.3 } });
  await first.setExceptionFilters([]);
  const ended = once(first, 'ended');
  await first.configurationDone();
  await ended;
  const records = (await first.calls()).filter(r => r.status === 'returned');
  assert.deepEqual(records.map(r => [r.function, r.result]), [['fib', 5]]);
  // the one that takes over: same launch, then the recorded calls
  const second = new DebugRuntime();
  await second.launch({ program, inputs: { n: 2 }, stubs: { fib: { value: 5 } }, stopOnExternalCall: 'none' });
  const paused = stopped(second);
  await second.resumeSpinning(records, '', 12);
  const s = await paused;
  assert.equal(s.reason, 'pause');
  assert.match(s.description, /^paused: the sandbox had been running Python code for 12 s without an external call; replayed to the loop it was in, stopped at its first repeat \(the iteration it had reached is not known\) · line \d+: (while a > 0:|k \+= 1)$/);
  const locals = await second.frameLocals((await second.stack(1))[0]!.id);
  assert.equal(locals!.locals.get('a'), 5);
  assert.ok((locals!.locals.get('k') as number) >= 0);
  assert.deepEqual((await second.calls()).map(r => r.function), ['fib'], 'the recorded call was replayed, not made again');
  await second.terminate();
});
