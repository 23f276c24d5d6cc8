"""Hostile answers against every example plan: does labform end each in a named error, in time, in little memory?

For each hostile kind (providers/emulation/options.py ``HOSTILE``) and each
example plan, ``labform sandbox --failure-rate 1 --failure-kinds KIND`` serves
the plan's clouds, every answer hostile, and ``labform plan`` then
``labform apply`` run on a copy of the plan whose provider blocks carry small
limits (``--timeout``, ``--operation-timeout``), so a slow answer costs seconds,
not minutes. Printed per kind x plan: the exit codes, how many outputs were an
internal error or a traceback, the slowest command's seconds, and the peak RSS
of the labform processes (ru_maxrss, read in the process itself).

    python bench/hostile_answers.py [--kinds slow-body,huge-body] [--plans bitbar-ci] [--timeout 0.5] [--operation-timeout 2]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ruamel.yaml import YAML

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sandbox_harness import (  # noqa: E402
    CRASH_MARKERS,
    ROOT,
    SandboxProcess,
    cli_environment,
    copy_examples,
    plan_clouds,
    plan_environment,
    plan_files,
)
from labform.providers import registry  # noqa: E402
from labform.providers.emulation.options import HOSTILE  # noqa: E402

# An error naming the cloud: the CLI's "Error: bitbar: ...", or an apply summary's "failed: bitbar: ...".
NAMED = re.compile(r"(Error|failed): (" + "|".join(registry.provider_names()) + r"): ")
# Runs the CLI and writes its peak RSS (KiB) to the file named first, whatever way it exits.
_MEASURED = (
    "import atexit, resource, runpy, sys; out = sys.argv.pop(1); "
    "atexit.register(lambda: open(out, 'w').write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))); "
    "sys.argv[0] = 'engine'; runpy.run_module('labform.engine', run_name='__main__', alter_sys=True)"
)


def with_limits(plan: Path, timeout: float, operation_timeout: float) -> None:
    """Each provider block of the plan's files gets the small limits."""
    yaml = YAML()
    for path in plan_files(plan):
        document = yaml.load(path)
        for block in (document.get("providers") or {}).values():
            block["timeout"], block["operation_timeout"] = timeout, f"{operation_timeout}s"
        yaml.dump(document, path)


def run(args: list[str], cwd: Path, environment: dict[str, str], limit: float) -> tuple[int, str, float, float]:
    """(exit code, output, seconds, peak RSS MiB) of one labform command."""
    with tempfile.NamedTemporaryFile(suffix=".rss") as rss:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", _MEASURED, rss.name, *args],
            cwd=cwd,
            env=cli_environment(environment),
            capture_output=True,
            text=True,
            timeout=limit,
        )
        took = time.monotonic() - started
        peak = int(Path(rss.name).read_text() or 0) / 1024
    return done.returncode, done.stdout + done.stderr, took, peak


def trial(kind: str, name: str, options: argparse.Namespace, folder: Path) -> dict[str, object]:
    root = copy_examples(folder / f"{kind}-{name}")
    plan = root / "plans" / name
    with_limits(plan, options.timeout, options.operation_timeout)
    flags = ["--failure-rate", "1", "--failure-kinds", kind, "--seed", "3", "--job-seconds", "1"]
    for cloud in sorted(plan_clouds(plan)):
        flags += ["--only", cloud]
    with SandboxProcess(folder / f"{kind}-{name}-data", *flags) as sandbox:
        environment = plan_environment(plan, sandbox)
        results = [
            run(command, root, environment, options.command_limit)
            for command in (["plan", str(plan)], ["apply", str(plan), "--auto-approve"])
        ]
    return {
        "kind": kind,
        "plan": name,
        "exit": "/".join(str(code) for code, *_ in results),
        "internal": sum(any(marker in output for marker in CRASH_MARKERS) for _, output, *_ in results),
        "named": sum(bool(NAMED.search(output)) for _, output, *_ in results),
        "slowest_s": round(max(took for *_, took, _ in results), 2),
        "peak_rss_mib": round(max(peak for *_, peak in results), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default=",".join(HOSTILE))
    parser.add_argument(
        "--plans", default=",".join(sorted(p.parent.name for p in (ROOT / "plans").glob("*/main.yaml")))
    )
    parser.add_argument("--timeout", type=float, default=0.5, help="each attempt's deadline, seconds")
    parser.add_argument("--operation-timeout", type=float, default=2.0, help="each call's deadline, seconds")
    parser.add_argument("--command-limit", type=float, default=600.0, help="kill a command after this long")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for kind in options.kinds.split(","):
            for name in options.plans.split(","):
                rows.append(trial(kind, name, options, Path(folder)))
                print(json.dumps(rows[-1]), flush=True)
    print(
        "\n| kind | plan | exit (plan/apply) | internal errors | outputs naming the cloud | slowest s | peak RSS MiB |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(str(row[key]) for key in row) + " |")


if __name__ == "__main__":
    main()
