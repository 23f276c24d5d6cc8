"""The built wheel holds one import package, `labform`, and runs from outside the source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

from click.testing import CliRunner

from labform.engine.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _build_wheel(out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("labform-*.whl")
    return wheel


def test_wheel_installs_only_labform_and_runs_a_plan(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path / "dist")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.startswith("labform-")}
    assert tops == {"labform"}
    assert "labform/engine/report/templates/report.html.j2" in names

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    # Without PYTHONPATH: the source tree must not be what the venv imports.
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)]
    subprocess.run(install, env=clean, check=True, capture_output=True)

    work = tmp_path / "outside"
    shutil.copytree(ROOT / "plans" / "bitbar-quickstart", work / "plan")
    probe = subprocess.run(
        [str(python), "-c", "import labform; print(labform.__file__)"],
        cwd=work,
        env=clean,
        capture_output=True,
        text=True,
    )
    assert probe.returncode == 0, probe.stderr
    assert Path(probe.stdout.strip()).is_relative_to(env_dir)
    # The system site-packages may hold an editable install of main (top-level engine/providers): what the
    # wheel must not do is put them into the venv, so any engine/providers found must come from outside it.
    for top in ("engine", "providers"):
        find = f"import importlib.util as u; s = u.find_spec({top!r}); print(s.origin if s else '')"
        found = subprocess.run(
            [str(python), "-c", find], cwd=work, env=clean, check=True, capture_output=True, text=True
        )
        assert not Path(found.stdout.strip() or "/").is_relative_to(env_dir), top

    command = env_dir / "bin" / "labform"
    ran = subprocess.run([str(command), "validate", "plan"], cwd=work, env=clean, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    planned = subprocess.run(
        [str(command), "plan", "plan", "--sandbox"], cwd=work, env=clean, capture_output=True, text=True
    )
    assert planned.returncode in (0, 2), planned.stderr
    assert "to add" in planned.stdout


def test_cli_in_process_loads_no_top_level_engine_or_providers() -> None:
    result = CliRunner().invoke(main, ["validate", str(ROOT / "plans" / "bitbar-quickstart")])
    assert result.exit_code == 0, result.output
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("engine", "providers"))
    assert loaded == []
