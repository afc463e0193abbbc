/**
 * 1,000 launch/disconnect cycles against one adapter (--server): after each
 * one no process of the session is left, and the adapter's memory does not
 * grow with the count (issue 11).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { assertNoLeftovers, leftovers } from '../leftovers.ts';
import { ADAPTER, FIXTURE, RawDap, STUBS } from '../robust/rawDap.ts';

const CYCLES = Number(process.env.STRESS_CYCLES ?? 1000);

after(async () => assertNoLeftovers('the launch/disconnect cycles'));

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

test(`${CYCLES} launch/disconnect cycles: process count back to one after each, adapter memory flat`, { timeout: 3_600_000 }, async () => {
  const server = spawn(process.execPath, ['--expose-gc', ADAPTER, '--server=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    server.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    server.once('exit', code => reject(new Error(`adapter exited ${code}: ${stderr}`)));
  });
  const samples: number[] = [];
  try {
    for (let i = 0; i < CYCLES; i++) {
      const c = await RawDap.connect(port);
      const r = await c.launch({ type: 'flyte-sandbox', request: 'launch', program: FIXTURE, inputs: { n: 2, path: 'p' }, stubs: STUBS, stopOnExternalCall: i % 2 ? 'all' : 'none' });
      assert.equal(r.success, true, r.message);
      if (i % 2) await c.event('stopped');
      else await c.event('terminated');
      await c.request('disconnect', {});
      await c.close();
      while (leftovers().filter(p => p.pid !== server.pid).length) await new Promise(res => setTimeout(res, 20));
      if (i % 50 === 0 || i === CYCLES - 1) samples.push(rssMiB(server.pid!));
    }
    const early = Math.max(...samples.slice(1, 4));
    const late = Math.max(...samples.slice(-3));
    process.stdout.write(`adapter RSS over ${CYCLES} cycles (MiB, every 50): ${samples.map(x => x.toFixed(0)).join(' ')}\n`);
    assert.ok(late < early + 40, `the adapter grew from ${early.toFixed(0)} to ${late.toFixed(0)} MiB`);
    assert.equal(server.exitCode, null);
  } finally {
    server.kill('SIGTERM');
    await new Promise(r => server.once('exit', r));
  }
});
