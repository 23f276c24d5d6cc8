"""Commands load only what they run: --help and validate import no Starlette, uvicorn, emulator
code, HTTP client, progress bars or database driver.

Each command runs in a fresh interpreter (what a user's shell does), which
prints the names of every module it loaded when the command exits.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# Runs labform as `python -m labform.engine` would, then prints its exit code and sys.modules.
RUN_LABFORM = textwrap.dedent(
    """
    import json, runpy, sys
    sys.argv = ["labform", *sys.argv[1:]]
    try:
        runpy.run_module("labform.engine", run_name="__main__")
        code = 0
    except SystemExit as exit:
        code = exit.code or 0
    print(json.dumps({"exit": code, "modules": sorted(sys.modules)}))
    """
)

PLAN = """\
providers:
  bitbar:
    endpoint: http://127.0.0.1:9
    api_key: not-used
resources:
  bitbar_project.demo:
    name: Demo
    type: ANDROID
"""


def loaded_modules(*args: str) -> list[str]:
    """The modules a successful ``labform *args`` loaded."""
    done = subprocess.run([sys.executable, "-c", RUN_LABFORM, *args], capture_output=True, text=True, timeout=120)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["exit"] == 0, done.stderr
    return report["modules"]


def emulator_machinery(modules: list[str]) -> list[str]:
    return [name for name in modules if name.split(".")[0] in ("starlette", "uvicorn") or "emulat" in name]


def test_help_loads_no_emulator_machinery():
    """`labform --help` only parses flags: nothing of the emulators is imported."""
    assert emulator_machinery(loaded_modules("--help")) == []


def test_validate_loads_the_provider_but_no_emulator_machinery(tmp_path):
    """`labform validate` checks a Bitbar plan through the Bitbar provider without importing its emulator."""
    plan = tmp_path / "main.yaml"
    plan.write_text(PLAN)
    modules = loaded_modules("validate", str(plan))
    assert "labform.providers.bitbar.provider" in modules
    assert emulator_machinery(modules) == []


def test_help_loads_none_of_the_heavy_libraries():
    """`labform --help` loads click and the engine's small modules only: no graph library, HTTP
    client, progress bars, database driver, pydantic or YAML parser (the commands load them when run)."""
    heavy = ("networkx", "httpx", "rich", "psycopg", "pydantic", "ruamel", "starlette", "uvicorn")
    assert [name for name in loaded_modules("--help") if name.split(".")[0] in heavy] == []


def test_validate_loads_no_http_client_graph_library_progress_bars_or_database_driver(tmp_path):
    """`labform validate` sends no request, draws no bar and walks no graph: its cycle check
    runs on the standard library's graphlib, so networkx, httpx, rich and psycopg stay unloaded."""
    plan = tmp_path / "main.yaml"
    plan.write_text(PLAN)
    heavy = ("networkx", "httpx", "rich", "psycopg", "starlette", "uvicorn")
    assert [name for name in loaded_modules("validate", str(plan)) if name.split(".")[0] in heavy] == []


def test_validate_still_reports_a_cycle_with_its_path(tmp_path):
    plan = tmp_path / "main.yaml"
    plan.write_text(
        PLAN.replace("    type: ANDROID\n", "    type: ANDROID\n    description: ${bitbar_project.other.name}\n")
        + "  bitbar_project.other:\n    name: ${bitbar_project.demo.name}\n    type: ANDROID\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "labform.engine", "validate", str(plan)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert (
        "dependency cycle: bitbar_project.demo -> bitbar_project.other -> bitbar_project.demo"
        in done.stderr + done.stdout
    )


def test_validate_loads_only_the_clouds_the_plan_names(tmp_path):
    """A Bitbar plan loads the Bitbar provider and no other cloud's code."""
    plan = tmp_path / "main.yaml"
    plan.write_text(PLAN)
    clouds = {
        name.split(".")[2]
        for name in loaded_modules("validate", str(plan))
        if name.count(".") >= 3 and name.startswith("labform.providers.")
    }
    assert clouds == {"bitbar"}
