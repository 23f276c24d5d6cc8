"""Options as Terraform pipelines write them: one dash, ``=value``, -chdir, -input/-lock, fmt -diff -recursive.

Every test goes through the public CLI (click's runner, the one ``labform`` uses, or
its own process on a pseudo-terminal) against the Bitbar emulator on loopback, as a
user's CI or shell would.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import pytest

from tests.conftest import BITBAR_PROVIDER

PLAN = (
    BITBAR_PROVIDER
    + """
resources:
  bitbar_project.checkout:
    name: Checkout flow
    type: ANDROID
  bitbar_project.search:
    name: Search
    type: ANDROID
"""
)
MESSY = "resources:\n    bitbar_project.a:   # the project\n        name: a\n        type: ANDROID\n"


@pytest.mark.parametrize(
    ("command", "typed", "meant"),
    [
        ("plan", "-sandbx", "-sandbox"),
        ("plan", "--sandbx", "--sandbox"),
        ("apply", "-auto-aprove", "-auto-approve"),
        ("apply", "--auto-aprove", "--auto-approve"),
        ("plan", "-detailed-exitcod", "-detailed-exitcode"),
        ("plan", "-parallelsim=4", "-parallelism"),
    ],
)
def test_a_mistyped_option_gets_did_you_mean_in_the_spelling_typed(workdir, command, typed, meant):
    result = workdir.run(command, str(workdir.path), typed)
    assert result.exit_code == 1 and result.exception is None
    assert f"No such option '{typed.partition('=')[0]}'. Did you mean '{meant}'?" in result.stderr


def test_pipeline_options_are_accepted_and_the_ignored_ones_say_so(bitbar, workdir):
    """-input=false and -lock=false change nothing (a note each on stderr); -refresh=false, -no-color and
    -compact-warnings work as in Terraform; the plan is the one a plain `plan` makes."""
    workdir.write(PLAN)
    plain = workdir.plan("-detailed-exitcode")
    piped = workdir.plan(
        "-input=false", "-lock=false", "-refresh=false", "-no-color", "-compact-warnings", "-detailed-exitcode"
    )
    assert plain.exit_code == piped.exit_code == 2, piped.output
    assert piped.stdout == plain.stdout
    assert "Note: -input has no effect here: labform never prompts for variables" in piped.stderr
    assert "Note: -lock=false has no effect: labform always holds the state lock" in piped.stderr
    assert "Note:" not in plain.stderr
    assert workdir.plan("-lock=true", "-detailed-exitcode").stderr == ""  # the lock kept: nothing to note
    applied = workdir.run("apply", str(workdir.path), "-input=false", "-auto-approve")
    assert applied.exit_code == 0 and "Apply complete!" in applied.stdout
    assert "Note: -input has no effect here" in applied.stderr  # -auto-approve asks nothing already


def on_terminal(*args: str, seconds: float = 30, until: bytes | None = None) -> tuple[int, str]:
    """labform in its own process on a pseudo-terminal, given no answer: its exit code and screen.
    A prompt would wait for one: the process is stopped once ``until`` shows, or after ``seconds``."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "labform.engine", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "NO_COLOR": "1"},
    )
    os.close(follower)
    seen, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline:
        if select.select([leader], [], [], 0.2)[0]:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # Linux: the process closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if until is not None and until in seen:
                break
        elif process.poll() is not None:
            break
    if process.poll() is None:
        process.kill()
    code = process.wait(timeout=30)
    os.close(leader)
    return code, seen.decode(errors="replace")


def test_input_false_on_a_terminal_never_asks_for_approval(bitbar, workdir):
    """-input=false means "do not ask", on a terminal too: apply and destroy refuse (exit 1, nothing
    changed) instead of prompting, unless -auto-approve is given; without it a terminal still asks."""
    workdir.write(PLAN)
    code, screen = on_terminal("apply", str(workdir.path), "-input=false")
    assert code == 1, screen
    assert "Error: apply needs approval, and -input=false says not to ask for it: run with -auto-approve" in screen
    assert "Only 'yes' will be accepted" not in screen and "Traceback" not in screen
    assert [r for r in bitbar.app.log.all() if r.method != "GET"] == []
    code, screen = on_terminal("apply", str(workdir.path), "-input=true", until=b"Only 'yes' will be accepted")
    assert "Only 'yes' will be accepted" in screen and "-input" not in screen, screen  # it asks, as without -input
    assert [r for r in bitbar.app.log.all() if r.method != "GET"] == []

    code, screen = on_terminal("apply", str(workdir.path), "-input=false", "-auto-approve")
    assert code == 0 and "Apply complete! Resources: 2 added" in screen, screen

    code, screen = on_terminal("destroy", str(workdir.path), "-input=false")
    assert code == 1 and "Error: destroy needs approval, and -input=false says not to ask for it" in screen, screen
    assert [r for r in bitbar.app.log.all() if r.method == "DELETE"] == []


