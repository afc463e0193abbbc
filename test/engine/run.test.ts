import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IoHandle, parseStubs, resolveLimits, SandboxRun, StubResolver, type CallOutcome, type ExternalCall, type Resolver } from '../../engine/index.ts';
import { profileById } from '../../engine/profiles.ts';
import { flow, program, runTask } from '../helpers.ts';

const FIB = flow(`
  @env.task
  def fib(n: int) -> int: ...

  def helper(x):
      return x

  @env.sandbox.orchestrator
  def pipe(n: int) -> str:
      try:
          v = fib(n)
      except Exception as e:
          return "caught " + type(e).__name__ + ": " + str(e)
      return "got " + str(v)
`);

/** A resolver answering after `delayMs`, recording how many calls overlap. */
function slowResolver(delayMs: (call: ExternalCall) => number, answer: (call: ExternalCall) => CallOutcome): Resolver & { maxInFlight: number; order: number[] } {
  let inFlight = 0;
  const r = {
    source: 'interactive' as const,
    maxInFlight: 0,
    order: [] as number[],
    resolve(call: ExternalCall): Promise<CallOutcome> {
      inFlight++;
      r.maxInFlight = Math.max(r.maxInFlight, inFlight);
      return new Promise(res => setTimeout(() => {
        inFlight--;
        r.order.push(call.seq);
        res(answer(call));
      }, delayMs(call)));
    },
  };
  return r;
}

test('stubs: value, python expression over args/kwargs, raise', async () => {
  const src = flow(`
    @env.task
    def add(a: int, b: int, scale: int = 1) -> int: ...
    @env.task
    def const() -> int: ...
    @env.sandbox.orchestrator
    def t(n: int) -> int:
        return add(n, const(), scale=10)
  `);
  const r = await runTask(src, { const: { value: 5 }, add: { python: '(args[0] + args[1]) * kwargs["scale"]' } }, { inputs: { n: 2 } });
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.equal(r.output, 70);
  assert.deepEqual(r.calls.map(c => [c.function, c.args, c.kwargs, c.result]), [['const', [], {}, 5], ['add', [2, 5], { scale: 10 }, 70]]);
});

test('an exception from an external call ends the run: the sandbox try/except never sees it (Flyte semantics)', async () => {
  const r = await runTask(FIB, { fib: { raise: 'ValueError: bad input' } }, { inputs: { n: 3 } });
  assert.equal(r.status, 'error');
  assert.equal(r.error!.type, 'ValueError');
  assert.equal(r.error!.message, 'bad input');
  assert.equal(r.error!.origin, 'external');
  assert.match(r.error!.hint!, /raiseInSandbox/);
  const site = r.error!.frames.at(-1)!;
  assert.equal(site.line, 12, 'the call site, even though the call is inside try:');
  assert.equal(site.sourceLine, 'v = fib(n)');
  assert.equal(r.calls[0]!.status, 'raised');
});

test('raiseInSandbox raises at the call site instead (opt-in, beyond production); unknown exception types are carried as Exception', async () => {
  const r = await runTask(FIB, { fib: { raise: 'ValueError: bad input' } }, { inputs: { n: 3 }, raiseInSandbox: true });
  assert.equal(r.output, 'caught ValueError: bad input');
  const custom = await runTask(FIB, { fib: { raise: 'TaskFailedError: quota' } }, { inputs: { n: 3 }, raiseInSandbox: true });
  assert.equal(custom.output, 'caught Exception: TaskFailedError: quota');
});

test('a call to an unregistered name is refused exactly like Flyte, nothing is dispatched, and the hint says why', async () => {
  const src = flow(`
    @env.task
    def fib(n: int) -> int: ...

    def helper(x):
        return x

    @env.sandbox.orchestrator
    def t(n: int) -> int:
        def inner(k):
            return fib(k)
        return fib(n) + helper(n) + inner(n)

    @env.sandbox.orchestrator
    def u(n: int) -> int:
        def inner(k):
            return fib(k)
        return inner(n)
  `);
  let r = await runTask(src, { fib: { value: 1 }, helper: { value: 1 } }, { task: 't', inputs: { n: 1 } });
  assert.equal(r.error!.type, 'RuntimeError');
  assert.equal(r.error!.message, 'Sandboxed task called unknown external function: helper');
  assert.equal(r.error!.origin, 'refused');
  assert.match(r.error!.hint!, /helper is a plain function .*flow\.py:6/);
  assert.deepEqual(r.calls.map(c => c.function), ['fib'], 'the refused call is not dispatched');
  // u registers nothing (fib is used only inside inner): Flyte takes the fast path, Monty.run() without the bridge.
  r = await runTask(src, { fib: { value: 1 } }, { task: 'u', inputs: { n: 1 } });
  assert.equal(r.error!.type, 'NameError');
  assert.equal(r.error!.message, "name 'fib' is not defined");
  assert.equal(r.error!.origin, 'sandbox');
  assert.match(r.error!.hint!, /Flyte discovered no externals for u, so it runs the code with Monty\.run\(\).*fib is a Flyte task .* used only inside nested function 'inner' \(line 18\).*Production fails the same way/);
  assert.equal(r.error!.frames.at(-1)!.line, 18);
  assert.deepEqual(r.calls, []);
  r = await runTask(src, { fib: { value: 1 } }, { task: 'u', inputs: { n: 1 }, externals: ['fib'] });
  assert.equal(r.status, 'ok', 'externals registers extra names');
});

