"""Talks to a Flyte cluster for the debugger, through flyte's own API.

Started by the debugger as `python3 flyte_worker.py` in the user's
interpreter (where flyte is installed and configured). The same JSON-lines
protocol as forward_worker.py, whose plumbing it reuses (its output capture,
wire encoding, flyte.io marshaling and module loading), plus progress
events and cancellation:

  in:  {"id": 1, "op": "import_run", "run": "r1", "config": null, "project": null, "domain": null}
       {"id": 2, "op": "remote_call", "module": "/abs/flow.py", "function": "price", "args": [...], "kwargs": {...}, ...}
       {"id": 3, "op": "cancel", "target": 2}
  out: {"id": 1, "ok": true, "value": <dump>}            (import_run: only reads; nothing is created or changed)
       {"id": 2, "ok": false, "type": "RuntimeUserError", "message": "...", "traceback": "..."}
       {"t": "event", "id": 2, "event": {"kind": "run", "name": "r...", "url": "https://..."}}
       {"t": "event", "id": 1, "event": {"kind": "progress", "stage": "listing", "done": 300}}

A remote call is one new top-level run (`flyte.with_runcontext(mode="remote").run.aio`),
waited for in a task of its own. `wait()` swallows cancellation, so a
cancelled call (the debugger stopped, or this process's stdin closed) aborts
its run explicitly before it ends. Errors about the setup (no flyte, no
configuration, unknown run, no permission) come back with a type naming the
category: NoFlyte, NoConfig, NotFound, PermissionDenied, Unauthenticated,
Unavailable.

Standard library and flyte only; Python 3.10+.
"""

import sys

sys.dont_write_bytecode = True  # before importing forward_worker: no __pycache__ beside the scripts

import asyncio  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
from datetime import timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import forward_worker as fw  # noqa: E402

TERMINAL = {"succeeded", "failed", "aborted", "timed_out", "recovered"}
SUCCEEDED = {"succeeded", "recovered"}
READ_CONCURRENCY = 16
PROGRESS_EVERY = 100
ABORT_GRACE_SECONDS = 20
ABORT_REASON = "stopped by the debugger"


class Classified(Exception):
    """A failure the user fixes in their setup; `category` becomes the reply's type."""

    def __init__(self, category, message):
        super().__init__(message)
        self.category = category


def flyte_api():
    try:
        import flyte
        import flyte.remote  # noqa: F401
    except ImportError as e:
        raise Classified(
            "NoFlyte",
            f"flyte is not importable in {sys.executable} ({type(e).__name__}: {e})",
        ) from e
    return flyte


def classify(e, what):
    """Setup errors in words; anything else passes through unchanged."""
    name = type(e).__name__
    if name == "ConnectError":
        code = getattr(e, "code", None)
        code = (getattr(code, "name", None) or str(code)).upper()
        message = getattr(e, "message", None) or str(e)
        categories = {
            "NOT_FOUND": ("NotFound", f"{what} was not found ({message})"),
            "PERMISSION_DENIED": ("PermissionDenied", f"no permission to read {what} ({message})"),
            "UNAUTHENTICATED": ("Unauthenticated", f"not signed in to the cluster to read {what} ({message}); log in with flyte first"),
            "UNAVAILABLE": ("Unavailable", f"the cluster cannot be reached ({message})"),
        }
        if code in categories:
            return Classified(*categories[code])
    if name == "InitializationError":
        code = getattr(e, "code", "")
        if code in ("ClientNotInitializedError", "NotInitConfiguredError"):
            return Classified("NoConfig", "flyte has no cluster configured: no config file was found (./config.yaml, ./.flyte/config.yaml, "
                              "$FLYTECTL_CONFIG, ~/.flyte/config.yaml) or it names no admin.endpoint; pass its path with --config")
        if code == "ConfigFileNotFoundError":
            return Classified("NoConfig", str(e))
    return e


# ---------------------------------------------------------------- setup

_initialized = None
_init_lock = asyncio.Lock()