def test_input_false_without_a_terminal_refuses_as_before(bitbar, workdir):
    """In CI (no terminal) nothing changes: apply without -auto-approve refuses for want of a terminal."""
    workdir.write(PLAN)
    refused = workdir.run("apply", str(workdir.path), "-input=false", input="")
    assert refused.exit_code == 1 and "needs approval but standard input is not a terminal" in refused.stderr
    assert all(r.method == "GET" for r in bitbar.app.log.all())


def test_a_flag_takes_go_style_true_or_false(bitbar, workdir):
    """-auto-approve=true approves; -auto-approve=false is no approval (a pipe cannot give one); -json=true is -json."""
    workdir.write(PLAN)
    refused = workdir.run("apply", str(workdir.path), "-auto-approve=false", input="")
    assert refused.exit_code == 1 and "needs approval but standard input is not a terminal" in refused.stderr
    assert all(r.method == "GET" for r in bitbar.app.log.all())  # nothing changed remotely
    assert workdir.run("apply", str(workdir.path), "-auto-approve=true").exit_code == 0
    assert workdir.run("output", str(workdir.path), "-json=true").stdout.strip() == "{}"
    odd = workdir.run("apply", str(workdir.path), "-auto-approve=maybe")
    assert odd.exit_code == 1 and "does not take a value" in odd.stderr


def test_compact_warnings_print_the_summary_line_alone(bitbar, workdir):
    workdir.write(PLAN)
    whole = workdir.plan("-target", "bitbar_project.checkout")
    compact = workdir.plan("-target", "bitbar_project.checkout", "-compact-warnings")
    assert "The -target option is not for routine use" in whole.stderr
    assert compact.stderr.strip() == "Warning: Resource targeting is in effect"
    assert compact.stdout == whole.stdout


def test_chdir_before_the_command_runs_it_from_that_folder(bitbar, workdir, tmp_path, monkeypatch):
    """-chdir=DIR: the plan, its state and the files it names are read from DIR, as Terraform's."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # restored after the test, whatever -chdir did
    workdir.write(PLAN)
    applied = workdir.run(f"-chdir={workdir.path}", "apply", "-auto-approve")
    assert applied.exit_code == 0, applied.output
    assert workdir.state_file.exists() and not (elsewhere / "labform.state.json").exists()
    again = workdir.run("-chdir", str(workdir.path), "plan", "-detailed-exitcode")
    assert again.exit_code == 0 and "No changes." in again.stdout


def test_chdir_to_a_missing_folder_or_after_the_command_is_a_plain_error(workdir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = workdir.run(f"-chdir={tmp_path / 'nowhere'}", "plan")
    assert missing.exit_code == 1 and missing.exception is None and "does not exist" in missing.stderr
    late = workdir.run("plan", f"-chdir={tmp_path}")
    assert late.exit_code == 1
    assert "-chdir goes before the command, as in Terraform: labform -chdir=... plan" in late.stderr


def test_fmt_diff_recursive_check_reports_every_folder_and_changes_nothing(workdir):
    """fmt -check -diff -recursive: the files below too, each with a unified diff, exit 3, nothing written;
    fmt -recursive then rewrites them all; without -recursive only PATH's own files are read."""
    top = workdir.write(MESSY)
    (workdir.path / "team" / "nested").mkdir(parents=True)
    below = workdir.path / "team" / "nested" / "main.yaml"
    below.write_text(MESSY)
    (workdir.path / ".hidden").mkdir()
    hidden = workdir.path / ".hidden" / "main.yaml"
    hidden.write_text(MESSY)

    checked = workdir.run("fmt", str(workdir.path), "-check", "-diff", "-recursive")
    assert checked.exit_code == 3, checked.output
    assert str(top) in checked.stdout and str(below) in checked.stdout and ".hidden" not in checked.stdout
    assert checked.stdout.count("--- old/") == 2 and checked.stdout.count("+++ new/") == 2
    assert "\n-    bitbar_project.a:   # the project\n" in checked.stdout
    assert "\n+  bitbar_project.a:     # the project\n" in checked.stdout  # the comment keeps its column
    assert top.read_text() == below.read_text() == MESSY

    only_top = workdir.run("fmt", str(workdir.path), "-check")
    assert only_top.exit_code == 3 and only_top.stdout.splitlines() == [str(top)]

    assert workdir.run("fmt", str(workdir.path), "-recursive").exit_code == 0
    assert top.read_text() == below.read_text() != MESSY and hidden.read_text() == MESSY
    assert workdir.run("fmt", str(workdir.path), "-recursive", "-check", "-diff").stdout == ""


def test_fmt_diff_prints_the_change_and_still_writes(workdir):
    plan = workdir.write(MESSY)
    shown = workdir.run("fmt", str(workdir.path), "-diff")
    assert shown.exit_code == 0 and "@@ " in shown.stdout and "+    name: a\n" in shown.stdout
    assert workdir.run("fmt", str(workdir.path), "-check").exit_code == 0 and plan.read_text() != MESSY
