"""Runs external calls of a sandboxed task on the real Python functions.

Started by the debugger as `python3 forward_worker.py`. JSON lines: one
request per line on stdin, one message per line on stdout.

  in:  {"id": 1, "op": "call", "module": "/abs/flow.py", "function": "fib", "args": [...], "kwargs": {...}}
       {"id": 2, "op": "ping"}
  out: {"id": 1, "ok": true, "value": <wire>}
       {"id": 1, "ok": false, "type": "ValueError", "message": "...", "traceback": "..."}
       {"t": "output", "stream": "stdout" | "stderr", "text": "..."}
       {"t": "notice", "text": "..."}

Values use the wire encoding of engine/values/wire.ts. Calls are dispatched
the way Flyte's sandbox bridge dispatches them (`.aio` when the object has
one, coroutines awaited until the result is not one), each call as its own
asyncio task so that async functions overlap like flyte_map items do.

Standard library only; Python 3.10+.
"""

import asyncio
import base64
import builtins
import importlib
import importlib.util
import inspect
import io
import json
import math
import os
import re
import sys
import threading
import time
import traceback

IO_TYPE_KEY = "__flyte_io_type__"
IO_KINDS = ("File", "Dir", "DataFrame")
MAX_EXACT_INT = 2**53
INTEGER_LIKE = re.compile(r"0|-?[1-9][0-9]*")
WORKER_FILE = os.path.abspath(__file__)

# A debugger should not leave __pycache__ folders in the user's workspace.
sys.dont_write_bytecode = True

_protocol_out = sys.stdout.buffer
_protocol_in = sys.stdin.buffer
_emit_lock = threading.Lock()


def emit(message):
    line = json.dumps(message, ensure_ascii=True, allow_nan=False) + "\n"
    with _emit_lock:
        try:
            _protocol_out.write(line.encode("ascii"))
            _protocol_out.flush()
        except OSError:  # the debugger is gone: nobody is left to answer
            os._exit(0)


def notice(text):
    emit({"t": "notice", "text": text})


class ForwardedStream(io.TextIOBase):
    """Stands in for sys.stdout/sys.stderr: text becomes `output` messages, whole lines at a time."""

    def __init__(self, name):
        self._name = name
        self._pending = ""
        self._lock = threading.Lock()

    @property
    def encoding(self):
        return "utf-8"

    def writable(self):
        return True

    def isatty(self):
        return False

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not " + type(text).__name__)
        with self._lock:
            self._pending += text
            cut = self._pending.rfind("\n") + 1
            ready, self._pending = self._pending[:cut], self._pending[cut:]
        if ready:
            emit({"t": "output", "stream": self._name, "text": ready})
        return len(text)

    def flush(self):
        with self._lock:
            ready, self._pending = self._pending, ""
        if ready:
            emit({"t": "output", "stream": self._name, "text": ready})


# From here on only emit() writes to the real stdout, and user code cannot read the requests.
sys.stdout = ForwardedStream("stdout")
sys.stderr = ForwardedStream("stderr")
sys.stdin = io.StringIO()


def flush_output():
    sys.stdout.flush()
    sys.stderr.flush()


# ---------------------------------------------------------------- flyte.io

class FlyteIo:
    """File/Dir/DataFrame from flyte.io when the interpreter has them; found on first need."""

    def __init__(self):
        self._classes = None
        self._checked = False

    def classes(self):
        if not self._checked:
            self._checked = True
            try:
                flyte_io = importlib.import_module("flyte.io")
                self._classes = {kind: getattr(flyte_io, kind) for kind in IO_KINDS}
            except Exception as e:  # a broken flyte install is as good as none here
                notice(
                    "flyte is not importable in this interpreter: File/Dir/DataFrame stay tagged dicts"
                    + " (" + type(e).__name__ + ": " + str(e) + ")"
                )
        return self._classes


flyte_io = FlyteIo()


def is_io_dict(value):
    return isinstance(value, dict) and value.get(IO_TYPE_KEY) in IO_KINDS


def contains_io(value):
    if is_io_dict(value):
        return True
    if isinstance(value, (list, tuple)):
        return any(contains_io(v) for v in value)
    if isinstance(value, dict):
        return any(contains_io(v) for v in value.values())
    return False


