"""Files, directories and data frames crossing the sandbox boundary as tagged dicts."""
import flyte
from flyte.io import DataFrame, Dir, File

env = flyte.TaskEnvironment(name="io-demo")


@env.task
async def download_csv(url: str) -> File:
    ...


@env.task
async def split_by_region(data: File) -> Dir:
    ...


@env.task
async def load_frame(folder: Dir, region: str) -> DataFrame:
    ...


@env.task
async def write_report(frames: list[DataFrame], title: str) -> File:
    ...


@env.sandbox.orchestrator
def regional_report(url: str, regions: list[str]) -> dict:
    raw = download_csv(url)
    by_region = split_by_region(raw)
    frames = []
    for region in regions:
        frames.append(load_frame(by_region, region))
    report = write_report(frames, title="Sales by region")
    print("report at", report["path"])
    return {"report": report, "source": raw, "regions": len(frames)}
