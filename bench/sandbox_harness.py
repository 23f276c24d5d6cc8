"""Drive labform as a user does: a sandbox in its own process, the CLI in others, objects counted in the emulator.

The crash and fault trials (bench/crash_trials.py, bench/fault_trials.py: run a
few times by tests/functional/test_crash_recovery.py and test_fault_convergence.py,
many times by bench/crash_stress.py and bench/fault_convergence.py) use nothing
but public commands: ``python -m labform.engine
sandbox ... --data DIR`` serves the emulators, a plan reaches them through the
environment variables its provider blocks name (as a user's CI would set
them), and what a cloud holds is read from the emulator's control endpoint
(``/_emulator/store``), which no fault touches, so counting never disturbs the
seeded fault sequence.

Duplicates are counted by natural key: two remote objects with the same key
(a project's name, a group's name, the run of a project, an upload's hash)
are one object made twice. Every example plan starts at most one run per
project, so a project's runs are keyed by the project.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from ruamel.yaml import YAML

from labform.providers.emulation import CONTROL_PREFIX
from labform.providers.emulation.app import INSPECTION_HEADER

ROOT = Path(__file__).resolve().parents[1]
PLANS = ROOT / "plans"
_ENV_REFERENCE = re.compile(r"^\$\{env\.(\w+)(?::-[^}]*)?\}$")
# What a failure report keeps of labform's output: errors, faults met and the verdict; of a plan's, what it would change.
_KEY_LINE = re.compile(
    r"[Ee]rror|(?<!_)failed|fault|Traceback|refus|locked|natural key|recovered|^Apply|^Destroy|Skipped"
)
_PLAN_LINE = re.compile(_KEY_LINE.pattern + r"|^\s*# \S+ (will|must)|^Plan:")
# The markers of a traceback or an unexpected exception in labform's output.
CRASH_MARKERS = ("internal error", "Traceback (most recent call last)")


@dataclass(frozen=True)
class Served:
    """One cloud's emulator in the sandbox process: its URL and the provider settings that reach it."""

    url: str
    settings: dict[str, Any]
    token: str = ""  # the sandbox's inspection token, which its control endpoints ask for

    def _control(self, path: str) -> Any:
        return httpx.get(self.url + CONTROL_PREFIX + path, headers={INSPECTION_HEADER: self.token}, timeout=10).json()

    def store(self) -> dict[str, Any]:
        """Everything the emulator holds, read past its fault injection."""
        return self._control("/store")

    def requests(self) -> list[dict[str, Any]]:
        """Every request the emulator answered: method, path, status, and monotonic start and finish."""
        return self._control("/requests")


class SandboxProcess:
    """``labform sandbox`` with the given flags, in a process of its own, while the ``with`` block runs."""

    def __init__(self, data_dir: Path, *flags: str):
        self.data_dir = data_dir
        self.command = [sys.executable, "-m", "labform.engine", "sandbox", "--data", str(data_dir), *flags]
        self.clouds: dict[str, Served] = {}

    def __enter__(self) -> SandboxProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        errors = open(self.data_dir / "sandbox.stderr", "w")
        self._process = subprocess.Popen(
            self.command, cwd=ROOT, env=cli_environment({}), stdout=subprocess.PIPE, stderr=errors, text=True
        )
        errors.close()
        token = ""
        for line in iter(self._process.stdout.readline, ""):
            if line.startswith("Serving"):
                self.clouds = {cloud: replace(served, token=token) for cloud, served in self.clouds.items()}
                return self
            if line.startswith("Inspection: token "):
                token = line.split()[2]
                continue
            cloud, url, _, settings = line.split(None, 3)
            self.clouds[cloud] = Served(url, json.loads(settings))
        self.__exit__()
        raise RuntimeError(
            f"the sandbox did not start: {' '.join(self.command)}\n{(self.data_dir / 'sandbox.stderr').read_text()}"
        )

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
        self._process.stdout.close()


def copy_examples(target: Path) -> Path:
    """The example plans and their apps, as shipped (no state, sandbox data or reports), under ``target``."""
    shutil.copytree(
        PLANS,
        target / "plans",
        ignore=shutil.ignore_patterns("*.state.json*", "*.state.sandbox", "*.sandbox", "*.lock", "reports"),
    )
    return target


def plan_files(plan: Path) -> list[Path]:
    return sorted(plan.glob("*.yaml")) if plan.is_dir() else [plan]


def _providers(path: Path) -> dict[str, Any]:
    return (YAML(typ="safe").load(path) or {}).get("providers") or {}


def plan_clouds(plan: Path) -> set[str]:
    return {name for path in plan_files(plan) for name in _providers(path)}


def plan_environment(plan: Path, sandbox: SandboxProcess) -> dict[str, str]:
    """The variables the plan's provider blocks read (``${env.X}``), set to the sandbox's settings."""
    environment = {}
    for path in plan_files(plan):
        for cloud, block in _providers(path).items():
            served = sandbox.clouds.get(cloud)
            for key, value in (block or {}).items():
                match = _ENV_REFERENCE.match(str(value))
                if served and match and key in served.settings:
                    environment[match.group(1)] = str(served.settings[key])
    return environment


