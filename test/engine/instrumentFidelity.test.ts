/**
 * The differential fidelity test: every bundled example and every task of
 * the corpus runs plainly and through the instrumented copy of its code
 * (the gate closed; the gate open with locals read at every statement), and
 * the whole traces must be equal: output, every call with its arguments and
 * result in order, prints, the failure's type and message.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { instrument } from '../../engine/instrument/instrument.ts';
import { NEVER, readLocals, type ProbeHit } from '../../engine/instrument/probes.ts';
import { loadProgram, parseStubs, SandboxRun, StubResolver, type Resolver, type RunResult, type SandboxTask } from '../../engine/index.ts';
import { parseJson } from '../../engine/values/json.ts';
import { toWire } from '../../engine/values/wire.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** Answers every call with its first argument (or 1): enough to drive the corpus. */
const echo: Resolver = {
  source: 'stub',
  resolve: call => ({ kind: 'return', value: call.args.length ? call.args[0] : 1, source: 'stub' }),
};

function trace(r: RunResult): unknown {
  return {
    status: r.status,
    output: toWire(r.output),
    error: r.error ? `${r.error.type}: ${r.error.message}` : null,
    stdout: r.stdout,
    calls: r.calls.map(c => ({ seq: c.seq, fn: c.function, args: toWire(c.args), kwargs: toWire(c.kwargs), status: c.status, result: toWire(c.result), error: c.error ? `${c.error.type}: ${c.error.message}` : null, map: [c.mapParent ?? null, c.mapIndex ?? null] })),
  };
}

interface Case {
  label: string;
  task: SandboxTask;
  inputs: unknown;
  resolvers: Resolver[];
}

async function cases(): Promise<Case[]> {
  const out: Case[] = [];
  for (const dir of readdirSync(join(ROOT, 'examples'))) {
    const folder = join(ROOT, 'examples', dir);
    for (const f of readdirSync(folder).filter(n => n.endsWith('.py'))) {
      const program = await loadProgram(join(folder, f));
      const inputs = parseJson(readFileSync(join(folder, 'inputs.json'), 'utf8'));
      const stubsFile = join(folder, 'stubs.json');
      const stubs = existsSync(stubsFile) ? new StubResolver(parseStubs(JSON.parse(readFileSync(stubsFile, 'utf8')), 'stubs.json')) : echo;
      for (const task of program.tasks) out.push({ label: `examples/${dir}/${f} ${task.name}`, task, inputs, resolvers: [stubs] });
    }
  }
  const corpus = await loadProgram(join(ROOT, 'test', 'fixtures', 'instrument', 'corpus.py'));
  const inputsFor = (t: SandboxTask): Record<string, unknown> => Object.fromEntries(t.inputs.map(i => [i.name, i.annotation === 'bool' ? true : 4]));
  for (const task of corpus.tasks) out.push({ label: `corpus ${task.name}`, task, inputs: inputsFor(task), resolvers: [echo] });
  const unbound = corpus.findTask('unbound');
  out.push({ label: 'corpus unbound (flag false)', task: unbound, inputs: { flag: false }, resolvers: [echo] });
  // flyte-sdk's own sandbox examples, as fixtures of their shape (test/fixtures/sdk): their workers stubbed as they compute
  const workers = new StubResolver(parseStubs({
    lookup: { python: '{1: 42, 2: 87, 3: 15}.get(args[0], 0)' }, plus: { python: 'args[0] + args[1]' }, times: { python: 'args[0] * args[1]' },
    square: { python: 'args[0] * args[0]' }, power: { python: 'args[0] ** args[1]' },
  }, 'sdk workers'));
  const guess = (annotation: string | undefined): unknown => {
    const a = (annotation ?? '').replace(/\s/g, '');
    if (/^(list|List)/.test(a)) return [1, 2, 3];
    if (/^(dict|Dict)/.test(a)) return new Map([['a', 1]]);
    if (a === 'str') return 'x';
    if (a === 'float') return 1.5;
    if (a === 'bool') return true;
    return 3;
  };
  for (const f of readdirSync(join(ROOT, 'test', 'fixtures', 'sdk')).filter(n => n.endsWith('.py'))) {
    const program = await loadProgram(join(ROOT, 'test', 'fixtures', 'sdk', f));
    for (const task of program.tasks) {
      if (task.definitionErrors.length) continue;
      out.push({ label: `sdk/${f} ${task.name}`, task, inputs: Object.fromEntries(task.inputs.map(i => [i.name, guess(i.annotation)])), resolvers: [workers, echo] });
    }
  }
  const flow = await loadProgram(join(ROOT, 'test', 'fixtures', 'dap', 'flow.py'));
  const flowStubs = new StubResolver(parseStubs({ load: { python: "{'__flyte_io_type__': 'File', 'path': args[0]}" }, fib: { python: 'args[0] * 10' }, size: { python: "len(args[0]['path'])" } }, 'flow stubs'));
  for (const task of flow.tasks) out.push({ label: `dap/flow.py ${task.name}`, task, inputs: { n: 5, path: 's3://bucket/data.csv' }, resolvers: [flowStubs] });
  return out;
}

const all = await cases();

test('the corpus covers the statements instrumentation rewrites', () => {
  assert.ok(all.length >= 20, `${all.length} cases`);
});

for (const c of all) {
  test(`instrumented runs trace exactly as the plain run: ${c.label}`, async () => {
    const plain = await new SandboxRun(c.task, { inputs: c.inputs, resolvers: c.resolvers }).execute();
    const code = await instrument(c.task);
    const silent = await new SandboxRun(c.task, { inputs: c.inputs, resolvers: c.resolvers, instrumentation: { code, gate: NEVER, probe: () => null } }).execute();
    assert.deepEqual(trace(silent), trace(plain), 'gate closed');

    let hits = 0;
    let reads = 0;
    const run: SandboxRun = new SandboxRun(c.task, {
      inputs: c.inputs,
      resolvers: c.resolvers,
      instrumentation: {
        code,
        gate: 0,
        probe: (hit: ProbeHit) => {
          hits++;
          // Reading locals unwinds every frame: enough of them to cover each statement kind, not a deep recursion's each level.
          if (hits > 300) return null;
          const snap = run.pausedSnapshot;
          assert.ok(snap, 'paused at the probe');
          const locals = readLocals(snap);
          reads += locals.reports.length;
          assert.ok(locals.reports.some(r => r.frame === hit.frame), `the probed frame ${hit.frame} reports its locals`);
          return null;
        },
      },
    });
    const open = await run.execute();
    assert.deepEqual(trace(open), trace(plain), 'gate open, locals read at every statement');
    if (process.env.SHOW_TRACES) console.log(c.label, plain.status, plain.error ? `${plain.error.type}: ${plain.error.message}` : toWire(plain.output), plain.calls.length, 'calls', hits, 'probes');
    // (a run that cannot start, like production's inputs={} on a task without inputs, has no statement to probe)
    if (c.task.code.trim() !== 'None' && (plain.status === 'ok' || plain.calls.length)) assert.ok(hits > 0 && reads >= hits, `probes hit (${hits}) and frames reported (${reads})`);
  });
}
