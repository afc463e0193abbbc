/** Shared test helpers: Python sources written to a temp folder and loaded the way a user's file is. */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadProgram, parseStubs, SandboxRun, StubResolver, type Program, type ProgramOptions, type Resolver, type RunOptions, type RunResult } from '../engine/index.ts';

/** Write `files` (path → text) into a fresh folder; returns the folder. */
export function writeTree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'flyte-sandbox-test-'));
  for (const [rel, text] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return dir;
}

export function dedent(s: string): string {
  const lines = s.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter(l => l.trim()).map(l => /^ */.exec(l)![0].length));
  return lines.map(l => l.slice(indent)).join('\n');
}

export async function program(source: string, options: ProgramOptions & { files?: Record<string, string>; name?: string } = {}): Promise<Program> {
  const name = options.name ?? 'flow.py';
  const dir = writeTree({ [name]: dedent(source), ...(options.files ?? {}) });
  return loadProgram(join(dir, name), options);
}

const HEADER = 'import flyte\nenv = flyte.TaskEnvironment(name="env")\n';

/** A module with \`flyte\` imported and an environment named "env", then \`body\` (dedented). */
export function flow(body: string): string {
  return HEADER + dedent(body);
}

export async function runTask(source: string, stubs: Record<string, unknown> = {}, options: RunOptions & { task?: string; resolvers?: Resolver[] } = {}): Promise<RunResult> {
  const p = await program(source);
  const task = p.findTask(options.task);
  const resolvers = [...(options.resolvers ?? []), new StubResolver(parseStubs(stubs, 'test stubs'))];
  return new SandboxRun(task, { ...options, resolvers }).execute();
}
