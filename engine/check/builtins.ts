/**
 * Which names Monty itself resolves (its builtins): a call to one of them
 * never leaves the sandbox, a call to any other unbound name becomes an
 * external call. Asked of the installed Monty, once per process, so the
 * answer follows the interpreter (e.g. `locals()` is not a builtin there: it
 * pauses like an external call).
 */
import { Monty, MontyNameLookup } from '@pydantic/monty';

// CPython's public builtins (dir(builtins), 3.11-3.13): the candidates.
const PYTHON_BUILTINS = `ArithmeticError AssertionError AttributeError BaseException BaseExceptionGroup BlockingIOError
BrokenPipeError BufferError BytesWarning ChildProcessError ConnectionAbortedError ConnectionError ConnectionRefusedError
ConnectionResetError DeprecationWarning EOFError Ellipsis EncodingWarning EnvironmentError Exception ExceptionGroup False
FileExistsError FileNotFoundError FloatingPointError FutureWarning GeneratorExit IOError ImportError ImportWarning
IndentationError IndexError InterruptedError IsADirectoryError KeyError KeyboardInterrupt LookupError MemoryError
ModuleNotFoundError NameError None NotADirectoryError NotImplemented NotImplementedError OSError OverflowError
PendingDeprecationWarning PermissionError ProcessLookupError PythonFinalizationError RecursionError ReferenceError
ResourceWarning RuntimeError RuntimeWarning StopAsyncIteration StopIteration SyntaxError SyntaxWarning SystemError
SystemExit TabError TimeoutError True TypeError UnboundLocalError UnicodeDecodeError UnicodeEncodeError UnicodeError
UnicodeTranslateError UnicodeWarning UserWarning ValueError Warning ZeroDivisionError abs aiter all anext any ascii bin
bool breakpoint bytearray bytes callable chr classmethod compile complex copyright credits delattr dict dir divmod
enumerate eval exec exit filter float format frozenset getattr globals hasattr hash help hex id input int isinstance
issubclass iter len license list locals map max memoryview min next object oct open ord pow print property quit range
repr reversed round set setattr slice sorted staticmethod str sum super tuple type vars zip`.split(/\s+/);

let known: Set<string> | undefined;

/** The names Monty resolves without asking the host. */
export function montyBuiltins(): ReadonlySet<string> {
  if (known) return known;
  known = new Set();
  for (const name of PYTHON_BUILTINS) {
    try {
      const progress = new Monty(name).start({ printCallback: () => undefined });
      if (!(progress instanceof MontyNameLookup)) known.add(name);
    } catch {
      // A name Monty cannot even evaluate alone is no builtin it offers.
    }
  }
  return known;
}
