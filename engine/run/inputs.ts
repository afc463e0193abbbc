/** The inputs a run starts with: checked against the task's signature, marshaled like Flyte does. */
import { UsageError } from '../errors.ts';
import type { SandboxTask } from '../extract/tasks.ts';
import { hostResultToMonty, IoValidationError } from '../marshal.ts';
import { dictEntries, isDict } from '../values/python.ts';

export function buildInputs(task: SandboxTask, given: unknown, where = 'inputs'): Record<string, unknown> {
  if (given !== undefined && given !== null && !isDict(given)) throw new UsageError(`inputs must be a JSON object mapping input names to values, got ${JSON.stringify(given)}`, where);
  const entries = given ? dictEntries(given) : [];
  const declared = task.inputs.map(i => i.name);
  const out: Record<string, unknown> = { ...task.implicitInputs };
  const signature = `${task.name}(${task.inputs.map(i => (i.annotation ? `${i.name}: ${i.annotation}` : i.name)).join(', ')})`;
  for (const [k, v] of entries) {
    const name = String(k);
    if (!declared.includes(name)) throw new UsageError(`unknown input '${name}': ${signature} takes ${declared.length ? declared.map(d => `'${d}'`).join(', ') : 'no inputs'}`, where);
    try {
      out[name] = hostResultToMonty(v, `inputs['${name}']`);
    } catch (e) {
      if (e instanceof IoValidationError) throw new UsageError(`input '${name}' holds a malformed ${e.kind} at ${e.path}: ${e.field}: ${e.problem}`, where);
      throw e;
    }
  }
  const missing = declared.filter(d => !(d in out));
  if (missing.length) throw new UsageError(`missing input${missing.length > 1 ? 's' : ''} ${missing.map(m => `'${m}'`).join(', ')} for ${signature}`, where);
  return out;
}
