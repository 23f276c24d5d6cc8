"""Every mistake in a plan file is reported with file:line:col before any API call."""

from __future__ import annotations

import pytest

from tests.conftest import BITBAR_PROVIDER

GOOD_PROJECT = """
  bitbar_project.checkout:
    name: Checkout flow
    type: ANDROID
"""

CASES = {
    "unknown field": (
        BITBAR_PROVIDER + "resources:\n  bitbar_project.checkout:\n    nmae: Checkout flow\n    type: ANDROID\n",
        "main.yaml:7:5: bitbar_project.checkout: unknown field 'nmae' (did you mean 'name'?)",
    ),
    "unknown resource type": (
        BITBAR_PROVIDER + "resources:\n  bitbar_projekt.checkout:\n    name: x\n",
        "main.yaml:6:3: bitbar_projekt.checkout: unknown resource type 'bitbar_projekt' (did you mean 'bitbar_project'?)",
    ),
    "unknown attribute in a reference": (
        BITBAR_PROVIDER
        + "resources:"
        + GOOD_PROJECT
        + "  bitbar_config_parameter.p:\n    project: ${bitbar_project.checkout.idd}\n    key: k\n    value: v\n",
        "main.yaml:10:5: bitbar_config_parameter.p: 'bitbar_project' has no attribute 'idd' (did you mean 'id'?)",
    ),
    "reference to a missing resource": (
        BITBAR_PROVIDER
        + "resources:"
        + GOOD_PROJECT
        + "  bitbar_config_parameter.p:\n    project: ${bitbar_project.other.id}\n    key: k\n    value: v\n",
        "main.yaml:10:5: bitbar_config_parameter.p: reference to 'bitbar_project.other', which is not in the plan",
    ),
    "missing env var": (
        BITBAR_PROVIDER.replace("BITBAR_API_KEY", "LABFORM_TEST_UNSET_KEY") + "resources:" + GOOD_PROJECT,
        "main.yaml:4:5: provider bitbar: environment variable LABFORM_TEST_UNSET_KEY is not set",
    ),
    "wrong value type": (
        BITBAR_PROVIDER + "resources:\n  bitbar_device_group.g:\n    name: g\n    os_type: WINDOWS\n",
        "main.yaml:8:5: bitbar_device_group.g: os_type: must be 'ANDROID' or 'IOS'",
    ),
    "unknown variable": (
        BITBAR_PROVIDER + "resources:\n  bitbar_project.checkout:\n    name: ${var.nope}\n    type: ANDROID\n",
        "main.yaml:7:5: bitbar_project.checkout: unknown variable 'nope'",
    ),
    "cycle": (
        BITBAR_PROVIDER
        + "resources:\n  bitbar_project.a:\n    name: a\n    type: ANDROID\n    depends_on: [bitbar_project.b]\n"
        + "  bitbar_project.b:\n    name: b\n    type: ANDROID\n    depends_on: [bitbar_project.a]\n",
        "dependency cycle: bitbar_project.a -> bitbar_project.b -> bitbar_project.a",
    ),
    "invalid YAML": (
        BITBAR_PROVIDER + "resources:\n  bitbar_project.x: [unclosed\n",
        "main.yaml:7:1: invalid YAML: expected ',' or ']'",
    ),
    "missing required field": (
        BITBAR_PROVIDER + "resources:\n  bitbar_project.checkout:\n    name: x\n",
        "main.yaml:6:3: bitbar_project.checkout: missing required field 'type'",
    ),
    "unknown section": (BITBAR_PROVIDER + "resource:\n  x: 1\n", "main.yaml:5:1: unknown section 'resource'"),
    "escaped reference in an integer field": (
        BITBAR_PROVIDER + "resources:\n  bitbar_config_parameter.p:\n    project: $${x}\n    key: k\n    value: v\n",
        "main.yaml:7:5: bitbar_config_parameter.p: project: must be a valid integer",
    ),
    "wrong value merged in with <<": (
        BITBAR_PROVIDER
        + "resources:\n  bitbar_device_group.a: &group\n    name: a\n    os_type: WINDOWS\n"
        + "  bitbar_device_group.b:\n    <<: *group\n    name: b\n",
        "main.yaml:8:5: bitbar_device_group.b: os_type: must be 'ANDROID' or 'IOS'",
    ),
    "alias bomb": (
        BITBAR_PROVIDER
        + "variables:\n  l0: &l0 lol\n"
        + "".join(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10)),
        "main.yaml:11:47: through alias '*l4', the file holds more than 100,000 values",
    ),
    "recursive alias": (
        BITBAR_PROVIDER + "variables:\n  a: &a [1, *a]\n",
        "main.yaml:6:13: alias '*a' is used inside the value it names",
    ),
    "nesting too deep": (
        BITBAR_PROVIDER + "variables:\n  v: " + "[" * 60 + "]" * 60 + "\n",
        "main.yaml:6:54: values nest more than 50 levels deep",
    ),
    "integer too long for Python": (
        BITBAR_PROVIDER
        + "resources:\n  bitbar_device_group.g:\n    name: g\n    os_type: ANDROID\n    devices: ["
        + "9" * 5000
        + "]\n",
        "main.yaml:9:15: invalid YAML: cannot read this value: Exceeds the limit (4300 digits)",
    ),
}

