"""labform fmt: one canonical layout, comments kept, idempotent; --check reports without writing."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from labform.engine.errors import ConfigError
from labform.engine.fmt import format_files

ROOT = Path(__file__).resolve().parents[2]

MESSY = """\
# yaml-language-server: $schema=../schemas/labform.schema.json
providers:
    bitbar:
        endpoint:   ${env.BITBAR_URL}   # where the API is
        api_key: ${env.BITBAR_API_KEY}

resources:
    bitbar_device_group.smoke:
        name: "Smoke phones"
        os_type: 'ANDROID'
        devices: [337,304]                # membership is diffed
    bitbar_run.nightly:
        project: ${bitbar_project.checkout.id}
        triggers:
        - ${bitbar_file.app.sha256}
        wait: {timeout: 30m,poll: 10s}
        value: "true"
        notes: |
          first line

          third line


"""

CANONICAL = """\
# yaml-language-server: $schema=../schemas/labform.schema.json
providers:
  bitbar:
    endpoint: ${env.BITBAR_URL}         # where the API is
    api_key: ${env.BITBAR_API_KEY}

resources:
  bitbar_device_group.smoke:
    name: "Smoke phones"
    os_type: 'ANDROID'
    devices: [337, 304]                   # membership is diffed
  bitbar_run.nightly:
    project: ${bitbar_project.checkout.id}
    triggers:
      - ${bitbar_file.app.sha256}
    wait: {timeout: 30m, poll: 10s}
    value: "true"
    notes: |
      first line

      third line
"""


def values(path: Path):
    return YAML(typ="safe", pure=True).load(path.read_text())


@pytest.fixture
def messy(tmp_path) -> Path:
    plan = tmp_path / "main.yaml"
    plan.write_text(MESSY)
    return plan


def test_a_file_is_rewritten_in_the_canonical_layout_with_its_comments(messy):
    """Indentation and spacing change; comments (in their column), blank lines, quotes and flow style stay."""
    before = values(messy)
    assert format_files(messy) == [messy]
    assert messy.read_text() == CANONICAL
    assert values(messy) == before


def test_formatting_twice_changes_nothing_more(messy):
    format_files(messy)
    assert format_files(messy) == []
    assert messy.read_text() == CANONICAL


def test_check_lists_the_file_and_writes_nothing(messy):
    assert format_files(messy, check=True) == [messy]
    assert messy.read_text() == MESSY


def test_a_folder_formats_its_plan_files_only(tmp_path):
    (tmp_path / "a.yaml").write_text(MESSY)
    (tmp_path / "b.yml").write_text(CANONICAL)
    (tmp_path / "notes.txt").write_text("left:    alone\n")
    assert format_files(tmp_path, check=True) == [tmp_path / "a.yaml"]
    assert format_files(tmp_path) == [tmp_path / "a.yaml"]
    assert (tmp_path / "a.yaml").read_text() == CANONICAL
    assert (tmp_path / "notes.txt").read_text() == "left:    alone\n"


def test_a_kept_block_scalar_at_the_end_keeps_its_blank_lines(tmp_path):
    plan = tmp_path / "main.yaml"
    plan.write_text("variables:\n  banner: |+\n    hello\n\n\n")
    before = values(plan)
    format_files(plan)
    assert values(plan) == before


def test_invalid_yaml_is_an_error_at_its_line_and_nothing_is_written(tmp_path):
    (tmp_path / "a.yaml").write_text(MESSY)
    (tmp_path / "b.yaml").write_text(
        textwrap.dedent("""\
        resources:
          bitbar_project.x: {name: a
    """)
    )
    with pytest.raises(ConfigError, match=r"b\.yaml:\d+:\d+"):
        format_files(tmp_path)
    assert (tmp_path / "a.yaml").read_text() == MESSY


@pytest.mark.parametrize("example", sorted({p.parent for p in (ROOT / "plans").rglob("*.yaml")}), ids=lambda p: p.name)
def test_the_example_plans_are_already_formatted(example):
    assert format_files(example, check=True) == []


def test_composition_sections_are_kept_as_written(tmp_path):
    """for_each, count, locals, modules, moved and removed come out of fmt meaning the same, in the layout."""
    messy = textwrap.dedent(
        """\
        locals:
            apps:   [checkout,search]
        resources:
            bitbar_project.app:
                for_each: ${local.apps}
                name: ${each.key}
                type: ANDROID
            bitbar_config_parameter.retry:
                count:  2
                project: '${bitbar_project.app["checkout"].id}'
                key: r${count.index}
                value: "1"
        modules:
            ci:
                source: ./modules/app
                for_each: ${local.apps}
                inputs: {app: "${each.key}",  project: '${bitbar_project.app[each.key].id}'}
        moved:
        -   from: bitbar_project.shop
            to: bitbar_project.app["checkout"]
        removed:
        -   from: bitbar_project.old
            lifecycle: {destroy: false}
        """
    )
    plan = tmp_path / "main.yaml"
    plan.write_text(messy)
    assert format_files(tmp_path) == [plan]
    yaml = YAML(typ="safe")
    assert yaml.load(plan.read_text()) == yaml.load(messy)
    assert "  ci:\n    source: ./modules/app\n" in plan.read_text()
    assert 'moved:\n  - from: bitbar_project.shop\n    to: bitbar_project.app["checkout"]\n' in plan.read_text()
    assert format_files(tmp_path, check=True) == []
