/**
 * The inputs a run starts with, as `flyte.run` builds them: checked against
 * the task's signature, declared defaults filled in, float-typed values
 * checked the way Flyte's type engine would (the run's code converts them),
 * and IO handles marshaled like the bridge does, except on the no-externals
 * fast path, where Flyte hands inputs to Monty as they are.
 */
import { UsageError } from '../errors.ts';
import { floatProblem } from '../extract/floatInputs.ts';
import type { SandboxTask } from '../extract/tasks.ts';
import { hostResultToMonty, IoValidationError } from '../marshal.ts';
import { dictEntries, isDict } from '../values/python.ts';

export interface BuildInputsOptions {
  /** `_to_monty` the values (the bridge path); false on the fast path. Default true. */
  marshal?: boolean;
}

function signatureOf(task: SandboxTask): string {
  return `${task.name}(${task.inputs.map(i => `${i.annotation ? `${i.name}: ${i.annotation}` : i.name}${i.default ? ` = ${i.default.text}` : ''}`).join(', ')})`;
}

export function buildInputs(task: SandboxTask, given: unknown, where = 'inputs', options: BuildInputsOptions = {}): Record<string, unknown> {
  if (given !== undefined && given !== null && !isDict(given)) throw new UsageError(`inputs must be a JSON object mapping input names to values, got ${JSON.stringify(given)}`, where);
  const entries = given ? dictEntries(given) : [];
  const declared = task.inputs.map(i => i.name);
  const out: Record<string, unknown> = { ...task.implicitInputs };
  const signature = signatureOf(task);
  const marshal = options.marshal ?? true;
  for (const [k, v] of entries) {
    const name = String(k);
    const input = task.inputs.find(i => i.name === name);
    if (!input) throw new UsageError(`unknown input '${name}': ${signature} takes ${declared.length ? declared.map(d => `'${d}'`).join(', ') : 'no inputs'}`, where);
    const problem = input.floats ? floatProblem(input.floats, v, `input '${name}'`) : undefined;
    if (problem) throw new UsageError(`${problem}: ${name} is declared ${input.annotation ?? 'float'}, and Flyte's type engine refuses the value before the sandbox starts`, where);
    if (!marshal) {
      out[name] = v;
      continue;
    }
    try {
      out[name] = hostResultToMonty(v, `inputs['${name}']`, task.pythonVersion);
    } catch (e) {
      if (e instanceof IoValidationError) throw new UsageError(`input '${name}' holds a malformed ${e.kind} at ${e.path}: ${e.field}: ${e.problem}`, where);
      throw e;
    }
  }
  // flyte.run fills in the interface's declared defaults before the sandbox starts.
  const unusable: string[] = [];
  for (const input of task.inputs) {
    if (input.name in out || !input.default || !task.profile.interfaceDefaults) continue;
    if ('value' in input.default) out[input.name] = input.default.value;
    else unusable.push(`'${input.name}' (${input.default.problem})`);
  }
  const missing = declared.filter(d => !(d in out));
  if (missing.length) {
    const why = unusable.length ? `; ${unusable.join('; ')}` : '';
    throw new UsageError(`missing input${missing.length > 1 ? 's' : ''} ${missing.map(m => `'${m}'`).join(', ')} for ${signature}${why}`, where);
  }
  return out;
}

/** The inputs a run uses that were not given: the declared defaults `flyte.run` fills in. */
export function defaultedInputs(task: SandboxTask, given: unknown): string[] {
  const names = new Set(given && isDict(given) ? dictEntries(given).map(([k]) => String(k)) : []);
  return task.inputs.filter(i => !names.has(i.name) && i.default && 'value' in i.default && task.profile.interfaceDefaults).map(i => i.name);
}