PROJECT_LINES = "resources:\n  bitbar_project.checkout:\n    name: {name}\n    type: ANDROID\n"
BYTE_CASES = {
    "Latin-1 text": (
        (BITBAR_PROVIDER + PROJECT_LINES.format(name="Café")).encode("latin-1"),
        "main.yaml:7:14: the file is not UTF-8 text: byte 0xe9 cannot be decoded",
    ),
    "NUL byte": (
        (BITBAR_PROVIDER + PROJECT_LINES.format(name="a\x00b")).encode(),
        "main.yaml:7:12: character U+0000 is not allowed in YAML",
    ),
    "byte order mark inside": (
        (BITBAR_PROVIDER + PROJECT_LINES.format(name="\ufeffa")).encode(),
        "main.yaml:7:11: byte order mark (U+FEFF) inside the file",
    ),
}


def refused_before_any_request(command: str, workdir, bitbar) -> str:
    """Run ``command`` on the plan in workdir: exit 1, no traceback, no request sent; its stderr."""
    args = [command, "."] + (["--auto-approve"] if command == "apply" else [])
    result = workdir.run(*args)
    assert result.exit_code == 1, result.output
    assert result.exception is None
    assert "Traceback" not in result.output
    assert bitbar.app.log.all() == []
    return result.stderr


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", ["validate", "plan", "apply"])
def test_load_error_names_file_line_and_field(case, command, bitbar, workdir, monkeypatch):
    """The message points at the source, the exit code is 1, no traceback, no request sent."""
    monkeypatch.chdir(workdir.path)
    monkeypatch.delenv("LABFORM_TEST_UNSET_KEY", raising=False)
    text, expected = CASES[case]
    workdir.write(text)
    assert expected in refused_before_any_request(command, workdir, bitbar)


@pytest.mark.parametrize("case", sorted(BYTE_CASES))
@pytest.mark.parametrize("command", ["validate", "plan", "apply"])
def test_a_file_that_is_not_utf8_text_names_file_line_and_column(case, command, bitbar, workdir, monkeypatch):
    """Bytes YAML cannot read are found before the cloud is asked anything, at the line they are on."""
    monkeypatch.chdir(workdir.path)
    raw, expected = BYTE_CASES[case]
    (workdir.path / "main.yaml").write_bytes(raw)
    assert expected in refused_before_any_request(command, workdir, bitbar)


def test_duplicate_address_across_files_names_both_places(bitbar, workdir, monkeypatch):
    """The same address in two files of a folder is an error showing where each is."""
    monkeypatch.chdir(workdir.path)
    workdir.write(BITBAR_PROVIDER + "resources:" + GOOD_PROJECT, "a.yaml")
    workdir.write("resources:" + GOOD_PROJECT, "b.yaml")
    result = workdir.run("plan", ".")
    assert result.exit_code == 1
    assert "b.yaml:2:3: duplicate 'bitbar_project.checkout' in resources: first defined at a.yaml:6:3" in result.stderr
    assert bitbar.app.log.all() == []


def test_several_errors_are_reported_together(bitbar, workdir, monkeypatch):
    """Two independent mistakes both appear, so one run shows everything to fix."""
    monkeypatch.chdir(workdir.path)
    workdir.write(
        BITBAR_PROVIDER
        + "resources:\n  bitbar_project.a:\n    nmae: a\n    type: ANDROID\n  bitbar_project.b:\n    name: b\n    type: PHONE\n"
    )
    result = workdir.run("validate", ".")
    assert result.exit_code == 1
    assert "main.yaml:7:5: bitbar_project.a: unknown field 'nmae'" in result.stderr
    assert "main.yaml:11:5: bitbar_project.b: type: must be" in result.stderr
