"""Modules over a Bitbar emulator: a folder called with inputs, its blocks addressed under
module.NAME["KEY"], inputs only apply knows read while planning, outputs read by the caller, and
every mistake in a call or in a module's files reported at its own file:line:col before any request."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import BITBAR_PROVIDER, Workdir, state_of

MODULE = """variables:
  app: {type: string, description: The app the project is for.}
  group: {type: string}
  retries: {type: number, default: 2}
resources:
  bitbar_project.app:
    name: ${var.app}
    type: ANDROID
  bitbar_config_parameter.group:
    project: ${bitbar_project.app.id}
    key: group
    value: ${var.group}
  bitbar_config_parameter.retries:
    project: ${bitbar_project.app.id}
    key: retries
    value: ${string(var.retries)}
outputs:
  project_id: ${bitbar_project.app.id}
  name: ${bitbar_project.app.name}
"""


def root(apps: str, extra: str = "") -> str:
    return (
        BITBAR_PROVIDER
        + f"""variables:
  apps: {{type: list(string), default: {apps}}}
resources:
  bitbar_project.shared:
    name: shared
    type: ANDROID
modules:
  ci:
    source: ./modules/app
    for_each: ${{var.apps}}
    inputs:
      app: ci-${{each.key}}
      group: ${{bitbar_project.shared.id}}
{extra}outputs:
  checkout_project: ${{module.ci["checkout"].project_id}}
  checkout_name: ${{module.ci["checkout"].name}}
"""
    )


def write_module(workdir: Workdir, text: str = MODULE, folder: str = "modules/app") -> Path:
    (workdir.path / folder).mkdir(parents=True, exist_ok=True)
    return workdir.write(text, f"{folder}/main.yaml")


def test_module_instances_are_applied_read_and_kept_in_step(bitbar, workdir):
    write_module(workdir)
    workdir.write(root("[checkout, search]"))
    applied = workdir.apply()
    assert applied.exit_code == 0, applied.output
    resources = state_of(workdir)["resources"]
    assert sorted(resources) == sorted(
        [
            "bitbar_project.shared",
            *(f'module.ci["{app}"].bitbar_project.app' for app in ("checkout", "search")),
            *(
                f'module.ci["{app}"].bitbar_config_parameter.{key}'
                for app in ("checkout", "search")
                for key in ("group", "retries")
            ),
        ]
    )
    shared = str(resources["bitbar_project.shared"]["id"])
    # An input only apply knows (the shared project's id) reached the module's block.
    assert str(resources['module.ci["search"].bitbar_config_parameter.group']["attributes"]["value"]) == shared
    # The module's own default, and its outputs read by the caller.
    assert resources['module.ci["checkout"].bitbar_config_parameter.retries']["attributes"]["value"] == "2"
    outputs = json.loads(workdir.run("output", "-json", str(workdir.path)).stdout)
    assert outputs["checkout_name"]["value"] == "ci-checkout"
    assert str(outputs["checkout_project"]["value"]) == str(resources['module.ci["checkout"].bitbar_project.app']["id"])
    assert workdir.plan("--detailed-exitcode").exit_code == 0  # applied twice, nothing changes

    workdir.write(root("[checkout, search, wishlist]"))
    planned = workdir.plan()
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in planned.stdout, planned.output
    assert '# module.ci["wishlist"].bitbar_project.app will be created' in planned.stdout
    targeted = workdir.plan("-target", 'module.ci["wishlist"]')  # a module instance: every object in it
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in targeted.stdout, targeted.output
    assert workdir.plan("-target", 'module.ci["search"]', "-detailed-exitcode").exit_code == 0
    missing = workdir.plan("-target", "module.cd")
    assert missing.exit_code == 1 and "'module.cd' is neither in the plan nor in state" in missing.stderr

    workdir.write(root("[checkout]"))
    planned = workdir.plan()
    assert "Plan: 0 to add, 0 to change, 3 to destroy." in planned.stdout, planned.output

    state = workdir.run("state", "show", 'module.ci["checkout"].bitbar_project.app', "--state", str(workdir.state_file))
    assert state.exit_code == 0 and "ci-checkout" in state.stdout, state.output


def test_modules_nest_and_address_their_blocks_all_the_way_down(bitbar, workdir):
    write_module(
        workdir,
        """variables:
  app: {type: string}
modules:
  inner:
    source: ../leaf
    count: 2
    inputs: {name: "${var.app}-${count.index}"}
outputs:
  names: ${[module.inner[0].name, module.inner[1].name]}
""",
        "modules/outer",
    )
    write_module(
        workdir,
        """variables:
  name: {type: string}
resources:
  bitbar_project.leaf:
    name: ${var.name}
    type: ANDROID
outputs:
  name: ${bitbar_project.leaf.name}
