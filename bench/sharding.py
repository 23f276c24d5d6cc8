"""Sharding by recorded durations (engine/history/sharding.py): how balanced LPT's shards are (issue 20).

    PYTHONPATH=. python bench/sharding.py            # [SEEDS] [UNITS] [SHARDS], default 100 200 4

Per seed: UNITS durations drawn log-normal (mu 0, sigma 1), the whole draw made
again until no unit is over 5% of the total; split into SHARDS shards. Goals:
makespan (the longest shard) <= 1.1 x total/SHARDS, slowest <= 1.15 x fastest,
in every seed; the same inputs give the same shards.
"""

from __future__ import annotations

import random
import statistics
import sys

from labform.engine.history.sharding import split


def durations(seed: int, units: int) -> dict[str, float]:
    rng = random.Random(seed)
    while True:
        drawn = [rng.lognormvariate(0.0, 1.0) for _ in range(units)]
        if max(drawn) <= 0.05 * sum(drawn):
            return {f"com.app.Test{i:03d}": seconds * 60 for i, seconds in enumerate(drawn)}


def main(seeds: int = 100, units: int = 200, shards: int = 4) -> int:
    makespans, spreads, repeatable = [], [], 0
    for seed in range(seeds):
        known = durations(seed, units)
        plan = split(list(known), known, shards=shards)
        times = [s.expected for s in plan.shards]
        makespans.append(max(times) / (sum(known.values()) / shards))
        spreads.append(max(times) / min(times))
        repeatable += split(sorted(known, reverse=True), known, shards=shards) == plan
    worst_makespan, worst_spread = max(makespans), max(spreads)
    print(f"| {units} units, {shards} shards, {seeds} seeds | goal | median | worst | met |")
    print("| --- | ---: | ---: | ---: | --- |")
    print(
        f"| makespan / (total / {shards}) | <= 1.10 | {statistics.median(makespans):.4f} | {worst_makespan:.4f} |"
        f" {'yes' if worst_makespan <= 1.1 else '**no**'} |"
    )
    print(
        f"| slowest / fastest shard | <= 1.15 | {statistics.median(spreads):.4f} | {worst_spread:.4f} |"
        f" {'yes' if worst_spread <= 1.15 else '**no**'} |"
    )
    print(
        f"| same shards from the units in reverse order | all | | {repeatable}/{seeds} | {'yes' if repeatable == seeds else '**no**'} |"
    )
    return 0 if worst_makespan <= 1.1 and worst_spread <= 1.15 and repeatable == seeds else 1


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:])))
