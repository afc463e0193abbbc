"""flyte_map: fan a task out over a list, with a concurrency bound and failures returned as values.

Flyte registers a task for the sandbox only when the task body names it (its
co_names): a name that appears only as the string in flyte_map("check", ...)
is not enough, so both tasks below are also called directly.
"""
import flyte

env = flyte.TaskEnvironment(name="fanout")


@env.task
def square(x: int) -> int:
    return x * x


@env.task
def check(x: int) -> int:
    if x % 10 == 9:
        raise ValueError(f"{x} ends in 9")
    return x


@env.sandbox.orchestrator
def sum_of_squares(n: int) -> dict:
    squares = flyte_map("square", list(range(n)), concurrency=4)
    checked = flyte_map("check", squares)  # return_exceptions defaults to True for tasks
    good = [r for r in checked if not isinstance(r, Exception)]
    failed = [str(r) for r in checked if isinstance(r, Exception)]
    return {"total": check(sum(good)), "failed": failed, "largest": square(n - 1)}
