/**
 * The arguments each request must carry, checked before its handler runs: a
 * client that leaves one out or sends the wrong type gets an error naming the
 * argument (`continue: 'threadId' must be an integer, got "1"`), never the
 * text of a TypeError from inside the adapter. Shapes follow the DAP
 * specification (and our flyteSandbox/* requests); unknown extra arguments
 * are allowed, as the specification allows them.
 */

interface Type {
  name: string;
  test(v: unknown): boolean;
}

const INT: Type = { name: 'an integer', test: v => typeof v === 'number' && Number.isSafeInteger(v) };
const STRING: Type = { name: 'a string', test: v => typeof v === 'string' };
const BOOL: Type = { name: 'true or false', test: v => typeof v === 'boolean' };
const OBJECT: Type = { name: 'an object', test: v => typeof v === 'object' && v !== null && !Array.isArray(v) };
const ANY: Type = { name: 'a value', test: v => v !== undefined };

function oneOf(...values: string[]): Type {
  return { name: `one of ${values.map(v => JSON.stringify(v)).join(', ')}`, test: v => typeof v === 'string' && values.includes(v) };
}

function either(a: Type, b: Type): Type {
  return { name: `${a.name} or ${b.name}`, test: v => a.test(v) || b.test(v) };
}

/** An argument: its type, whether it may be left out, and for a list the shape of each item. */
interface Field {
  type: Type | 'list';
  optional?: boolean;
  items?: Type | Shape;
}
type Shape = Record<string, Field>;

const req = (type: Type): Field => ({ type });
const opt = (type: Type): Field => ({ type, optional: true });
const list = (items: Type | Shape, optional = false): Field => ({ type: 'list', items, optional });

const THREAD: Shape = { threadId: req(INT) };
const SOURCE: Shape = { path: opt(STRING), name: opt(STRING), sourceReference: opt(INT) };

const SCHEMAS: Record<string, Shape> = {
  initialize: { adapterID: req(STRING), clientID: opt(STRING), linesStartAt1: opt(BOOL), columnsStartAt1: opt(BOOL), pathFormat: opt(STRING) },
  launch: {},
  setBreakpoints: { source: { type: OBJECT, items: SOURCE }, breakpoints: list({ line: req(INT), column: opt(INT), condition: opt(STRING), hitCondition: opt(STRING), logMessage: opt(STRING) }, true), lines: list(INT, true) },
  setFunctionBreakpoints: { breakpoints: list({ name: req(STRING), condition: opt(STRING), hitCondition: opt(STRING) }) },
  setExceptionBreakpoints: { filters: list(STRING), filterOptions: list({ filterId: req(STRING), condition: opt(STRING) }, true) },
  setDataBreakpoints: { breakpoints: list({ dataId: req(STRING), accessType: opt(STRING), condition: opt(STRING), hitCondition: opt(STRING) }) },
  dataBreakpointInfo: { name: req(STRING), variablesReference: opt(INT), frameId: opt(INT) },
  continue: { ...THREAD, singleThread: opt(BOOL) },
  next: { ...THREAD, singleThread: opt(BOOL), granularity: opt(STRING) },
  stepIn: { ...THREAD, singleThread: opt(BOOL), targetId: opt(INT), granularity: opt(STRING) },
  stepOut: { ...THREAD, singleThread: opt(BOOL), granularity: opt(STRING) },
  stepBack: { ...THREAD, singleThread: opt(BOOL), granularity: opt(STRING) },
  reverseContinue: { ...THREAD, singleThread: opt(BOOL) },
  restartFrame: { frameId: req(INT) },
  goto: { ...THREAD, targetId: req(INT) },
  pause: THREAD,
  stackTrace: { ...THREAD, startFrame: opt(INT), levels: opt(INT) },
  scopes: { frameId: req(INT) },
  variables: { variablesReference: req(INT), start: opt(INT), count: opt(INT), filter: opt(oneOf('indexed', 'named')) },
  setVariable: { variablesReference: req(INT), name: req(STRING), value: req(STRING) },
  setExpression: { expression: req(STRING), value: req(STRING), frameId: opt(INT) },
  source: { sourceReference: req(INT), source: { type: OBJECT, optional: true, items: SOURCE } },
  evaluate: { expression: req(STRING), frameId: opt(INT), context: opt(STRING) },
  completions: { text: req(STRING), column: req(INT), frameId: opt(INT), line: opt(INT) },
  exceptionInfo: THREAD,
  terminateThreads: { threadIds: list(INT, true) },
  disconnect: { restart: opt(BOOL), terminateDebuggee: opt(BOOL), suspendDebuggee: opt(BOOL) },
  terminate: { restart: opt(BOOL) },
  'flyteSandbox/resolveCall': { threadId: opt(INT), action: req(oneOf('return', 'raise', 'forward')), expression: opt(STRING), value: opt(ANY), exception: opt(either(STRING, OBJECT)), remember: opt(BOOL) },
  'flyteSandbox/pendingCall': { threadId: opt(INT) },
  'flyteSandbox/setStub': { name: req(STRING), expression: opt(STRING) },
  'flyteSandbox/rewindTo': { seq: req(INT) },
  'flyteSandbox/follow': { values: opt(BOOL) },
};