def from_monty(value, classes):
    """Flyte's `_from_monty`: tagged dicts become IO objects; lists, tuples and dict values are recursed."""
    if is_io_dict(value):
        fields = {k: v for k, v in value.items() if k != IO_TYPE_KEY}
        return classes[value[IO_TYPE_KEY]].model_validate(fields)
    if isinstance(value, list):
        return [from_monty(v, classes) for v in value]
    if isinstance(value, tuple):
        return tuple(from_monty(v, classes) for v in value)
    if isinstance(value, dict):
        return {k: from_monty(v, classes) for k, v in value.items()}
    return value


def to_monty(value, classes):
    """Flyte's `_to_monty`: IO objects become tagged dicts (tag first)."""
    for kind in IO_KINDS:
        if isinstance(value, classes[kind]):
            return {IO_TYPE_KEY: kind, **value.model_dump()}
    if isinstance(value, list):
        return [to_monty(v, classes) for v in value]
    if isinstance(value, tuple):
        return tuple(to_monty(v, classes) for v in value)
    if isinstance(value, dict):
        return {k: to_monty(v, classes) for k, v in value.items()}
    return value


def unmarshal_args(args, kwargs):
    if not (contains_io(args) or contains_io(kwargs)):
        return args, kwargs
    classes = flyte_io.classes()
    if classes is None:
        return args, kwargs
    return from_monty(args, classes), {k: from_monty(v, classes) for k, v in kwargs.items()}


def marshal_result(value):
    # Only flyte.io makes IO objects: until something has imported it there is nothing to convert.
    if "flyte.io" not in sys.modules:
        return value
    classes = flyte_io.classes()
    return to_monty(value, classes) if classes else value


# ---------------------------------------------------------------- wire encoding

_exception_classes = {}


def exception_class(name):
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, BaseException):
        return cls
    # Keep the type name of exceptions Python does not know (a Flyte error, a user class).
    if name not in _exception_classes:
        _exception_classes[name] = type(name, (Exception,), {})
    return _exception_classes[name]


def from_wire(wire):
    if isinstance(wire, list):
        return [from_wire(w) for w in wire]
    if not isinstance(wire, dict):
        return wire
    if len(wire) == 1:
        (key, inner), = wire.items()
        if key == "$tuple":
            return tuple(from_wire(w) for w in inner)
        if key == "$set":
            return {from_wire(w) for w in inner}
        if key == "$bytes":
            return base64.b64decode(inner)
        if key == "$int":
            return int(inner)
        if key == "$float":
            return float(inner)
        if key == "$dict":
            return {from_wire(k): from_wire(v) for k, v in inner}
    if len(wire) == 2 and "$exception" in wire:
        return exception_class(wire["$exception"])(wire.get("message", ""))
    return {k: from_wire(v) for k, v in wire.items()}


def plain_keys(d):
    return all(type(k) is str and not INTEGER_LIKE.fullmatch(k) and not k.startswith("$") for k in d)


