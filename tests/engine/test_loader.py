"""Loading plan files: plain data with the file:line:column of every key, and errors that point there."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

from labform.engine.config import load_config
from labform.engine.errors import ConfigError, ConfigErrors, SourceLocation
from labform.engine.loader import load


@pytest.fixture
def plan_file(tmp_path):
    """Write one plan file (text starts on line 1) and return its path."""

    def write(text: str, name: str = "main.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return write


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as error:
        load_config(path)
    return str(error.value)


# --- YAML and sections (labform.engine.loader) -----------------------------------------
def test_every_key_and_list_item_keeps_its_position(plan_file):
    """Positions map a key path to file:line:column, list items included; a missing path falls back to its parent."""
    path = plan_file("""
        resources:
          memory_thing.web:
            name: web
            tags:
              - a
              - b
    """)
    loaded = load(path)
    where = loaded.positions
    assert where.of(("resources", "memory_thing.web")) == SourceLocation(str(path), 2, 3)
    assert where.of(("resources", "memory_thing.web", "name")) == SourceLocation(str(path), 3, 5)
    assert where.of(("resources", "memory_thing.web", "tags", 1)) == SourceLocation(str(path), 6, 9)
    assert where.of(("resources", "memory_thing.web", "size")) == SourceLocation(str(path), 2, 3)
    assert loaded.sections["resources"] == {"memory_thing.web": {"name": "web", "tags": ["a", "b"]}}


def test_invalid_yaml_is_reported_at_its_line_and_column(plan_file):
    """A YAML syntax error names the file, line and column where the parser stopped."""
    path = plan_file("""
        resources:
          memory_thing.a:
            name: a
           size: 1
    """)
    with pytest.raises(ConfigError) as error:
        load(path)
    assert str(error.value).startswith(f"{path}:4:4: invalid YAML: ")
    assert (error.value.location.line, error.value.location.column) == (4, 4)


def test_unquoted_reference_in_a_flow_list_gets_a_quoting_hint(plan_file):
    """A bare ${...} inside [...] is read by YAML as a mapping; the error says to quote it."""
    path = plan_file("""
        resources:
          memory_thing.a: {name: a}
          memory_thing.b:
            name: b
            tags: [${memory_thing.a.id}]
    """)
    with pytest.raises(ConfigError) as error:
        load(path)
    message = str(error.value)
    assert message.startswith(f"{path}:5:13: invalid YAML: ")
    assert message.endswith(' (inside [...] or {...}, quote references: ["${a.b.c}"])')


def test_unknown_section_is_an_error_at_its_key(plan_file):
    """A top-level key that is no section is refused, listing the sections there are."""
    path = plan_file("""
        resources: {}
        resource:
          x: 1
    """)
    with pytest.raises(ConfigError) as error:
        load(path)
    assert (
        str(error.value)
        == f"{path}:2:1: unknown section 'resource' (expected one of: providers, variables, locals, resources, data, modules, outputs, moved, removed, encryption)"
    )


def test_plan_file_that_is_not_a_mapping_is_refused(plan_file):
    """A plan file must be a mapping of sections, not a list."""
    path = plan_file("""
        - a
        - b
    """)
    with pytest.raises(ConfigError, match=r":1:1: a plan file must be a mapping of sections$"):
        load(path)


def test_folder_files_are_merged_and_each_file_is_hashed(tmp_path):
    """A plan folder's *.yaml files are merged in name order; other files are ignored; each file's sha256 is kept."""
    (tmp_path / "b.yaml").write_text("resources:\n  memory_thing.b: {name: b}\n")
    (tmp_path / "a.yml").write_text("resources:\n  memory_thing.a: {name: a}\nvariables:\n  x: 1\n")
    (tmp_path / "notes.txt").write_text("not a plan")
    loaded = load(tmp_path)
    assert list(loaded.sections["resources"]) == ["memory_thing.a", "memory_thing.b"]
    assert loaded.sections["variables"] == {"x": 1}
    assert loaded.file_hashes == {
        str(tmp_path / name): hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in ("a.yml", "b.yaml")
    }


def test_duplicate_address_across_files_names_both_places(tmp_path):
    """The same address in two files is an error at the second one that says where the first is."""
    (tmp_path / "a.yaml").write_text("resources:\n  memory_thing.web: {name: web}\n")
    (tmp_path / "b.yaml").write_text("resources:\n  memory_thing.db: {name: db}\n  memory_thing.web: {name: web2}\n")
    with pytest.raises(ConfigError) as error:
        load(tmp_path)
    assert str(error.value) == (
        f"{tmp_path / 'b.yaml'}:3:3: duplicate 'memory_thing.web' in resources: first defined at {tmp_path / 'a.yaml'}:2:3"
    )


def test_folder_without_plan_files_is_an_error(tmp_path):
    """A folder with no *.yaml file is refused by name, as is a path that does not exist."""
    with pytest.raises(ConfigError, match=r"no \*\.yaml plan files in"):
        load(tmp_path)
    with pytest.raises(ConfigError, match="no plan file or folder at"):
        load(tmp_path / "missing")


# --- checks against the providers' models (labform.engine.config) --------------------
def test_unknown_field_is_reported_at_its_line_with_a_suggestion(plan_file, memory_registered):
    """A misspelt argument points at its own line and column and suggests the right name."""
    path = plan_file("""
        resources:
          memory_thing.a:
            name: a
            sise: 1
    """)
    assert config_error(path) == f"{path}:4:5: memory_thing.a: unknown field 'sise' (did you mean 'size'?)"


def test_missing_required_field_is_reported_at_the_block(plan_file, memory_registered):
    """A block without a required argument is an error at the block's key."""
    path = plan_file("""
        resources:
          memory_thing.a:
            size: 1
    """)
    assert config_error(path) == f"{path}:2:3: memory_thing.a: missing required field 'name'"