test('reading an undefined name is a NameError (Monty receives only the task source)', async () => {
  const r = await runTask(flow(`
    LIMIT = 3
    @env.sandbox.orchestrator
    def t(n: int) -> int:
        return n + LIMIT
  `), {}, { inputs: { n: 1 } });
  assert.equal(r.error!.type, 'NameError');
  assert.equal(r.error!.origin, 'sandbox');
  assert.equal(r.error!.frames.at(-1)!.line, 6);
});

test('limits end a runaway sandbox with the limit and the line; time paused at a call does not count', async () => {
  const loop = flow(`
    @env.sandbox.orchestrator
    def spin(n: int) -> int:
        x = 0
        while True:
            x += 1
        return x
  `);
  const t0 = Date.now();
  let r = await runTask(loop, {}, { inputs: { n: 1 }, limits: resolveLimits({ maxDurationSecs: 0.3 }) });
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(r.error!.type, 'TimeoutError');
  assert.equal(r.error!.origin, 'limit');
  assert.match(r.error!.hint!, /0\.3 s/);
  assert.ok([6, 7].includes(r.error!.frames.at(-1)!.line), `loop line, got ${r.error!.frames.at(-1)!.line}`);

  r = await runTask(flow(`
    @env.sandbox.orchestrator
    def bomb(n: int) -> int:
        x = [0] * (10 ** 9)
        return len(x)
  `), {}, { inputs: { n: 1 }, limits: resolveLimits({ maxMemory: 10_000_000 }) });
  assert.equal(r.error!.type, 'MemoryError');
  assert.equal(r.error!.frames.at(-1)!.line, 5);

  r = await runTask(flow(`
    @env.sandbox.orchestrator
    def deep(n: int) -> int:
        def down(k):
            return down(k + 1)
        return down(n)
  `), {}, { inputs: { n: 1 }, limits: resolveLimits({ maxRecursionDepth: 50 }) });
  assert.equal(r.error!.type, 'RecursionError');
  assert.equal(r.error!.frames.at(-1)!.line, 6);

  const slow = slowResolver(() => 250, () => ({ kind: 'return', value: 1, source: 'interactive' }));
  const p = await program(flow(`
    @env.task
    def fib(n: int) -> int: ...
    @env.sandbox.orchestrator
    def t(n: int) -> int:
        return fib(1) + fib(2) + fib(3)
  `));
  const ok = await new SandboxRun(p.findTask(), { inputs: { n: 1 }, resolvers: [slow], limits: resolveLimits({ maxDurationSecs: 0.2 }) }).execute();
  assert.equal(ok.status, 'ok', JSON.stringify(ok.error));
  assert.equal(ok.output, 3);
});

test('await on an external call fails as in flyte-sdk 2.6; the pooled profile awaits it, positions unchanged', async () => {
  const src = flow(`
    @env.task
    async def fib(n: int) -> int: ...

    @env.sandbox.orchestrator
    async def t(n: int) -> int:
        a = await fib(n)
        b = await (fib(n + 1))
        return a + b + 1 / (n - n)
  `);
  let r = await runTask(src, { fib: { python: 'args[0] * 10' } }, { inputs: { n: 2 } });
  assert.deepEqual([r.error!.type, r.error!.message, r.error!.frames.at(-1)!.line], ['TypeError', "'int' object can't be awaited", 8]);
  const p = await program(src, { profile: profileById('pooled')! });
  r = await new SandboxRun(p.findTask(), { inputs: { n: 2 }, resolvers: [new StubResolver(parseStubs({ fib: { python: 'args[0] * 10' } }, 'stubs'))] }).execute();
  assert.deepEqual(r.calls.map(c => c.result), [20, 30]);
  assert.equal(r.error!.type, 'ZeroDivisionError');
  const f = r.error!.frames.at(-1)!;
  assert.equal(f.line, 10);
  assert.equal(f.column, 20);
  assert.equal(f.function, 't');
});