def to_wire(value):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return {"$int": str(value)} if abs(value) > MAX_EXACT_INT else int(value)
    if isinstance(value, float):
        if math.isnan(value):
            return {"$float": "nan"}
        if math.isinf(value):
            return {"$float": "inf" if value > 0 else "-inf"}
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, tuple):
        return {"$tuple": [to_wire(v) for v in value]}
    if isinstance(value, list):
        return [to_wire(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {"$set": [to_wire(v) for v in value]}
    if isinstance(value, dict):
        if plain_keys(value):
            return {k: to_wire(v) for k, v in value.items()}
        return {"$dict": [[to_wire(k), to_wire(v)] for k, v in value.items()]}
    if isinstance(value, BaseException):
        return {"$exception": type(value).__name__, "message": str(value)}
    raise TypeError(
        f"the result holds a {type(value).__module__}.{type(value).__qualname__}, which cannot enter the sandbox "
        "(it takes None, bool, int, float, str, bytes, list, tuple, dict, set, File, Dir, DataFrame)"
    )


# ---------------------------------------------------------------- user modules

_modules = {}


def load_module(path):
    """Import a user's file once, under its own name, with its folder first on sys.path."""
    module = _modules.get(path)
    if module is not None:
        return module
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if previous is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = previous
        raise
    _modules[path] = module
    return module


class ImportFailed(Exception):
    """A user's module raised while being imported; carries the original exception."""

    def __init__(self, path, error):
        super().__init__(str(error))
        self.path = path
        self.error = error


def target(module, name):
    try:
        obj = getattr(module, name)
    except AttributeError:
        raise AttributeError(f"module '{module.__name__}' has no attribute '{name}'") from None
    if hasattr(obj, "aio"):
        return obj.aio
    if not callable(obj):
        raise TypeError(f"module '{module.__name__}' attribute '{name}' is a '{type(obj).__name__}' object, which is not callable")
    return obj


async def call(request):
    path = request["module"]
    try:
        module = load_module(path)
    except BaseException as e:
        raise ImportFailed(path, e) from e
    fn = target(module, request["function"])
    args, kwargs = unmarshal_args(from_wire(request.get("args", [])), from_wire(request.get("kwargs", {})))
    result = fn(*args, **kwargs)
    # Flyte's bridge: `TaskTemplate.aio` may hand back a coroutine that returns another one.
    while inspect.iscoroutine(result):
        result = await result
    return to_wire(marshal_result(result))


# ---------------------------------------------------------------- requests

def user_frames(tb):
    """The traceback without the worker's own frames and the import machinery in front of the user's code."""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename != WORKER_FILE and not filename.startswith("<frozen importlib"):
            break
        tb = tb.tb_next
    return tb


def error_reply(request_id, error):
    header = ""
    if isinstance(error, ImportFailed):
        header = f"while importing {error.path}:\n"
        error = error.error
    text = "".join(traceback.format_exception(type(error), error, user_frames(error.__traceback__)))
    return {"id": request_id, "ok": False, "type": type(error).__name__, "message": str(error), "traceback": header + text}


async def handle(request):
    request_id = request.get("id")
    try:
        if request.get("op") == "ping":
            reply = {"id": request_id, "ok": True, "value": {"python": sys.version.split()[0], "pid": os.getpid()}}
        elif request.get("op") == "call":
            reply = {"id": request_id, "ok": True, "value": await call(request)}
        else:
            raise ValueError(f"unknown op {request.get('op')!r}")
    except BaseException as e:  # SystemExit, KeyboardInterrupt, CancelledError from user code fail that call only
        reply = error_reply(request_id, e)
    flush_output()
    emit(reply)


def read_requests(loop, queue):
    """A thread of its own, so user code busy with the default executor cannot hold up requests."""
    for line in iter(_protocol_in.readline, b""):
        loop.call_soon_threadsafe(queue.put_nowait, line)
    loop.call_soon_threadsafe(queue.put_nowait, b"")


def exit_with_parent():
    """A thread of its own: when the debugger's process is gone, so is this one, even while user code
    holds the main thread (a forwarded call that burns CPU or never returns). The process that started
    us may be a wrapper (a venv shim that runs python as its child): then the debugger's pid, from the
    environment, is watched as well."""
    first_parent = os.getppid()
    try:
        debugger = int(os.environ.get("FLYTE_SANDBOX_PARENT_PID", "0"))
    except ValueError:
        debugger = 0
    while True:
        if os.getppid() != first_parent:
            os._exit(1)
        if debugger and debugger != first_parent:
            try:
                os.kill(debugger, 0)
            except ProcessLookupError:
                os._exit(1)
            except OSError:
                pass
        time.sleep(0.25)


async def requests():
    """The requests on stdin, one JSON object a line, until stdin closes (a malformed line is said and skipped)."""
    loop = asyncio.get_running_loop()
    lines = asyncio.Queue()
    threading.Thread(target=read_requests, args=(loop, lines), daemon=True).start()
    while True:
        line = await lines.get()
        if not line:
            return
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("a request is a JSON object")
        except ValueError as e:
            notice(f"ignored a malformed request ({e}): {line[:200]!r}")
            continue
        yield request


async def main():
    threading.Thread(target=exit_with_parent, daemon=True).start()
    running = set()
    async for request in requests():
        task = asyncio.ensure_future(handle(request))
        running.add(task)
        task.add_done_callback(running.discard)
    # stdin closed: the debugger is done with us. Exit now, without waiting for calls in flight
    # or threads user code left running.
    flush_output()
    os._exit(0)


if __name__ == "__main__":
    asyncio.run(main())