@dataclass
class Outcome:
    command: list[str]
    exit_code: int
    output: str

    def crashed(self) -> bool:
        return any(marker in self.output for marker in CRASH_MARKERS)

    def key_lines(self, count: int = 16) -> str:
        """The lines that say what went wrong, for an assertion message or a report (a plan's also say what it would change)."""
        pattern = _PLAN_LINE if self.command[0] == "plan" else _KEY_LINE
        keep = [line for line in self.output.splitlines() if pattern.search(line)]
        return f"$ labform {' '.join(self.command)}  (exit {self.exit_code})\n" + "\n".join(keep[-count:])


@dataclass(kw_only=True)
class Trial:
    """What one harness trial found: whether the lock was left behind, tracebacks, and each problem with labform's key lines."""

    lock_left: bool = False
    tracebacks: int = 0
    problems: list[str] = field(default_factory=list)

    def note(self, outcome: Outcome, ok: bool, what: str) -> bool:
        """Whether ``outcome`` is ``ok`` and printed no traceback; if not, keep its key lines."""
        self.lock_left |= " is locked: " in outcome.output
        if outcome.crashed():
            self.tracebacks += 1
            ok = False
        if not ok:
            self.problems.append(f"{what}\n{outcome.key_lines()}")
        return ok


def labform(args: Iterable[str], cwd: Path, environment: dict[str, str], timeout: float = 120) -> Outcome:
    """Run the public CLI (``python -m labform.engine``) and collect its exit code and output (stdout and stderr)."""
    args = list(args)
    done = subprocess.run(
        [sys.executable, "-m", "labform.engine", *args],
        cwd=cwd,
        env=cli_environment(environment),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Outcome(args, done.returncode, done.stdout + done.stderr)


def start_labform(args: Iterable[str], cwd: Path, environment: dict[str, str]) -> subprocess.Popen:
    """The CLI in a process the caller may SIGKILL, its progress (stdout) readable as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "labform.engine", *args],
        cwd=cwd,
        env=cli_environment(environment),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def cli_environment(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without any cloud's endpoint or key or sandbox setting, plus ``extra``;
    tracebacks shown (LABFORM_DEBUG)."""
    outside = ("BITBAR_", "WETEST_", "APPTEST_", "KYARABEN_", "PERFECTO_", "LABFORM_SANDBOX_")
    kept = {k: v for k, v in os.environ.items() if not k.startswith(outside)}
    return kept | {"LABFORM_DEBUG": "1", "PYTHONPATH": str(ROOT)} | extra


# ---- what each cloud holds, by natural key ------------------------------------------


def _live(record: dict[str, Any]) -> bool:
    return record.get("deleted_at") is None and not record.get("removed")


def _bitbar(store: dict[str, Any]) -> Iterator[tuple]:
    yield from (("bitbar project", p["name"]) for p in store["projects"].values())
    yield from (("bitbar device group", g["displayName"]) for g in store["deviceGroups"].values() if not g["public"])
    yield from (("bitbar run of project", r["projectId"]) for r in store["runs"].values())
    yield from (("bitbar run tag", t["runId"], t["name"]) for t in store["tags"].values())
    yield from (("bitbar parameter", p["projectId"], p["key"]) for p in store["parameters"].values())
    yield from (("bitbar notification", n["project"], n["email"]) for n in store["notifications"].values())
    yield from (("bitbar sharing", s["projectId"], s["userEmail"]) for s in store["sharings"].values())


def _wetest(store: dict[str, Any]) -> Iterator[tuple]:
    yield from (("wetest app", a["project"], a["md5"]) for a in store["apps"].values())
    yield from (("wetest script", s["project"], s["size"]) for s in store["scripts"].values())
    yield from (("wetest test of project", t["project"]) for t in store["tests"].values())


def _apptest(store: dict[str, Any]) -> Iterator[tuple]:
    yield from (("apptest testset", t["pid"], t["app"]["md5"]) for t in store["testsets"].values())


def _kyaraben(store: dict[str, Any]) -> Iterator[tuple]:
    yield from (("kyaraben project", p["project_name"]) for p in store["projects"].values() if _live(p))
    yield from (
        ("kyaraben apk", a["project_id"], a["filename"], a["testsource_id"]) for a in store["apks"].values() if _live(a)
    )
    yield from (
        ("kyaraben test source", s["project_id"], s["filename"]) for s in store["testsources"].values() if _live(s)
    )
    yield from (
        ("kyaraben vm", v["project_id"], v["avm_name"])
        for v in store["avms"].values()
        if _live(v) and not v["campaign_id"]
    )
    yield from (("kyaraben campaign of project", c["project_id"]) for c in store["campaigns"].values() if _live(c))


INVENTORIES: dict[str, Callable[[dict[str, Any]], Iterator[tuple]]] = {
    "bitbar": _bitbar,
    "wetest": _wetest,
    "apptest": _apptest,
    "kyaraben": _kyaraben,
}


def inventory(cloud: str, store: dict[str, Any]) -> Counter:
    """How many remote objects the emulator holds under each natural key."""
    return Counter(INVENTORIES[cloud](store))


def duplicates(held: Counter) -> dict[tuple, int]:
    """The keys held more than once, with how many copies beyond the first."""
    return {key: count - 1 for key, count in held.items() if count > 1}
