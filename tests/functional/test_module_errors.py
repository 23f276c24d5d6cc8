"""Every mistake in calling a module, or inside a module's files, is exit 1 before any request, with the
file:line:col where it is written and what to write instead."""

from __future__ import annotations

import pytest

from tests.conftest import BITBAR_PROVIDER, Workdir

MODULE = """variables:
  app: {type: string}
  retries: {type: number, default: 2}
resources:
  bitbar_project.app:
    name: ${var.app}
    type: ANDROID
outputs:
  project_id: ${bitbar_project.app.id}
"""


def call(body: str, outputs: str = "") -> str:
    return BITBAR_PROVIDER + "modules:\n  ci:\n" + body + outputs


def refused(bitbar, workdir: Workdir) -> str:
    """The plan's error output, after checking that it failed as a user's mistake and asked nothing."""
    bitbar.app.log.clear()
    result = workdir.plan()
    assert result.exit_code == 1, result.output
    assert result.exception is None and "Traceback" not in result.output
    assert bitbar.app.log.all() == []
    return result.stderr


def module_folder(workdir: Workdir, text: str = MODULE, folder: str = "modules/app") -> None:
    (workdir.path / folder).mkdir(parents=True, exist_ok=True)
    workdir.write(text, f"{folder}/main.yaml")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "    source: ./modules/app\n    inputs: {app: a, retrys: 3}\n",
            "main.yaml:8:22: module.ci: module 'ci' (./modules/app) has no variable 'retrys' (did you mean 'retries'?)",
        ),
        (
            "    source: ./modules/app\n",
            "main.yaml:6:3: module.ci: variable 'app' has no default: give it a value (inputs: {app: ...} in module 'ci')",
        ),
        (
            "    source: ./modules/nowhere\n",
            "main.yaml:7:5: module.ci: source './modules/nowhere' is not a folder",
        ),
        (
            "    source: modules/app\n",
            "source 'modules/app' is not a local path: write ./modules/app",
        ),
        (
            "    source: ./modules/app\n    inputs: {app: a}\n    count: -1\n",
            "main.yaml:9:5: module.ci: count must be 0 or more, not -1",
        ),
        (
            "    source: ./modules/app\n    inputs: {app: a}\n    for_each: [a]\n    count: 2\n",
            "a block takes for_each or count, not both",
        ),
        (
            "    source: ./modules/app\n    sourc: x\n    inputs: {app: a}\n",
            "main.yaml:8:5: module.ci: unknown field 'sourc' (did you mean 'source'?)",
        ),
    ],
)
def test_a_wrong_call_is_reported_where_it_is_written(bitbar, workdir, body, expected):
    module_folder(workdir)
    workdir.write(call(body))
    assert expected in refused(bitbar, workdir)


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        ("outputs:\n  id: ${module.ci.project}\n", "module 'ci' has no output 'project' (did you mean 'project_id'?)"),
        (
            "outputs:\n  id: ${module.cii.project_id}\n",
            "reference to module 'cii', which is not in the plan (did you mean 'ci'?)",
        ),
        (
            'outputs:\n  id: ${module.ci["a"].project_id}\n',
            "module 'ci' has no for_each or count: read it as module.ci.project_id",
        ),
    ],
)
def test_a_wrong_reference_to_a_module_is_reported(bitbar, workdir, outputs, expected):
    module_folder(workdir)
    workdir.write(call("    source: ./modules/app\n    inputs: {app: a}\n", outputs))
    assert expected in refused(bitbar, workdir)


def test_a_keyed_module_is_read_one_instance_at_a_time(bitbar, workdir):
    module_folder(workdir)
    body = "    source: ./modules/app\n    for_each: [a, b]\n    inputs: {app: '${each.key}'}\n"
    workdir.write(call(body, "outputs:\n  id: ${module.ci.project_id}\n"))
    assert "module 'ci' has for_each: read one instance (module.ci[\"KEY\"].project_id)" in refused(bitbar, workdir)
    workdir.write(call(body, 'outputs:\n  id: ${module.ci["c"].project_id}\n'))
    assert "module 'ci' has no instance [\"c\"] (its keys: a, b)" in refused(bitbar, workdir)


def test_a_mistake_inside_a_module_is_reported_once_at_the_modules_own_line(bitbar, workdir):
    module_folder(workdir, MODULE.replace("    type: ANDROID", "    type: ANDROID\n    nmae: x"))
    workdir.write(call("    source: ./modules/app\n    for_each: [a, b, c]\n    inputs: {app: '${each.key}'}\n"))
    errors = refused(bitbar, workdir)
    assert "modules/app/main.yaml:8:5:" in errors and "unknown field 'nmae' (did you mean 'name'?)" in errors
    assert errors.count("unknown field 'nmae'") == 1  # one mistake, however many instances


def test_a_module_that_calls_itself_is_a_loop(bitbar, workdir):
    module_folder(workdir, "modules:\n  again:\n    source: ../loop\n", "modules/loop")
    workdir.write(call("    source: ./modules/loop\n"))
    assert "source '../loop' calls itself: modules/loop -> modules/loop" in refused(bitbar, workdir)


def test_a_module_declares_no_providers_of_its_own(bitbar, workdir):
    module_folder(workdir, BITBAR_PROVIDER + MODULE)
    workdir.write(call("    source: ./modules/app\n    inputs: {app: a}\n"))
    errors = refused(bitbar, workdir)
    assert (
        "modules/app/main.yaml:1:1: a module has no 'providers:' section: a module uses its caller's providers"
        in errors
    )


def test_a_module_input_that_does_not_fit_its_type_is_an_error_at_the_input(bitbar, workdir):
    module_folder(workdir)
    workdir.write(call("    source: ./modules/app\n    inputs: {app: a, retries: many}\n"))
    errors = refused(bitbar, workdir)
    assert "main.yaml:8:22: module.ci: variable 'retries'" in errors and "number" in errors
