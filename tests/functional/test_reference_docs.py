"""The generated reference (docs/resources/*.md, docs/exit-codes.md) is current, and the CLI documents itself.

Like the schema check, a stale page fails here: run ``python -m labform.engine.reference_docs``
after changing a type's arguments or an exit code. The CLI's own documentation
(help on every command and option, shell completion as the README says) is
checked through the click tree and the completion protocol.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from labform.engine import exit_codes
from labform.engine.cli import main
from labform.engine.reference_docs import pages
from labform.providers import registry

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def generator(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labform.engine.reference_docs", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_committed_reference_is_current():
    """Run 'python -m labform.engine.reference_docs' after changing a type's arguments or an exit code; this says when it was forgotten."""
    checked = generator("--check")
    assert checked.returncode == 0, checked.stderr


def test_a_stale_missing_or_left_over_page_is_named_and_written_again(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    (docs / "resources" / "bitbar_run.md").write_text("# bitbar_run\n\nold text\n")
    (docs / "resources" / "wetest_app.md").unlink()
    (docs / "resources" / "bitbar_gone.md").write_text("# a type no provider has any more\n")
    (docs / "exit-codes.md").write_text("| 0 | ok |\n")
    checked = generator("--check", "--out", str(docs))
    assert checked.returncode == 1
    named = sorted(re.findall(r"docs/(\S+) is not current", checked.stderr))
    assert named == ["exit-codes.md", "resources/bitbar_gone.md", "resources/bitbar_run.md", "resources/wetest_app.md"]
    assert generator("--out", str(docs)).returncode == 0
    assert not (docs / "resources" / "bitbar_gone.md").exists()
    assert generator("--check", "--out", str(docs)).returncode == 0


def test_one_page_per_type_with_every_argument_and_the_same_text_each_time():
    generated = pages()
    assert generated == pages()
    kinds = {**registry.resource_types(), **registry.data_sources()}
    assert {path for path in generated if path.startswith("resources/") and path != "resources/README.md"} == {
        f"resources/{name}.md" for name in kinds
    }
    for name, kind in kinds.items():
        page = generated[f"resources/{name}.md"]
        assert page.startswith(f"# {name}\n")
        for argument in kind.Args.model_fields:
            assert re.search(rf"^\| `{argument}` \|", page, re.M), f"{name}.{argument} is not on its page"
        assert all(f"`{attribute}`" in page for attribute in kind.computed), name
        assert f"[`{name}`]({name}.md)" in generated["resources/README.md"]
    run = generated["resources/bitbar_run.md"]
    assert "| `project` | number | required |" in run and "Changing it replaces the object." in run
    assert "### `gate`" in run and "| `min_success_ratio` | number | optional |" in run
    assert "Sensitive: never printed" in generated["resources/apptest_testset.md"]


def test_the_exit_code_table_is_the_one_the_cli_uses():
    table = pages()["exit-codes.md"]
    codes = [int(code) for code in re.findall(r"^\| `(\d+)` \|", table, re.M)]
    assert codes == [0, 1, 2, 3, 130, 143] == [row.code for row in exit_codes.TABLE]
    assert "docs/exit-codes.md" in (ROOT / "README.md").read_text()


def commands(command: click.Command, path: str = "labform"):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from commands(sub, f"{path} {name}")


@pytest.mark.parametrize(("path", "command"), list(commands(main)), ids=lambda value: str(value))
def test_every_command_and_option_has_help_text(path, command):
    assert (command.help or "").strip(), f"'{path}' has no help text"
    for param in command.params:
        if isinstance(param, click.Option):
            assert (param.help or "").strip(), f"'{path}' option {param.opts[0]} has no help text"


def completions(words: str) -> list[str]:
    """What bash completion offers for ``words`` (the line typed so far), through click's protocol."""
    typed = words.split()
    current = len(typed) - (0 if words.endswith(" ") else 1)
    result = CliRunner().invoke(
        main,
        [],
        prog_name="labform",
        env={"_LABFORM_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(current)},
    )
    assert result.exit_code == 0, result.output
    return [line.split(",", 1)[1] for line in result.stdout.splitlines()]


def test_shell_completion_works_as_the_readme_says():
    readme = (ROOT / "README.md").read_text()
    assert 'eval "$(_LABFORM_COMPLETE=bash_source labform)"' in readme
    assert "plan" in completions("labform pl")
    assert {"schema"} == set(completions("labform providers sch"))
    assert "--detailed-exitcode" in completions("labform plan --detailed")
    assert "--test-failure-share" in completions("labform apply --test-fail")