test('frames map to the user file for a task defined deep and indented in a file', async () => {
  const filler = Array.from({ length: 40 }, (_, i) => `X${i} = ${i}`).join('\n');
  const r = await runTask(flow(`
    ${filler.split('\n').join('\n    ')}
    if True:
        @env.sandbox.orchestrator(
            timeout_ms=1000,
        )
        def deep(n: int) -> int:
            def helper(k):
                return 10 // k
            return helper(n)
  `), {}, { inputs: { n: 0 } });
  assert.equal(r.error!.type, 'ZeroDivisionError');
  assert.deepEqual(r.error!.frames.map(f => [f.function, f.line, f.column]), [['<module>', 47, 9], ['deep', 50, 16], ['helper', 49, 20]]);
  assert.equal(r.error!.frames.at(-1)!.sourceLine, 'return 10 // k');
});

test('print output is captured in order with the calls', async () => {
  const p = await program(flow(`
    @env.task
    def fib(n: int) -> int: ...
    @env.sandbox.orchestrator
    def t(n: int) -> int:
        print("before", n)
        v = fib(n)
        print("after", v)
        return v
  `));
  const run = new SandboxRun(p.findTask(), { inputs: { n: 4 }, resolvers: [new StubResolver(parseStubs({ fib: { value: 3 } }, 't'))] });
  const events: string[] = [];
  run.on('output', t => events.push(`out:${t}`));
  run.on('result', c => events.push(`call:${c.function}`));
  const r = await run.execute();
  assert.equal(r.stdout, 'before 4\nafter 3\n');
  assert.equal(r.stdout.slice(0, r.calls[0]!.stdoutOffset), 'before 4\n', 'each call knows how much had been printed before it');
  assert.deepEqual(events.join('').replace(/out:/g, ''), 'before 4\ncall:fibafter 3\n');
});

test('a call nobody answers ends the run saying what it needs', async () => {
  const r = await runTask(FIB, {}, { inputs: { n: 1 } });
  assert.equal(r.error!.type, 'NoResultError');
  assert.equal(r.error!.origin, 'unresolved');
  assert.match(r.error!.hint!, /\{"fib": \{"value": \.\.\.\}\}/);
  assert.equal(r.error!.frames.at(-1)!.line, 12);
});

test('IO handles: validated on the way out, dumped with defaults on the way in, malformed ones fail like Flyte', async () => {
  const src = flow(`
    @env.task
    def load(f: dict) -> dict: ...
    @env.sandbox.orchestrator
    def t(path: str) -> tuple:
        f = {"__flyte_io_type__": "File", "path": path}
        got = load([(f, {"d": {"__flyte_io_type__": "DataFrame", "uri": "s3://b/df"}})])
        return (got, got["name"])
  `);
  let r = await runTask(src, { load: { value: { __flyte_io_type__: 'Dir', path: 's3://b/out/' } } }, { inputs: { path: 's3://b/in.csv' } });
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  const out = r.output as unknown[];
  assert.deepEqual([...(out[0] as Map<string, unknown>).entries()], [['__flyte_io_type__', 'Dir'], ['path', 's3://b/out/'], ['name', 'out'], ['format', ''], ['hash', null]]);
  assert.equal(out[1], 'out');
  const host = r.calls[0]!.unmarshaled().args[0] as unknown[];
  assert.equal(((host[0] as unknown[])[0] as IoHandle).fields.name, 'in.csv', 'the trace gives the arguments as Flyte unmarshals them');
  r = await runTask(src, { load: { value: { __flyte_io_type__: 'File', name: 'x' } } }, { inputs: { path: 's3://b/in.csv' } });
  assert.equal(r.error!.type, 'ValidationError');
  assert.equal(r.error!.origin, 'marshal');
  assert.match(r.error!.message, /1 validation error for File\npath\n {2}Field required/);
  r = await runTask(src.replace('"path": path', '"name": path'), { load: { value: 1 } }, { inputs: { path: 's3://b/in.csv' } });
  assert.equal(r.error!.type, 'ValidationError');
  assert.match(r.error!.hint!, /load\(\) was called with a malformed File at args\[0\]\[0\]\[0\]/);
  assert.equal(r.calls.length, 0, 'nothing dispatched');
});

test('bad inputs are usage errors naming the input', async () => {
  const p = await program(FIB);
  const task = p.findTask();
  await assert.rejects(new SandboxRun(task, { inputs: { m: 1 } }).execute(), /unknown input 'm': pipe\(n: int\) takes 'n'/);
  await assert.rejects(new SandboxRun(task, { inputs: {} }).execute(), /missing input 'n' for pipe\(n: int\)/);
});

