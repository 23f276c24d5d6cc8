"""plan -json over the emulators, as tools written for Terraform's plans read it: ``action_reason``
in Terraform's words only (labform's own reasons stay in the text plan), and ``checks`` grouped per
block as written, its status the worst of its instances', each instance addressed as Terraform does."""

from __future__ import annotations

import json

from tests.conftest import BITBAR_PROVIDER, Workdir, state_of
from tests.functional.kyaraben.conftest import PROJECT_WITH_APK
from tests.functional.test_plan_json_contract import decode_plan

MODULE = """variables:
  app: {type: string}
resources:
  bitbar_project.app:
    name: ${var.app}
    type: ANDROID
"""


def write_plan(workdir: Workdir, body: str) -> None:
    (workdir.path / "modules" / "app").mkdir(parents=True, exist_ok=True)
    workdir.write(MODULE, "modules/app/main.yaml")
    workdir.write(BITBAR_PROVIDER + body)


def project(name: str, repeat: str = "", kind: str = "ANDROID") -> str:
    """A project block; ``repeat`` its for_each or count line, each instance named apart."""
    suffix = "-${each.key}" if "for_each" in repeat else "-${count.index}" if "count" in repeat else ""
    return f"  bitbar_project.{name}:\n{repeat}    name: {name}{suffix}\n    type: {kind}\n"


DATA_AND_CI = """data:
  bitbar_runs.of_kept:
    project: ${bitbar_project.kept.id}
modules:
  ci:
    source: ./modules/app
    for_each: KEYS
    inputs: {app: "ci-${each.key}"}
"""

FIRST = (
    "resources:\n"
    + "".join(project(name) for name in ("kept", "retyped", "again", "solo", "plain", "renamed"))
    + project("each", "    for_each: [a, b]\n")
    + project("counted", "    count: 2\n")
    + DATA_AND_CI.replace("KEYS", "[x, y]")
    + "  old:\n    source: ./modules/app\n    inputs: {app: old}\n"
)

# What changes: a type that cannot change in place, a block, a key and a position gone, a block that
# now repeats, a module instance and a whole module call gone, an object moved to where nothing is.
SECOND = (
    "resources:\n"
    + project("kept")
    + project("retyped", kind="IOS")
    + project("again")
    + project("plain", "    for_each: [p]\n")
    + project("each", "    for_each: [a]\n")
    + project("counted", "    count: 1\n")
    + DATA_AND_CI.replace("KEYS", "[x]")
    + "moved:\n  - {from: bitbar_project.renamed, to: bitbar_project.elsewhere}\n"
)


def reasons(document: dict) -> dict[str, str | None]:
    """Each change's address and its action_reason (None where the key is left out, never null)."""
    found = {}
    for change in document["resource_changes"]:
        assert change.get("action_reason", "absent") is not None, change["address"]
        found[change["address"]] = change.get("action_reason")
    return found


def test_action_reason_is_terraforms_word_or_absent(bitbar, workdir):
    write_plan(workdir, FIRST)
    first = json.loads(workdir.plan("-json").stdout)
    assert reasons(first)["data.bitbar_runs.of_kept"] == "read_because_config_unknown"
    assert {a for a, why in reasons(first).items() if why} == {"data.bitbar_runs.of_kept"}  # a create has none
    applied = workdir.apply()
    assert applied.exit_code == 0, applied.output

    write_plan(workdir, SECOND)
    planned = workdir.plan("-json", "-replace=bitbar_project.again")
    assert planned.exit_code == 0, planned.output
    changed = {a: why for a, why in reasons(json.loads(planned.stdout)).items() if why}
    assert changed == {
        "bitbar_project.retyped": "replace_because_cannot_update",
        "bitbar_project.again": "replace_by_request",
        "bitbar_project.solo": "delete_because_no_resource_config",
        "bitbar_project.plain": "delete_because_wrong_repetition",
        'bitbar_project.each["b"]': "delete_because_each_key",
        "bitbar_project.counted[1]": "delete_because_count_index",
        'module.ci["y"].bitbar_project.app': "delete_because_no_module",
        "module.old.bitbar_project.app": "delete_because_no_resource_config",
        "bitbar_project.elsewhere": "delete_because_no_move_target",
    }
    document = json.loads(planned.stdout)
    replaced = next(c for c in document["resource_changes"] if c["address"] == "bitbar_project.again")
    assert replaced["change"]["replace_paths"] == []  # no argument forces it: --replace does
    retyped = next(c for c in document["resource_changes"] if c["address"] == "bitbar_project.retyped")
    assert retyped["change"]["replace_paths"] == [["type"]]
    saved = workdir.path / "tfplan"
    assert workdir.plan("-replace=bitbar_project.again", f"-out={saved}").exit_code == 0
    shown = json.loads(workdir.run("show", str(saved), "-json").stdout)  # a saved plan keeps them
    assert {a: why for a, why in reasons(shown).items() if why} == changed
    text = workdir.plan("-replace=bitbar_project.again").stdout  # people still read labform's words
    assert "# bitbar_project.solo will be destroyed (not in the plan any more)" in text
    assert "# replacement requested with --replace" in text


