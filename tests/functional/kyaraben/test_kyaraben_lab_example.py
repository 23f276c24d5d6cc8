"""plans/kyaraben-lab itself on the emulator, under every doc variant: applied, planned again with
nothing to do (the hwconfig the VM shows back has keys the plan does not set), and destroyed to
nothing, whatever campaigns the server counts as blocking its project's delete."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from labform.providers.kyaraben.emulator import VARIANTS
from tests.conftest import Workdir
from tests.fixtures.clouds import RunningKyaraben

PLANS = Path(__file__).resolve().parents[3] / "plans"
LAB = "plans/kyaraben-lab"


@pytest.fixture
def lab(workdir: Workdir, running_clock, kyaraben: RunningKyaraben, monkeypatch) -> Workdir:
    """The example and the apps it uploads, copied into ``workdir``, run from there (paths are relative)."""
    for folder in ("kyaraben-lab", "apps"):
        shutil.copytree(PLANS / folder, workdir.path / "plans" / folder, ignore=shutil.ignore_patterns("*.state*"))
    monkeypatch.chdir(workdir.path)
    return workdir


def left_in_store(kyaraben: RunningKyaraben) -> list[str]:
    """Every object a user could still reach: neither deleted nor inside a deleted project."""
    projects = {p["project_id"]: p for p in kyaraben.records("projects")}

    def gone(record: dict) -> bool:
        if record.get("deleted_at") is not None or record.get("removed"):
            return True
        project = projects.get(record.get("project_id", ""))
        return project is not None and project is not record and project["deleted_at"] is not None

    kinds = ("projects", "avms", "apks", "camera_files", "testsources", "campaigns")
    return [f"{kind} {record}" for kind in kinds for record in kyaraben.records(kind) if not gone(record)]


def test_the_lab_plans_no_change_after_its_apply(lab: Workdir, kyaraben: RunningKyaraben) -> None:
    applied = lab.run("apply", LAB, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    vm = next(r for r in kyaraben.records("avms") if r["avm_name"] == "checkout-phone")
    shown = kyaraben.api().get(f"/android/{vm['avm_id']}").json()["avm"]["hwconfig"]
    assert len(shown) == 10 and shown["width"] == 1080 and shown["enable_nfc"] == 0
    again = lab.run("plan", LAB, "-detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_lab_destroys_to_nothing_on_every_variant(variant, lab: Workdir, kyaraben: RunningKyaraben) -> None:
    applied = lab.run("apply", LAB, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    destroyed = lab.run("destroy", LAB, "--auto-approve")
    assert destroyed.exit_code == 0, destroyed.output
    assert "Destroy complete! Resources: 0 added, 0 changed, 5 destroyed." in destroyed.stdout, destroyed.output
    assert left_in_store(kyaraben) == []


@pytest.mark.parametrize("variant", ["any-campaign-blocks-delete"])
def test_a_campaign_kept_by_choice_is_named_with_how_to_let_its_project_go(
    variant, lab: Workdir, kyaraben: RunningKyaraben
) -> None:
    """``on_destroy: keep`` written in the block is never overridden: the refusal names the campaign."""
    plan = lab.path / LAB / "main.yaml"
    plan.write_text(
        plan.read_text().replace("    gate: {max_failed: 0}\n", "    gate: {max_failed: 0}\n    on_destroy: keep\n")
    )
    assert lab.run("apply", LAB, "--auto-approve").exit_code == 0
    (campaign,) = kyaraben.records("campaigns")
    project = campaign["project_id"]
    destroyed = lab.run("destroy", LAB, "--auto-approve")
    assert destroyed.exit_code == 1
    assert (
        f"campaign {campaign['campaign_id']} ({campaign['campaign_name']}) is there because its kyaraben_campaign "
        f"block says on_destroy: keep; delete it (DELETE /projects/{project}/campaigns/{campaign['campaign_id']}) "
        "and destroy again, or set on_destroy: delete on that block (and apply) before destroying"
    ) in " ".join(destroyed.output.split())
    assert not campaign["removed"]
    assert kyaraben.api().delete(f"/projects/{project}/campaigns/{campaign['campaign_id']}").status_code == 204
    again = lab.run("destroy", LAB, "--auto-approve")
    assert again.exit_code == 0, again.output
    assert left_in_store(kyaraben) == []