async def ensure_init(request):
    """flyte.init_from_config once per (config, project, domain, root)."""
    global _initialized
    flyte = flyte_api()
    key = (request.get("config"), request.get("project"), request.get("domain"), request.get("rootDir"))
    async with _init_lock:
        if _initialized == key:
            return flyte
        root = Path(request["rootDir"]) if request.get("rootDir") else None
        try:
            await flyte.init_from_config.aio(request.get("config") or None, root_dir=root, project=request.get("project") or None,
                                             domain=request.get("domain") or None)
        except Exception as e:
            raise classify(e, "the configuration") from e
        _initialized = key
    return flyte


def phase_name(phase):
    return str(getattr(phase, "value", phase)).lower()


def iso(ts, has=True):
    if not has:
        return None
    return ts.ToDatetime().replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")


def duration_ms(status):
    if not (status.HasField("start_time") and status.HasField("end_time")):
        return None
    delta = status.end_time.ToDatetime() - status.start_time.ToDatetime()
    return round(delta.total_seconds() * 1000, 3)


def output_count(details_pb2):
    """How many outputs the action's interface declares (ActionOutputs is (None,) for zero and for failures)."""
    if details_pb2.HasField("task"):
        return len(details_pb2.task.task_template.interface.outputs.variables)
    if details_pb2.HasField("trace"):
        return len(details_pb2.trace.interface.outputs.variables)
    return 1


def wire_value(value):
    """A production value as the sandbox would receive it (`_to_monty`), in the wire encoding; None when it cannot enter."""
    try:
        return fw.to_wire(fw.marshal_result(value)), None
    except TypeError as e:
        return None, str(e)


def result_of(outputs, count):
    if count == 0:
        return None
    if count == 1:
        return outputs[0]
    return tuple(outputs)


# ---------------------------------------------------------------- import a run

async def read_child(action, flyte):
    from flyte.remote import ActionDetails

    md = action.pb2.metadata
    if md.HasField("task"):
        kind = "task"
    elif md.HasField("trace"):
        kind = "trace"
    else:
        return {"name": action.name, "kind": "condition"}
    details = await action.details()
    phase = phase_name(details.phase)
    status = details.pb2.status
    entry = {
        "name": action.name,
        "kind": kind,
        "taskName": md.task.id.name if kind == "task" else None,
        "shortName": md.task.short_name if kind == "task" else None,
        "version": md.task.id.version if kind == "task" else None,
        "traceName": md.trace.name if kind == "trace" else None,
        "group": md.group or None,
        "phase": phase,
        "startedAt": iso(status.start_time, status.HasField("start_time")),
        "endedAt": iso(status.end_time, status.HasField("end_time")),
        "durationMs": duration_ms(status),
        "cacheStatus": status.cache_status,
        "attempts": status.attempts,
        "recoveredFrom": md.recovered_from or None,
    }
    if phase not in TERMINAL:
        return entry
    if phase == "failed" and details.error_info is None:
        # error_info arrives with the last attempt's event ("eventually consistent"): read once more
        details = await ActionDetails.get_details.aio(action.action_id)
    inputs, problem = wire_value(dict((await details.inputs()).data))
    entry["inputs"] = inputs if problem is None else {}
    if problem:
        entry["valueProblem"] = f"its inputs: {problem}"
    if phase in SUCCEEDED:
        value, problem = wire_value(result_of(await details.outputs(), output_count(details.pb2)))
        entry["result"] = value
        if problem:
            entry["valueProblem"] = f"its result: {problem}"
    if details.error_info is not None:
        entry["error"] = {"kind": int(details.error_info.kind), "message": details.error_info.message}
    if details.abort_info is not None:
        entry["abort"] = details.abort_info.reason
    return entry


