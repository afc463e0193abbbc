"""A small sandboxed orchestrator: three tasks, one sandboxed pipeline."""
import flyte

env = flyte.TaskEnvironment(name="pipeline")


@env.task
def fetch_rows(source: str, limit: int) -> list[int]:
    return list(range(limit))


@env.task
def score(row: int, weight: float) -> float:
    return row * weight


@env.task
def summarize(scores: list[float]) -> dict:
    return {"count": len(scores), "total": sum(scores)}


def normalise(values):
    top = max(values)
    return [v / top for v in values]


@env.sandbox.orchestrator
def score_pipeline(source: str, limit: int, weight: float) -> dict:
    rows = fetch_rows(source, limit)
    scores = []
    for row in rows:
        scores.append(score(row, weight))
    print(f"scored {len(scores)} rows")
    summary = summarize(scores)
    return summary
