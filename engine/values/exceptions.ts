/**
 * Exceptions crossing into the sandbox. Monty knows a fixed set of builtin
 * exception types; any other type name (a task's own `MyError`) cannot be
 * raised or held as a value there, so it is carried as `Exception` with the
 * original type name leading the message.
 */
import type { MontyExceptionValue } from './python.ts';

const MONTY_EXCEPTION_TYPES = new Set([
  'BaseException', 'Exception', 'ArithmeticError', 'AssertionError', 'AttributeError', 'FileExistsError',
  'FileNotFoundError', 'ImportError', 'IndexError', 'IsADirectoryError', 'KeyError', 'KeyboardInterrupt',
  'LookupError', 'MemoryError', 'ModuleNotFoundError', 'NameError', 'NotADirectoryError', 'NotImplementedError',
  'OSError', 'OverflowError', 'PermissionError', 'RecursionError', 'RuntimeError', 'StopIteration', 'SyntaxError',
  'SystemExit', 'TimeoutError', 'TypeError', 'UnboundLocalError', 'UnicodeDecodeError', 'ValueError', 'ZeroDivisionError',
]);

export function montyKnowsException(type: string): boolean {
  return MONTY_EXCEPTION_TYPES.has(type);
}

/** The `{type, message}` Monty accepts for `resume({exception})`. */
export function sandboxException(type: string, message: string): { type: string; message: string } {
  return montyKnowsException(type) ? { type, message } : { type: 'Exception', message: `${type}: ${message}` };
}

/** An exception instance as a value (what `return_exceptions=True` puts in a result list). */
export function exceptionValue(type: string, message: string): MontyExceptionValue {
  const e = sandboxException(type, message);
  return { __monty_type__: 'Exception', excType: e.type, message: e.message };
}