async def list_children(run, orch, event):
    """The orchestrator's direct children in created_at order, with the client-side fallback for backends that refuse parent_name."""
    from flyte.remote import Action

    children = []
    try:
        async for a in Action.listall.aio(for_run_name=run.name, parent_name=orch.name):
            children.append(a)
            if len(children) % PROGRESS_EVERY == 0:
                event({"kind": "progress", "stage": "listing", "done": len(children)})
        return children, {"filter": "parent_name", "listed": len(children)}
    except TypeError as e:
        reason = f"this flyte has no parent_name filter ({e})"
    except Exception as e:  # noqa: BLE001 (the backend's refusal is a ConnectError INVALID_ARGUMENT)
        if type(e).__name__ != "ConnectError" or "INVALID_ARGUMENT" not in (getattr(getattr(e, "code", None), "name", "") or ""):
            raise classify(e, f"run {run.name}") from e
        reason = f"the backend refused the parent_name filter ({getattr(e, 'message', None) or e})"
    children = []
    listed = 0
    async for a in Action.listall.aio(for_run_name=run.name):
        listed += 1
        if a.pb2.metadata.parent == orch.name:
            children.append(a)
        if listed % PROGRESS_EVERY == 0:
            event({"kind": "progress", "stage": "listing", "done": listed})
    return children, {"filter": "client", "listed": listed, "reason": reason}


async def import_run(request, event):
    flyte = await ensure_init(request)
    from flyte.remote import Run

    name = request["run"]
    try:
        run = await Run.get.aio(name)
        details = await run.details.aio()
    except Exception as e:
        raise classify(e, f"run {name}") from e
    a0 = details.action_details
    phase = phase_name(run.phase)
    template = a0.pb2.task.task_template if a0.pb2.HasField("task") else None
    status = a0.pb2.status
    inputs, _ = wire_value(dict((await a0.inputs()).data))
    top = {
        "name": run.name,
        "url": run.url,
        "project": run.pb2.action.id.run.project,
        "domain": run.pb2.action.id.run.domain,
        "action": run.action.name,
        "phase": phase,
        "taskName": a0.task_name,
        "taskVersion": template.id.version if template else None,
        "discoveryVersion": template.metadata.discovery_version if template else None,
        "sdkVersion": template.metadata.runtime.version if template else None,
        "startedAt": iso(status.start_time, status.HasField("start_time")),
        "endedAt": iso(status.end_time, status.HasField("end_time")),
        "inputs": inputs or {},
        "flyteVersion": getattr(flyte, "__version__", None),
    }
    if phase in SUCCEEDED:
        top["output"], _ = wire_value(result_of(await a0.outputs(), output_count(a0.pb2)))
    if a0.error_info is not None:
        top["error"] = {"kind": int(a0.error_info.kind), "message": a0.error_info.message}
    if a0.abort_info is not None:
        top["abort"] = a0.abort_info.reason
    try:
        children, listing = await list_children(run, run.action, event)
    except Classified:
        raise
    except Exception as e:
        raise classify(e, f"run {name}") from e
    event({"kind": "progress", "stage": "listed", "done": len(children), "total": len(children)})
    limit = asyncio.Semaphore(READ_CONCURRENCY)
    done = 0

    async def read(action):
        nonlocal done
        async with limit:
            entry = await read_child(action, flyte)
        done += 1
        if done % PROGRESS_EVERY == 0 or done == len(children):
            event({"kind": "progress", "stage": "reading", "done": done, "total": len(children)})
        return entry

    try:
        entries = await asyncio.gather(*(read(a) for a in children))
    except Exception as e:
        raise classify(e, f"run {name}") from e
    return {"run": top, "children": entries, "listing": listing}


# ---------------------------------------------------------------- run a call on the cluster

class RemoteRunFailed(Exception):
    def __init__(self, type_name, message, detail):
        super().__init__(message)
        self.type_name = type_name
        self.detail = detail


def failure_type(phase, kind):
    if phase == "aborted":
        return "ActionAbortedError"
    if phase == "timed_out":
        return "TaskTimeoutError"
    return {1: "RuntimeUserError", 2: "RuntimeSystemError"}.get(kind, "RuntimeUnknownError")


