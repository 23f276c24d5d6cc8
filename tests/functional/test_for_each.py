"""for_each, count and locals over a Bitbar emulator: instances keyed as Terraform keys them, references
to one instance or to all of them, and one create or destroy per key added or removed."""

from __future__ import annotations

import json

from tests.conftest import BITBAR_PROVIDER, state_of


def plan_text(apps: str) -> str:
    return (
        BITBAR_PROVIDER
        + f"""variables:
  apps: {{type: list(string), default: {apps}}}
  prefix: shop
locals:
  title: ${{var.prefix}}-app
resources:
  bitbar_project.app:
    for_each: ${{var.apps}}
    name: ${{local.title}}-${{each.key}}
    type: ANDROID
  bitbar_config_parameter.retries:
    count: 2
    project: ${{bitbar_project.app["checkout"].id}}
    key: retry${{count.index}}
    value: ${{string(count.index + 1)}}
outputs:
  project_ids: ${{bitbar_project.app[*].id}}
  names: ${{bitbar_project.app[*].name}}
"""
    )


def test_instances_are_created_addressed_and_read_as_terraform_does(bitbar, workdir):
    workdir.write(plan_text("[checkout, search]"))
    applied = workdir.apply()
    assert applied.exit_code == 0, applied.output
    resources = state_of(workdir)["resources"]
    assert sorted(resources) == [
        "bitbar_config_parameter.retries[0]",
        "bitbar_config_parameter.retries[1]",
        'bitbar_project.app["checkout"]',
        'bitbar_project.app["search"]',
    ]
    names = sorted(p["name"] for p in bitbar.app.store.data["projects"].values())
    assert names == ["shop-app-checkout", "shop-app-search"]
    checkout = resources['bitbar_project.app["checkout"]']["id"]
    assert {str(resources[f"bitbar_config_parameter.retries[{i}]"]["attributes"]["project"]) for i in (0, 1)} == {
        str(checkout)
    }
    outputs = json.loads(workdir.run("output", "-json", str(workdir.path)).stdout)
    assert outputs["names"]["value"] == ["shop-app-checkout", "shop-app-search"]
    assert sorted(map(str, outputs["project_ids"]["value"])) == sorted(
        str(resources[f'bitbar_project.app["{key}"]']["id"]) for key in ("checkout", "search")
    )

    workdir.write(plan_text("[search, checkout]"))  # re-ordering the list: the same keys
    assert workdir.plan("--detailed-exitcode").exit_code == 0

    workdir.write(plan_text("[checkout, search, wishlist]"))
    planned = workdir.plan()
    assert '# bitbar_project.app["wishlist"] will be created' in planned.stdout
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in planned.stdout

    workdir.write(plan_text("[checkout]"))
    planned = workdir.plan()
    assert '# bitbar_project.app["search"] will be destroyed' in planned.stdout
    assert "Plan: 0 to add, 0 to change, 1 to destroy." in planned.stdout


def test_destroy_ends_cleanly_with_outputs_that_read_every_instance(bitbar, workdir):
    """After a destroy a splat output reads instances that are gone: it has no value, not an error."""
    workdir.write(plan_text("[checkout, search]"))
    assert workdir.apply().exit_code == 0
    destroyed = workdir.run("destroy", str(workdir.path), "--auto-approve")
    assert destroyed.exit_code == 0, destroyed.output
    assert "Destroy complete!" in destroyed.stdout
    assert bitbar.app.store.data["projects"] == {}


def test_a_target_of_one_instance_plans_only_it(bitbar, workdir):
    workdir.write(plan_text("[checkout, search]"))
    planned = workdir.plan("--target", 'bitbar_project.app["search"]')
    assert planned.exit_code == 0, planned.output
    assert '# bitbar_project.app["search"] will be created' in planned.stdout
    assert "checkout" not in planned.stdout.split("Plan:")[0].replace("search", "")


MISTAKES = {
    "for_each: 3": "for_each takes a map or a list of strings, not a number",
    "for_each: [a, a]": "items 0 and 1 both make the key 'a'",
    "count: -1": "count must be 0 or more, not -1",
    "for_each: ${bitbar_project.other.id}": "reads bitbar_project.other, known only after apply",
}


def test_keys_that_name_no_instances_are_refused_with_file_and_line_before_any_call(bitbar, workdir):
    for keys, message in MISTAKES.items():
        workdir.write(
            BITBAR_PROVIDER
            + f"resources:\n  bitbar_project.other: {{name: o, type: ANDROID}}\n  bitbar_project.app:\n    {keys}\n"
            "    name: x\n    type: ANDROID\n"
        )
        planned = workdir.plan()
        assert planned.exit_code == 1, (keys, planned.output)
        assert message in planned.stderr and "main.yaml:8:5:" in planned.stderr, (keys, planned.stderr)
        assert "Traceback" not in planned.output
    assert bitbar.app.log.all() == []


def test_a_reference_to_a_keyed_block_must_name_its_instance(bitbar, workdir):
    workdir.write(
        BITBAR_PROVIDER + "resources:\n  bitbar_project.app:\n    for_each: [a]\n    name: x\n    type: ANDROID\n"
        "  bitbar_config_parameter.p:\n    project: ${bitbar_project.app.id}\n    key: k\n    value: v\n"
    )
    planned = workdir.plan()
    assert planned.exit_code == 1
    assert "'bitbar_project.app' has for_each: read one instance (bitbar_project.app[\"KEY\"])" in planned.stderr


def test_a_local_cycle_is_reported_with_its_path(bitbar, workdir):
    workdir.write(
        BITBAR_PROVIDER + "locals:\n  a: ${local.b}\n  b: ${local.a}\nresources: {}\noutputs:\n  x: ${local.a}\n"
    )
    planned = workdir.plan()
    assert (
        planned.exit_code == 1
        and "locals refer to each other in a cycle: local.a -> local.b -> local.a" in planned.stderr
    )


def test_an_instance_reads_its_own_instance_of_another_block_by_each_key(bitbar, workdir):
    """TYPE.NAME[each.key] names one instance, as a literal key does: each parameter goes to its own project."""
    workdir.write(
        BITBAR_PROVIDER
        + "resources:\n  bitbar_project.app:\n    for_each: {a: A, b: B}\n    name: ${each.value}\n    type: ANDROID\n"
        "  bitbar_config_parameter.p:\n    for_each: [a, b]\n    project: ${bitbar_project.app[each.key].id}\n"
        "    key: app\n    value: ${each.key}\n"
    )
    assert workdir.apply().exit_code == 0
    resources = state_of(workdir)["resources"]
    for key in ("a", "b"):
        parameter = resources[f'bitbar_config_parameter.p["{key}"]']["attributes"]
        assert str(parameter["project"]) == str(resources[f'bitbar_project.app["{key}"]']["id"])