test('syntax errors and unsupported syntax point at the file line', async () => {
  let r = await runTask(flow(`
    @env.sandbox.orchestrator
    def t(n: int) -> int:
        x = (1 +
        return x
  `), {}, { inputs: { n: 1 } });
  assert.equal(r.error!.type, 'SyntaxError');
  assert.equal(r.error!.origin, 'syntax');
  assert.ok([5, 6].includes(r.error!.frames[0]!.line), `line ${r.error!.frames[0]!.line}`);
  r = await runTask(flow(`
    @env.sandbox.orchestrator
    def t(n: int) -> int:
        class A:
            pass
        return n
  `), {}, { inputs: { n: 1 } });
  assert.equal(r.error!.type, 'NotImplementedError');
  assert.equal(r.error!.frames.at(-1)!.line, 5);
});

test('stop() ends a run waiting on a call', async () => {
  const p = await program(FIB);
  const never: Resolver = { source: 'interactive', resolve: () => new Promise(() => undefined) };
  const run = new SandboxRun(p.findTask(), { inputs: { n: 1 }, resolvers: [never] });
  const pending = run.execute();
  setTimeout(() => run.stop(), 20);
  const r = await pending;
  assert.equal(r.error!.origin, 'stopped');
  assert.equal(r.calls[0]!.status, 'cancelled');
});

test('a Python stub that raises ends the run with that exception', async () => {
  const r = await runTask(FIB, { fib: { python: 'int("x")' } }, { inputs: { n: 1 } });
  assert.equal(r.error!.type, 'ValueError');
  assert.match(r.error!.message, /invalid literal for int\(\)/);
  assert.match(r.error!.traceback!, /stub expression/);
});

test('columns: Monty counts code points, the file position counts UTF-16 units as editors do', async () => {
  const r = await runTask(flow(`
    @env.sandbox.orchestrator
    def t(n: int) -> int:
        s = "é😀"; return 1 // (n - n)
  `), {}, { inputs: { n: 1 } });
  const f = r.error!.frames.at(-1)!;
  assert.equal(f.line, 5);
  assert.equal(f.column, '    s = "é😀"; return 1 // (n - n)'.indexOf('1 //') + 1);
});

test('history: a run fast-forwards through recorded results to call #k and goes on live from there', async () => {
  const p = await program(flow(`
    @env.task
    def fib(n: int) -> int: ...
    @env.sandbox.orchestrator
    def t(n: int) -> list:
        out = []
        for i in range(n):
            print("step", i)
            out.append(fib(i))
        return out
  `));
  const task = p.findTask();
  const stubs = new StubResolver(parseStubs({ fib: { python: 'args[0] * 10' } }, 's'));
  const first = await new SandboxRun(task, { inputs: { n: 5 }, resolvers: [stubs] }).execute();
  assert.deepEqual(first.output, [0, 10, 20, 30, 40]);
  const asked: number[] = [];
  const live: Resolver = { source: 'interactive', resolve: c => (asked.push(c.seq), { kind: 'return', value: -c.seq, source: 'interactive' }) };
  const again = new SandboxRun(task, { inputs: { n: 5 }, resolvers: [live], history: { records: first.calls, stdout: first.stdout, until: 4 } });
  const events: string[] = [];
  again.on('output', t => events.push(t));
  const r = await again.execute();
  assert.deepEqual(r.output, [0, 10, 20, -4, -5], 'calls 1-3 replayed, 4 and 5 live');
  assert.deepEqual(asked, [4, 5]);
  assert.equal(r.stdout, 'step 0\nstep 1\nstep 2\nstep 3\nstep 4\n');
  assert.equal(events.join(''), 'step 4\n', 'what was printed before call #4 is history: not printed again');
  assert.deepEqual(r.calls.map(c => c.source), ['stub', 'stub', 'stub', 'interactive', 'interactive']);
});

test('mapGate sees each flyte_map call before its items and may answer it whole', async () => {
  const p = await program(flow(`
    @env.task
    def sq(x: int) -> int: ...
    @env.sandbox.orchestrator
    def t(xs: list) -> list:
        if not xs:
            sq(0)
        return flyte_map("sq", xs) + flyte_map("sq", xs)
  `));
  let gated = 0;
  const gate: Resolver = { source: 'interactive', resolve: () => (++gated === 1 ? Promise.resolve({ kind: 'return', value: ['whole'], source: 'interactive' }) : undefined) };
  const r = await new SandboxRun(p.findTask(), { inputs: { xs: [2, 3] }, mapGate: gate, resolvers: [new StubResolver(parseStubs({ sq: { python: 'args[0] ** 2' } }, 's'))] }).execute();
  assert.deepEqual(r.output, ['whole', 4, 9]);
  assert.deepEqual(r.calls.map(c => [c.seq, c.function, c.source]), [[1, 'flyte_map', 'interactive'], [2, 'flyte_map', 'flyte_map'], [3, 'sq', 'stub'], [4, 'sq', 'stub']]);
});