def test_value_of_the_wrong_type_is_reported_at_its_field(plan_file, memory_registered):
    """pydantic's complaint about a value is shown at the field's line, with the field's name."""
    path = plan_file("""
        resources:
          memory_thing.a:
            name: a
            size: -1
    """)
    assert config_error(path) == f"{path}:4:5: memory_thing.a: size: must be greater than or equal to 0, not -1"


def test_unknown_resource_type_is_reported_with_a_suggestion(plan_file, memory_registered):
    """A resource type no provider knows is an error at its key, suggesting a close type."""
    path = plan_file("""
        resources:
          memory_thingy.a:
            name: a
    """)
    assert (
        config_error(path)
        == f"{path}:2:3: memory_thingy.a: unknown resource type 'memory_thingy' (did you mean 'memory_thing'?)"
    )


def test_reference_to_a_missing_block_is_reported_with_a_suggestion(plan_file, memory_registered):
    """A reference to an address not in the plan points at the referencing field."""
    path = plan_file("""
        resources:
          memory_thing.web:
            name: a
          memory_thing.b:
            name: b
            parent: ${memory_thing.wbe.id}
    """)
    assert (
        config_error(path)
        == f"{path}:6:5: memory_thing.b: reference to 'memory_thing.wbe', which is not in the plan (did you mean 'memory_thing.web'?)"
    )


def test_reference_to_a_missing_attribute_is_reported(plan_file, memory_registered):
    """A reference to an attribute the type does not have is an error at the field."""
    path = plan_file("""
        resources:
          memory_thing.web:
            name: a
          memory_thing.b:
            name: b
            parent: ${memory_thing.web.idd}
    """)
    assert (
        config_error(path) == f"{path}:6:5: memory_thing.b: 'memory_thing' has no attribute 'idd' (did you mean 'id'?)"
    )


def test_unknown_variable_and_unset_environment_variable_are_reported(plan_file, memory_registered, monkeypatch):
    """${var.X} must be a declared or given variable, ${env.X} a set variable (or have a default)."""
    monkeypatch.delenv("LABFORM_TEST_UNSET", raising=False)
    path = plan_file("""
        variables:
          size: 1
        resources:
          memory_thing.a:
            name: ${env.LABFORM_TEST_UNSET}
            size: ${var.sise}
    """)
    with pytest.raises(ConfigErrors) as error:
        load_config(path)
    assert [str(e) for e in error.value.errors] == [
        f"{path}:5:5: memory_thing.a: environment variable LABFORM_TEST_UNSET is not set (use ${{env.LABFORM_TEST_UNSET:-default}} for a default)",
        f"{path}:6:5: memory_thing.a: unknown variable 'sise' (did you mean 'size'?)",
    ]


def test_variables_and_environment_fill_in_values(plan_file, memory_registered, monkeypatch):
    """var and env references are substituted at load; --var overrides a declared value; env defaults apply."""
    monkeypatch.setenv("LABFORM_TEST_NAME", "from-env")
    monkeypatch.delenv("LABFORM_TEST_UNSET", raising=False)
    path = plan_file("""
        variables:
          size: 1
        resources:
          memory_thing.a:
            name: ${env.LABFORM_TEST_NAME}
            size: ${var.size}
            kind: ${env.LABFORM_TEST_UNSET:-plain}
    """)
    block = next(iter(load_config(path, {"size": 5}).resources.values()))
    assert block.arguments == {"name": "from-env", "size": 5, "kind": "plain"}


def test_several_mistakes_are_reported_together(plan_file, memory_registered):
    """All errors of one pass come at once, each with its own location."""
    path = plan_file("""
        resources:
          memory_thing.a:
            nme: a
          memory_thing.b:
            name: b
            size: x
    """)
    with pytest.raises(ConfigErrors) as error:
        load_config(path)
    assert [str(e) for e in error.value.errors] == [
        f"{path}:3:5: memory_thing.a: unknown field 'nme' (did you mean 'name'?)",
        f"{path}:6:5: memory_thing.b: size: must be a valid integer, not 'x'",
    ]


def test_lifecycle_and_depends_on_mistakes_point_at_the_offending_item(plan_file, memory_registered):
    """ignore_changes of an unknown argument and depends_on a missing block point at the list item."""
    path = plan_file("""
        resources:
          memory_thing.a:
            name: a
            depends_on: [memory_thing.zz]
            lifecycle:
              ignore_changes: [sizee]
    """)
    with pytest.raises(ConfigErrors) as error:
        load_config(path)
    assert sorted(str(e) for e in error.value.errors) == [
        f"{path}:4:18: memory_thing.a: depends_on names 'memory_thing.zz', which is not in the plan",
        f"{path}:6:24: memory_thing.a: ignore_changes names unknown argument 'sizee' (did you mean 'size'?)",
    ]


def test_unknown_provider_setting_is_reported_with_a_suggestion(plan_file, memory_registered):
    """A misspelt provider setting points at its key."""
    path = plan_file("""
        providers:
          memory: {stor: x}
    """)
    assert config_error(path) == f"{path}:2:12: provider memory: unknown setting 'stor' (did you mean 'store'?)"


def test_malformed_reference_is_reported_at_its_field(plan_file, memory_registered):
    """A ${...} that is no reference is an error at the field holding it."""
    path = plan_file("""
        resources:
          memory_thing.a:
            name: ${nonsense}
    """)
    assert config_error(path).startswith(f"{path}:3:5: memory_thing.a: cannot parse reference '${{nonsense}}'")
