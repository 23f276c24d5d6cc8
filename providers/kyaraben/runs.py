"""kyaraben_campaign: a test campaign, following the shared run flow (providers/runs.py).

A campaign runs each of its tests on a VM of its own (image, hwconfig, apks
installed, packages under test). It is started once per ``triggers``; ``wait``
follows ``campaign_status`` and ``progress``; the gate counts tests whose
status is ERROR; JUnit has one testcase per test, its stdout as system-out.

It is recorded as soon as kyaraben gives its id, so an apply that fails or is
killed while waiting never starts it twice: the next apply waits on it again.
Its natural key is ``campaign_name``; unset, labform names it
labform-<hash of its plan address and triggers> (the engine passes the
address).

Destroyed, it is kept on the cloud unless ``on_destroy: delete``; when a server
then refuses its project's delete for it, a campaign kept by default is deleted
after all, one whose block says ``on_destroy: keep`` is named in the error
(teardown.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from providers.base import Attrs, RunFacts, arg
from providers.errors import NotFoundError
from providers.junit import Case, Suite, suite_element
from providers.kyaraben.client import CLOUD, in_project
from providers.kyaraben.client import client_of as _client
from providers.kyaraben.planning import derived_name, known, plan_facts
from providers.kyaraben.resources import HwConfig
from providers.kyaraben.status import ERROR, READY, is_gone, live
from providers.kyaraben.teardown import KeptCampaign, kept_campaigns
from providers.runs import RunArguments, RunProgress, RunResource, judged, per_device

FINISHED = (READY, ERROR)


class CampaignTest(BaseModel):
    """One test of the campaign: the VM it runs on and what it runs."""

    model_config = ConfigDict(extra="forbid")
    image: str = Field(min_length=1, description="Android image (checked against the cloud's images at plan time).")
    hwconfig: HwConfig | None = Field(None, description="Screen and devices of the test's VM.")
    apks: list[str] = Field(default_factory=list, description="Apk ids to install, e.g. ${kyaraben_apk.NAME.id}.")
    packages: list[str] = Field(default_factory=list, description="Packages under test.")


class CampaignGate(BaseModel):
    """When a finished campaign passes."""

    model_config = ConfigDict(extra="forbid")
    max_failed: int = Field(0, ge=0, description="How many tests may end in ERROR.")


class CampaignArgs(RunArguments):
    project: str = arg(force_new=True, min_length=1, description="Project id, e.g. ${kyaraben_project.NAME.id}.")
    campaign_name: str | None = arg(
        None, force_new=True, min_length=1, description="Unset, labform derives one (see above)."
    )
    tests: list[CampaignTest] = arg(force_new=True, min_length=1, description="One VM per test.")
    gate: CampaignGate | None = arg(
        None, local=True, description="Fail the apply when more tests end in ERROR than this allows (needs wait)."
    )


def _test_summary(test: dict[str, Any]) -> dict[str, Any]:
    return {"image": test.get("image"), "package": test.get("package"), "status": test.get("status")}


def _label(index: int, test: dict[str, Any]) -> str:
    return f"#{index + 1} {test.get('image')} {test.get('package') or ''}".rstrip()


class Campaign(RunResource):
    """A test campaign, one VM per test, started once per distinct triggers."""

    type_name = "kyaraben_campaign"
    cloud = CLOUD
    Args = CampaignArgs
    computed = ("id", "campaign_name", "status", "progress", "results")
    natural_key = ("project", "campaign_name")

    def plan_attributes(self, desired, address=""):
        """An unnamed campaign is named from its plan address and its triggers: found again by that name."""
        if desired.get("campaign_name") is not None:
            return {}
        parts = [address, desired.get("triggers") or []]
        return {"campaign_name": derived_name(*parts)} if known(parts) else {}

    def check_remote(self, ctx, desired):
        facts = plan_facts(ctx)
        problems = [
            ("tests", why)
            for index, test in enumerate(desired.get("tests") or [])
            if isinstance(test, dict) and (why := facts.image_problem(test.get("image"), f"tests[{index}].image"))
        ]
        count = len(desired.get("tests") or [])
        if not problems and (
            why := facts.claim_campaign_vms(desired.get("project"), desired.get("campaign_name"), count)
        ):
            problems.append(("tests", why))
        return problems

    # --- plain resource calls ---------------------------------------------------
    def _attrs(self, remote: dict[str, Any], project: str) -> Attrs | None:
        """The listing says ``status``, the detail ``campaign_status``: both are the campaign's."""
        status = remote.get("campaign_status", remote.get("status"))
        found = {
            "id": remote["campaign_id"],
            "campaign_name": remote.get("campaign_name"),
            "project": project,
            "status": status,
        }
        return live(found)

    def read(self, ctx, id, prior):
        return self._attrs(_client(ctx).campaign(prior["project"], id), prior["project"])

    def import_(self, ctx, id):
        """By PROJECT_ID/CAMPAIGN_ID. Its tests are not recorded (kyaraben does not return the apks
        they installed), so the next plan replaces it unless the block ignores ``tests``."""
        project, campaign = in_project(self.type_name, id)
        found = self.read(ctx, campaign, {"project": project})
        if found is None:
            raise NotFoundError(CLOUD, f"import {self.type_name}", 404, f"campaign {campaign} is being deleted")
        return found

    def list_scope(self, attrs):
        return ("campaigns", attrs["project"])

    def list(self, ctx, scope):
        return filter(None, (self._attrs(c, scope[1]) for c in _client(ctx).campaigns(scope[1])))

    def find_existing(self, ctx, desired):
        name = desired.get("campaign_name")  # None while derived from values known only after apply
        if name is None:
            return None
        try:
            return next(
                (c for c in self.listed(ctx, ("campaigns", desired["project"])) if c["campaign_name"] == name), None
            )
        except NotFoundError:
            return None

    # --- run hooks ----------------------------------------------------------------
    def start(self, ctx, desired):
        project, name = desired["project"], desired["campaign_name"]
        body = {"campaign_name": name, "tests": [_test_body(t) for t in desired["tests"]]}
        campaign_id = _client(ctx).start_campaign(project, body)
        ctx.progress(f"campaign {campaign_id}: started ({name}, {len(body['tests'])} tests)")
        return {"id": campaign_id, "campaign_name": name, "project": project, "status": "QUEUED"}

    def progress(self, ctx, attrs):
        remote = _client(ctx).campaign(attrs["project"], attrs["id"])
        status = remote.get("campaign_status")
        tests = remote.get("tests") or []
        done = sum(t.get("status") in FINISHED for t in tests)
        failed = sum(t.get("status") == ERROR for t in tests)
        share = float(remote.get("progress") or 0.0)
        text = f"{status}, {share * 100:.0f}%, tests {done}/{len(tests)} finished, {failed} failed"
        found = {"status": status, "progress": share, "results": [_test_summary(t) for t in tests]}
        return RunProgress(status in FINISHED or is_gone(remote, "campaign_status"), text, found)

    def junit_suites(self, ctx, attrs):
        """One testcase per test; its stdout (the instrumentation output) as system-out."""
        tests = _client(ctx).campaign(attrs["project"], attrs["id"]).get("tests") or []
        suite = Suite(name=f"kyaraben campaign {attrs['campaign_name']}", properties={"campaign_id": attrs["id"]})
        for index, test in enumerate(tests):
            output = str(test.get("stdout") or "")
            status = test.get("status")
            suite.cases.append(
                Case(
                    name=_label(index, test),
                    classname=str(test.get("package") or test.get("image")),
                    failure=(output or "the test ended in ERROR") if status == ERROR else None,
                    skipped=status not in FINISHED,
                    output=output,
                )
            )
        return [suite_element(suite)]

    def gate_failure(self, desired, attrs):
        gate = desired.get("gate")
        if not gate:
            return None
        results = attrs.get("results") or []
        failed = [_label(i, t) for i, t in enumerate(results) if t.get("status") == ERROR]
        if len(failed) > gate["max_failed"]:
            return (
                f"{len(failed)} of {len(results)} tests failed (max_failed {gate['max_failed']}): {', '.join(failed)}"
            )
        if attrs.get("status") == ERROR and not failed:
            # A server may mark the campaign ERROR for failed tests; with none, the campaign itself failed.
            return "the campaign ended in ERROR though no test did"
        return None

    def facts(self, attrs: Attrs) -> RunFacts:
        """A device per test (each runs on a VM of its own): passed when READY, failed when ERROR."""
        counts = per_device(
            attrs.get("results"), lambda t: t.get("status") == READY, lambda t: t.get("status") == ERROR
        )
        return judged(attrs, counts)

    def stop(self, ctx, attrs):
        """kyaraben stops a campaign by removing it (the only call there is)."""
        ctx.progress(f"campaign {attrs['id']}: still running; removing it")
        self.remove(ctx, attrs)

    def remove(self, ctx, attrs):
        _client(ctx).delete_campaign(attrs["project"], attrs["id"])

    def delete(self, ctx, id, actual):
        """As every run; one left on the cloud is noted for its project's delete (teardown.py)."""
        super().delete(ctx, id, actual)
        if actual.get("on_destroy") != "delete":
            kept = KeptCampaign(id, str(actual.get("campaign_name") or ""), chosen="on_destroy" in actual)
            kept_campaigns(ctx).note(actual["project"], kept)


def _test_body(test: dict[str, Any]) -> dict[str, Any]:
    return {key: test[key] for key in ("image", "hwconfig", "apks", "packages") if test.get(key) is not None}