/** Requests whose arguments may be left out altogether (every field optional). */
function allOptional(shape: Shape): boolean {
  return Object.values(shape).every(f => f.optional);
}

function got(v: unknown): string {
  if (v === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

function checkShape(shape: Shape, value: Record<string, unknown>, at: string): string | undefined {
  for (const [name, field] of Object.entries(shape)) {
    const v = value[name];
    const where = `${at}${at ? '.' : ''}${name}`;
    if (v === undefined || (v === null && field.optional)) {
      if (field.optional) continue;
      return `'${where}' is required (${field.type === 'list' ? 'a list' : field.type.name})`;
    }
    if (field.type === 'list') {
      if (!Array.isArray(v)) return `'${where}' must be a list, got ${got(v)}`;
      for (const [i, item] of v.entries()) {
        const problem = checkItem(field.items!, item, `${where}[${i}]`);
        if (problem) return problem;
      }
      continue;
    }
    if (!field.type.test(v)) return `'${where}' must be ${field.type.name}, got ${got(v)}`;
    if (field.items && !('test' in field.items)) {
      const problem = checkShape(field.items as Shape, v as Record<string, unknown>, where);
      if (problem) return problem;
    }
  }
  return undefined;
}

function checkItem(items: Type | Shape, item: unknown, where: string): string | undefined {
  if ('test' in items && typeof items.test === 'function') return (items as Type).test(item) ? undefined : `'${where}' must be ${(items as Type).name}, got ${got(item)}`;
  if (!OBJECT.test(item)) return `'${where}' must be an object, got ${got(item)}`;
  return checkShape(items as Shape, item as Record<string, unknown>, where);
}

/** What is wrong with a request's arguments, or undefined when they have the shape its handler expects. */
export function argumentProblem(command: string, args: unknown): string | undefined {
  const shape = SCHEMAS[command];
  if (!shape) return args === undefined || OBJECT.test(args) ? undefined : `${command}: arguments must be an object, got ${got(args)}`;
  if (args === undefined || args === null) {
    if (allOptional(shape)) return undefined;
    const needed = Object.entries(shape).filter(([, f]) => !f.optional).map(([n, f]) => `"${n}": <${f.type === 'list' ? 'list' : f.type.name.replace(/^an? /, '')}>`);
    return `${command} needs arguments: {${needed.join(', ')}}`;
  }
  if (!OBJECT.test(args)) return `${command}: arguments must be an object, got ${got(args)}`;
  const problem = checkShape(shape, args as Record<string, unknown>, '');
  return problem ? `${command}: ${problem}` : undefined;
}
