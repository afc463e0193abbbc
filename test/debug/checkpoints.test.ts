/**
 * Going back starts from copies of the run taken along the way
 * (engine/debug/checkpoints.ts), not from the beginning. What a user sees
 * must be exactly what a replay from the start shows: the same position,
 * the same locals, every print once, and a changed past (a what-if) never
 * resumed from a copy of the old one.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { Checkpoints } from '../../engine/debug/checkpoints.ts';
import { DebugRuntime } from '../../engine/debug/runtime.ts';
import type { EndInfo, StoppedInfo } from '../../engine/debug/api.ts';
import type { ProbeHit } from '../../engine/instrument/probes.ts';
import { flow, writeTree } from '../helpers.ts';

const hit = (count: number, callsBefore: number): ProbeHit => ({ site: 1, count, frame: 1, depth: 1, callsBefore, stdoutLength: 0, replaying: false });

test('copies: taken no more often than the interval, thinned past the budget, chosen by position, calls, code and set locals', () => {
  const cps = new Checkpoints({ copies: 4, bytes: 1 << 20 });
  let dumps = 0;
  const dump = () => (dumps++, new Uint8Array(10));
  cps.offer(hit(100, 10), dump, 'A', [], 0);
  cps.offer(hit(200, 20), dump, 'A', [], 5);
  assert.equal(dumps, 1, 'a second copy within the interval is not taken');
  for (let i = 1; i <= 5; i++) cps.offer(hit(100 + i * 100, 10 + i * 10), dump, 'A', [], i * 1000);
  assert.ok(cps.size <= 4, `thinned to the budget (${cps.size})`);
  const newest = cps.best('A', Infinity, Infinity, []);
  assert.equal(newest?.count, 600, 'the newest copy stays');
  assert.equal(cps.best('A', 600, Infinity, [])!.count < 600, true, 'strictly before the statement asked for');
  assert.equal(cps.best('B', Infinity, Infinity, []), undefined, 'another instrumented code has no copies');
  assert.equal(cps.best('A', Infinity, 5, []), undefined, 'none after at most 5 calls');
  const set = { count: 150 };
  assert.ok(cps.best('A', Infinity, Infinity, [set])!.count < 150, 'a copy after a local set later than it was taken is of another run');
  cps.dropFromCall(30);
  assert.ok((cps.best('A', Infinity, Infinity, [])?.callsBefore ?? 0) < 30, 'copies after a changed call are gone');
});

const LOOP = flow(`
  @env.task
  def ident(x: int) -> int: ...

  @env.sandbox.orchestrator
  def loop(n: int) -> int:
      total = 0
      for i in range(n):
          total += ident(i)
          if i % 1000 == 0:
              print("at", i, total)
      return total
`);

async function stopped(rt: DebugRuntime): Promise<StoppedInfo> {
  const [s] = await once(rt, 'stopped') as [StoppedInfo];
  return s;
}

async function locals(rt: DebugRuntime): Promise<Record<string, unknown>> {
  const l = await rt.frameLocals((await rt.stack(1)).find(f => f.name === 'loop')!.id);
  return Object.fromEntries(l!.locals);
}

test('next, step back and rewinds after thousands of calls start from copies and show what a replay from the start shows', async () => {
  const program = join(writeTree({ 'flow.py': LOOP }), 'flow.py');
  const rt = new DebugRuntime();
  let out = '';
  rt.on('output', o => { if (o.category === 'stdout') out += o.text; });
  await rt.launch({ program, inputs: { n: 8000 }, stubs: { ident: { python: 'args[0] * 2' } }, stopOnExternalCall: 'none' });
  await rt.setFunctionBreakpoints([{ name: 'ident', condition: 'args[0] == 6000' }]);
  await rt.setExceptionFilters([]);
  let s = stopped(rt);
  await rt.configurationDone();
  assert.equal((await s).description, 'ident(6000)');
  const sum = (k: number) => k * (k - 1); // ident(i) = 2i summed over i < k
  assert.ok((rt as unknown as { checkpoints: Checkpoints }).checkpoints.size > 0, 'the run left copies behind');

  // next: over the call to the if below it, total now holds ident(6000)
  s = stopped(rt);
  await rt.next(1);
  assert.equal((await s).description, 'line 11: if i % 1000 == 0:');
  assert.deepEqual(await locals(rt), { n: 8000, total: sum(6001), i: 6000 });
  // step back by line: to the call's line, before its result
  s = stopped(rt);
  await rt.stepBack(1);
  assert.equal((await s).description, 'line 10: total += ident(i)');
  assert.deepEqual(await locals(rt), { n: 8000, total: sum(6000), i: 6000 });
  assert.equal(out, [0, 1000, 2000, 3000, 4000, 5000].map(i => `at ${i} ${sum(i + 1)}\n`).join(''), 'every print once, none again from the replays');

  // a what-if far back: call #3000 answers 0; later copies are of the old run and must not be used
  s = stopped(rt);
  await rt.rewindTo(3001);
  assert.equal((await s).description, 'ident(3000)');
  s = stopped(rt);
  await rt.resolveCall(1, { action: 'return', value: 0 });
  await rt.setFunctionBreakpoints([{ name: 'ident', condition: 'args[0] == 5000' }]);
  await rt.continue(1);
  assert.equal((await s).description, 'ident(5000)');
  const whatIf = sum(5000) - 6000;
  s = stopped(rt);
  await rt.next(1);
  await s;
  assert.deepEqual(await locals(rt), { n: 8000, total: whatIf + 10_000, i: 5000 });
  s = stopped(rt);
  await rt.stepBack(1);
  await s;
  assert.deepEqual(await locals(rt), { n: 8000, total: whatIf, i: 5000 }, 'the step back replays the what-if, not the old run');
  await rt.setFunctionBreakpoints([]);
  const ended = once(rt, 'ended');
  await rt.continue(1);
  const [end] = await ended as [EndInfo];
  assert.equal(end.output, sum(8000) - 6000);
  await rt.terminate();
});