""",
        "modules/leaf",
    )
    workdir.write(
        BITBAR_PROVIDER
        + """modules:
  outer:
    source: ./modules/outer
    inputs: {app: nested}
outputs:
  names: ${module.outer.names}
"""
    )
    applied = workdir.apply()
    assert applied.exit_code == 0, applied.output
    assert sorted(state_of(workdir)["resources"]) == [
        "module.outer.module.inner[0].bitbar_project.leaf",
        "module.outer.module.inner[1].bitbar_project.leaf",
    ]
    assert sorted(p["name"] for p in bitbar.app.store.data["projects"].values()) == ["nested-0", "nested-1"]
    outputs = json.loads(workdir.run("output", "-json", str(workdir.path)).stdout)
    assert outputs["names"]["value"] == ["nested-0", "nested-1"]
    graph = workdir.run("graph", str(workdir.path)).stdout
    assert 'subgraph "cluster_module.outer" {' in graph
    assert 'subgraph "cluster_module.outer.module.inner[0]" {' in graph
    assert '"module.outer.module.inner[0].bitbar_project.leaf" [shape=box];' in graph


def test_a_modules_paths_and_files_are_read_from_its_folder(bitbar, workdir):
    folder = workdir.path / "modules" / "app"
    write_module(
        workdir,
        """resources:
  bitbar_project.app:
    name: ${file("name.txt")}
    description: ${path.module}
    type: ANDROID
  bitbar_file.app:
    project: ${bitbar_project.app.id}
    kind: application
    path: app.apk
""",
    )
    (folder / "name.txt").write_text("from-the-module-folder")
    (folder / "app.apk").write_bytes(b"PK\x03\x04 module app")
    workdir.write(BITBAR_PROVIDER + "modules:\n  app:\n    source: ./modules/app\n")
    applied = workdir.run("apply", str(workdir.path), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    project = next(iter(bitbar.app.store.data["projects"].values()))
    assert project["name"] == "from-the-module-folder"
    assert Path(project["description"]).resolve() == folder.resolve()  # path.module
    attributes = state_of(workdir)["resources"]["module.app.bitbar_file.app"]["attributes"]
    assert Path(attributes["path"]).resolve() == (folder / "app.apk").resolve()


def test_an_object_moves_into_a_module_and_is_targeted_there(bitbar, workdir):
    """moved: to a module's address keeps the remote object; -target and plan -json take module addresses."""
    write_module(workdir)
    workdir.write(BITBAR_PROVIDER + "resources:\n  bitbar_project.checkout: {name: ci-checkout, type: ANDROID}\n")
    assert workdir.apply().exit_code == 0
    project_id = state_of(workdir)["resources"]["bitbar_project.checkout"]["id"]
    moved = 'moved:\n  - from: bitbar_project.checkout\n    to: module.ci["checkout"].bitbar_project.app\n'
    workdir.write(root("[checkout]", moved))
    planned = workdir.plan()
    assert '# bitbar_project.checkout has moved to module.ci["checkout"].bitbar_project.app' in planned.stdout
    document = json.loads(workdir.plan("-json").stdout)
    change = next(c for c in document["resource_changes"] if c["address"].endswith("bitbar_project.app"))
    assert (change["module_address"], change["previous_address"]) == (
        'module.ci["checkout"]',
        "bitbar_project.checkout",
    )
    assert change["change"]["actions"] == ["no-op"]

    targeted = workdir.apply("-target", 'module.ci["checkout"].bitbar_config_parameter.retries')
    assert targeted.exit_code == 0, targeted.output
    resources = state_of(workdir)["resources"]
    assert resources['module.ci["checkout"].bitbar_project.app']["id"] == project_id
    assert 'module.ci["checkout"].bitbar_config_parameter.retries' in resources
    assert 'module.ci["checkout"].bitbar_config_parameter.group' not in resources
    assert len(bitbar.app.store.data["projects"]) == 1  # moved, never made again


def test_a_sensitive_input_is_masked_in_every_output(bitbar, workdir):
    write_module(
        workdir,
        """variables:
  token: {type: string, sensitive: true}
resources:
  bitbar_project.app: {name: masked, type: ANDROID}
  bitbar_config_parameter.token:
    project: ${bitbar_project.app.id}
    key: token
    value: ${var.token}
""",
    )
    workdir.write(BITBAR_PROVIDER + "modules:\n  app:\n    source: ./modules/app\n    inputs: {token: s3cr3t-t0ken}\n")
    planned = workdir.plan()
    assert planned.exit_code == 0, planned.output
    applied = workdir.apply()
    assert applied.exit_code == 0, applied.output
    assert "(sensitive)" in planned.stdout
    assert "s3cr3t-t0ken" not in planned.output + applied.output
    assert "s3cr3t-t0ken" in [p["value"] for p in bitbar.app.store.data["parameters"].values()]