async def remote_call(request, event):
    flyte = await ensure_init(request)
    path = request["module"]
    try:
        module = fw.load_module(path)
    except BaseException as e:
        raise fw.ImportFailed(path, e) from e
    name = request["function"]
    obj = getattr(module, name, None)
    args, kwargs = fw.unmarshal_args(fw.from_wire(request.get("args", [])), fw.from_wire(request.get("kwargs", {})))
    lazy = type(obj).__name__ == "LazyEntity"
    if lazy and args:
        import flyte.errors

        raise flyte.errors.RemoteTaskUsageError(
            f"Remote task {obj.name} does not support positional arguments currently. Please use keyword arguments.")
    if not lazy and not isinstance(obj, flyte.TaskTemplate):
        raise TypeError(f"{name} is not a Flyte task (a {type(obj).__name__}): in production it runs inside the orchestrator, "
                        "so it cannot become a run on the cluster; forward it locally instead")
    runner = flyte.with_runcontext(mode="remote", project=request.get("project") or None, domain=request.get("domain") or None)
    try:
        run = await runner.run.aio(obj, *args, **kwargs)
    except Exception as e:
        raise classify(e, f"a run of {name}") from e
    url = run.url
    event({"kind": "run", "name": run.name, "url": url})
    waiter = asyncio.ensure_future(run.wait.aio(quiet=True))
    try:
        await asyncio.shield(waiter)
    except asyncio.CancelledError:
        try:
            await asyncio.wait_for(run.abort.aio(reason=ABORT_REASON), ABORT_GRACE_SECONDS)
            event({"kind": "aborted", "name": run.name, "url": url})
        finally:
            waiter.cancel()
        raise
    phase = phase_name(run.phase)
    details = await run.details.aio()
    a0 = details.action_details
    if phase in SUCCEEDED:
        value, problem = wire_value(result_of(await run.outputs.aio(), output_count(a0.pb2)))
        if problem:
            raise TypeError(f"run {run.name} returned a value that cannot enter the sandbox: {problem}")
        return value
    err = a0.error_info
    message = err.message if err is not None else (a0.abort_info.reason if a0.abort_info is not None else f"the run ended {phase}")
    raise RemoteRunFailed(failure_type(phase, err.kind if err is not None else 0), message,
                          f"remote run {run.name} ended {phase.upper()}: {url}")


# ---------------------------------------------------------------- requests

OPS = {"import_run": import_run, "remote_call": remote_call}
_tasks = {}


def reply_for(request_id, error):
    if isinstance(error, Classified):
        return {"id": request_id, "ok": False, "type": error.category, "message": str(error)}
    if isinstance(error, RemoteRunFailed):
        return {"id": request_id, "ok": False, "type": error.type_name, "message": str(error), "traceback": error.detail}
    return fw.error_reply(request_id, error)


async def handle(request):
    request_id = request.get("id")

    def event(e):
        fw.emit({"t": "event", "id": request_id, "event": e})

    try:
        op = request.get("op")
        if op == "ping":
            value = {"python": sys.version.split()[0], "pid": os.getpid()}
        elif op in OPS:
            value = await OPS[op](request, event)
        else:
            raise ValueError(f"unknown op {op!r}")
        reply = {"id": request_id, "ok": True, "value": value}
    except BaseException as e:  # noqa: BLE001 (one request fails, the worker goes on)
        reply = reply_for(request_id, e)
    finally:
        _tasks.pop(request_id, None)
    fw.flush_output()
    fw.emit(reply)


async def shutdown():
    """stdin closed: the debugger is gone. Runs still in flight are aborted first (wait() would not)."""
    running = [t for t in _tasks.values() if not t.done()]
    for t in running:
        t.cancel()
    if running:
        await asyncio.wait(running, timeout=ABORT_GRACE_SECONDS + 5)
    fw.flush_output()
    os._exit(0)


async def main():
    async for request in fw.requests():
        if request.get("op") == "cancel":
            task = _tasks.get(request.get("target"))
            if task is not None:
                task.cancel()
            continue
        _tasks[request.get("id")] = asyncio.ensure_future(handle(request))
    await shutdown()


if __name__ == "__main__":
    # Ctrl-C in a terminal reaches the whole process group: this worker lets its parent go first,
    # then sees stdin close and aborts its runs (a KeyboardInterrupt here would leave them running).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(main())