def test_labforms_own_reasons_stay_out_of_the_json(bitbar, workdir):
    """An object deleted outside labform is planned as a create: the text says why, the JSON has no
    reason for it (Terraform has no word), and drift carries none either."""
    write_plan(workdir, f"resources:\n{project('kept')}")
    assert workdir.apply().exit_code == 0
    gone = state_of(workdir)["resources"]["bitbar_project.kept"]["id"]
    assert bitbar.api().delete(f"/api/v2/me/projects/{gone}").status_code in (200, 204)
    text = workdir.plan().stdout
    assert "bitbar_project.kept will be created (gone from the cloud (deleted outside labform))" in text
    document = json.loads(workdir.plan("-json").stdout)
    [change] = document["resource_changes"]
    assert change["change"]["actions"] == ["create"] and "action_reason" not in change
    assert all("action_reason" not in drift for drift in document["resource_drift"])


def test_a_tainted_object_is_replaced_because_tainted(running_clock, kyaraben, workdir):
    """An upload the cloud could not read is recorded tainted: the next plan replaces it, and says so."""
    (workdir.path / "app.apk").write_bytes(b"this is not an apk")
    workdir.write(PROJECT_WITH_APK.replace("APP", str(workdir.path / "app.apk")))
    assert workdir.apply().exit_code == 1
    assert state_of(workdir)["resources"]["kyaraben_apk.app"]["tainted"] is True
    document = json.loads(workdir.plan("-json").stdout)
    apk = next(c for c in document["resource_changes"] if c["address"] == "kyaraben_apk.app")
    assert apk["change"]["actions"] == ["delete", "create"] and apk["action_reason"] == "replace_because_tainted"


def _checks_by_block(document: dict) -> dict[str, dict]:
    return {entry["address"]["to_display"]: entry for entry in document["checks"]}


def test_checks_of_a_for_each_block_are_one_entry_with_an_instance_per_key(shipped_plans, workdir):
    """bitbar-matrix: six gated runs from one block are one check; once one run misses its gate the
    block fails and only that instance has problems."""
    plan = "plans/bitbar-matrix"
    assert workdir.run("apply", plan, "--sandbox", "--auto-approve").exit_code == 0
    document = decode_plan(workdir.run("plan", plan, "--sandbox", "-json").stdout)
    runs = sorted(c["index"] for c in document["resource_changes"] if c["type"] == "bitbar_run")
    [entry] = document["checks"]
    assert entry["address"] == {
        "kind": "resource",
        "to_display": "bitbar_run.matrix",
        "mode": "managed",
        "type": "bitbar_run",
        "name": "matrix",
    }
    assert entry["status"] == "pass" and len(runs) == 6
    assert [i["address"] for i in entry["instances"]] == [
        {"to_display": f'bitbar_run.matrix["{key}"]', "instance_key": key} for key in runs
    ]
    assert all(i["status"] == "pass" and "problems" not in i for i in entry["instances"])

    missed = f'bitbar_run.matrix["{runs[0]}"]'
    rerun = workdir.run("apply", plan, "--sandbox", "--auto-approve", f"-replace={missed}", "--test-failure-share", "1")
    assert rerun.exit_code == 1, rerun.output
    [entry] = decode_plan(workdir.run("plan", plan, "--sandbox", "-json").stdout)["checks"]
    assert entry["status"] == "fail"
    statuses = {i["address"]["to_display"]: i["status"] for i in entry["instances"]}
    assert statuses == {f'bitbar_run.matrix["{key}"]': "fail" if key == runs[0] else "pass" for key in runs}
    [failing] = [i for i in entry["instances"] if i["status"] == "fail"]
    assert [p["message"] for p in failing["problems"]] == [failing["reason"]]
    assert "missed its gate" in failing["reason"]


def test_checks_of_a_block_in_a_module_name_the_module_as_written_and_each_instance(shipped_plans, workdir):
    """bitbar-modules: the run of each module instance is one check, addressed by the module call
    (module.ci); each instance names its module instance; before apply each is unknown."""
    document = decode_plan(workdir.run("plan", "plans/bitbar-modules", "--sandbox", "-json").stdout)
    entries = _checks_by_block(document)
    assert list(entries) == ["module.ci.bitbar_run.ci"]
    entry = entries["module.ci.bitbar_run.ci"]
    assert entry["address"] == {
        "kind": "resource",
        "to_display": "module.ci.bitbar_run.ci",
        "mode": "managed",
        "type": "bitbar_run",
        "name": "ci",
        "module": "module.ci",
    }
    assert entry["status"] == "unknown"
    assert [(i["address"], i["status"]) for i in entry["instances"]] == [
        ({"to_display": f'module.ci["{app}"].bitbar_run.ci', "module": f'module.ci["{app}"]'}, "unknown")
        for app in ("checkout", "search")
    ]
