"""What ``${...}`` expressions cost: µs per compile+eval and per cached eval, and the share they
add to planning 5,000 resources that each use one (issue 19's goal: at most 10%).

Planning runs in this process against the engine tests' in-memory cloud
(tests/engine/memory_provider.py), so the figure is the engine's own time, no
HTTP. Four plans of 5,000 new ``memory_thing`` blocks are timed, round by round
(A B C D A B C D ...): each block's ``note`` a plain value; a plain reference to
another block (today's form: the same graph as the expressions, no CEL); one
expression written the same in every block (compiled once, evaluated 5,000
times); an expression whose text differs per block (5,000 compiles: the worst
case). The added share is against the plain reference, the plan that differs
from the expression's by the expression alone.

    python bench/expressions.py            # [BLOCKS] [ROUNDS], default 5000 3
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from labform.engine import runner  # noqa: E402
from labform.engine.expressions import library  # noqa: E402
from labform.engine.expressions.template import parse_template  # noqa: E402
from labform.engine.planner import PlanOptions  # noqa: E402
from labform.engine.references import substitute  # noqa: E402
from labform.providers import registry  # noqa: E402
from tests.engine import memory_provider  # noqa: E402

BASELINE = "a plain reference (today's form)"
NOTES = {
    "a plain value": lambda i: f"note {i}",
    BASELINE: lambda i: "${memory_thing.root.name}",
    "one expression, the same text in every block": lambda i: (
        '${memory_thing.root.name == "root" ? "n-" + memory_thing.root.name : "none"}'
    ),
    "one expression, a different text in each block": lambda i: (
        f'${{memory_thing.root.name == "root" ? "n{i}-" + memory_thing.root.name : "none"}}'
    ),
}


def micro(count: int = 20_000) -> tuple[float, float, float]:
    """µs per (compile + eval of a new text, through the template layer), per (eval of a text
    already compiled), and per compile + eval calling the library directly."""
    values = {"env": "prod"}

    def lookup(ref):
        return values[ref.name]

    substitute('${var.env == "prod" ? 5 : 1}', lookup)  # the library loaded outside the timing
    texts = [f'${{var.env == "prod" ? {i} : 1}}' for i in range(count)]
    started = time.process_time()
    for text in texts:
        substitute(text, lookup)
    fresh = (time.process_time() - started) / count * 1e6
    started = time.process_time()
    for _ in range(count):
        substitute(texts[0], lookup)
    cached = (time.process_time() - started) / count * 1e6
    compile_raw = library.compiled.__wrapped__
    started = time.process_time()
    for i in range(count):
        compile_raw(f'_r0 == "prod" ? {i + count} : 1').execute({"_r0": "prod"})
    raw = (time.process_time() - started) / count * 1e6
    return fresh, cached, raw


def plan_text(blocks: int, note: Callable[[int], str]) -> str:
    lines = ["resources:", "  memory_thing.root:", "    name: root"]
    for i in range(blocks):
        lines += [f"  memory_thing.t{i}:", f"    name: t{i}", f"    note: '{note(i)}'"]
    return "\n".join(lines) + "\n"


def plan_seconds(folder: Path, store: memory_provider.MemoryStore, body: str) -> float:
    """One plan of a fresh command: parse and compile caches emptied first, as a new process has them."""
    (folder / "main.yaml").write_text(f"providers:\n  memory:\n    store: {store.id}\n" + body)
    parse_template.cache_clear()
    library.compiled.cache_clear()
    workspace = runner.Workspace(folder, state=str(folder.parent / "state.json"), report=lambda event: None)
    started = time.process_time()
    result = runner.plan(workspace, PlanOptions(), None)
    seconds = time.process_time() - started
    notes = [change.after["note"] for change in result.plan.changes if change.after and "note" in change.after]
    assert len(notes) == body.count("\n  memory_thing.") - 1 and "${" not in str(notes[0]), "every block planned"
    return seconds


def main() -> None:
    blocks = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    fresh, cached, raw = micro()
    print("| figure | µs |\n| --- | ---: |")
    print(f"| compile + eval of a new text (template layer, desugaring, library) | {fresh:.1f} |")
    print(f"| eval of a text already compiled (both caches hit) | {cached:.1f} |")
    print(f"| compile + eval calling the library directly | {raw:.1f} |")

    registry.register("memory", "tests.engine.memory_provider:MemoryProvider")
    store = memory_provider.new_store()
    bodies = {what: plan_text(blocks, note) for what, note in NOTES.items()}
    times: dict[str, list[float]] = {what: [] for what in NOTES}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch, "plan")
        folder.mkdir()
        plan_seconds(folder, store, bodies["a plain value"])  # warm: imports, provider, schema caches
        for _ in range(rounds):
            for what, body in bodies.items():
                times[what].append(plan_seconds(folder, store, body))
    plain = statistics.median(times[BASELINE])
    print(f"\n| plan of {blocks:,} new blocks, each note | s (median of {rounds}) | added share (goal ≤ 10%) |")
    print("| --- | ---: | ---: |")
    for what, seconds in times.items():
        share = (
            "" if what in ("a plain value", BASELINE) else f"{(statistics.median(seconds) - plain) / plain * 100:+.1f}%"
        )
        print(f"| {what} | {statistics.median(seconds):.3f} | {share} |")


if __name__ == "__main__":
    main()
