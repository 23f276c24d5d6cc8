"""What modules cost: validating and planning 200 module instances of 10 resources each (2,000
addresses) against the same 2,000 resources written out flat (issue 19's goals: validate ≤ 2×,
plan ≤ 1.5× the flat plan's time).

Both run in this process against the engine tests' in-memory cloud (tests/engine/memory_provider.py),
so the figures are the engine's own time, no HTTP, timed round by round (flat, modules, flat, ...)
on CPU time. The module's folder is parsed once per source, however many instances call it.

    python bench/modules.py             # [INSTANCES] [ROUNDS], default 200 3
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from labform.engine import runner  # noqa: E402
from labform.engine.config import load_config  # noqa: E402
from labform.engine.expressions import library  # noqa: E402
from labform.engine.expressions.template import parse_template  # noqa: E402
from labform.engine.planner import PlanOptions  # noqa: E402
from labform.providers import registry  # noqa: E402
from tests.engine import memory_provider  # noqa: E402

PER_MODULE = 10


def flat(instances: int) -> dict[str, str]:
    lines = ["resources:"]
    for i in range(instances):
        for j in range(PER_MODULE):
            lines += [f"  memory_thing.m{i}_r{j}:", f"    name: m{i}-r{j}"]
    return {"main.yaml": "\n".join(lines) + "\n"}


def modular(instances: int) -> dict[str, str]:
    module = ["variables:", "  name: {type: string}", "resources:"]
    for j in range(PER_MODULE):
        module += [f"  memory_thing.r{j}:", f"    name: ${{var.name}}-r{j}"]
    root = ["modules:", "  app:", "    source: ./modules/app", f"    count: {instances}", "    inputs:"]
    root += ["      name: m${count.index}"]
    return {"main.yaml": "\n".join(root) + "\n", "modules/app/main.yaml": "\n".join(module) + "\n"}


def write(folder: Path, store: memory_provider.MemoryStore, files: dict[str, str]) -> None:
    for name, text in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text((f"providers:\n  memory:\n    store: {store.id}\n" if name == "main.yaml" else "") + text)


def fresh_caches() -> None:
    """As a new process has them: parse and compile caches emptied."""
    parse_template.cache_clear()
    library.compiled.cache_clear()


def validate_seconds(folder: Path, expected: int) -> float:
    fresh_caches()
    started = time.process_time()
    config = load_config(folder)
    seconds = time.process_time() - started
    assert len(config.resources) == expected, "every block built"
    return seconds


def plan_seconds(folder: Path, expected: int) -> float:
    fresh_caches()
    workspace = runner.Workspace(folder, state=str(folder / "state.json"), report=lambda event: None)
    started = time.process_time()
    result = runner.plan(workspace, PlanOptions(), None)
    seconds = time.process_time() - started
    assert len(result.plan.changes) == expected, "every address planned"
    return seconds


def main() -> None:
    instances = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    registry.register("memory", "tests.engine.memory_provider:MemoryProvider")
    store = memory_provider.new_store()
    expected = instances * PER_MODULE
    times: dict[str, dict[str, list[float]]] = {"validate": {}, "plan": {}}
    with tempfile.TemporaryDirectory() as scratch:
        folders = {}
        for kind, files in (("flat", flat(instances)), ("modules", modular(instances))):
            folders[kind] = Path(scratch, kind)
            write(folders[kind], store, files)
        plan_seconds(folders["flat"], expected)  # warm: imports, provider, schema caches
        for _ in range(rounds):
            for kind, folder in folders.items():
                times["validate"].setdefault(kind, []).append(validate_seconds(folder, expected))
                times["plan"].setdefault(kind, []).append(plan_seconds(folder, expected))
    print(f"| {instances} instances × {PER_MODULE} resources | flat s | modules s | ratio | goal |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for step, goal in (("validate", 2.0), ("plan", 1.5)):
        flat_s, modules_s = (statistics.median(times[step][kind]) for kind in ("flat", "modules"))
        print(
            f"| {step} (median of {rounds}) | {flat_s:.3f} | {modules_s:.3f} | {modules_s / flat_s:.2f}× | ≤ {goal}× |"
        )


if __name__ == "__main__":
    main()
