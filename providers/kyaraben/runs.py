"""kyaraben_campaign: a test campaign, following the shared run flow (providers/runs.py).

A campaign runs each of its tests on a VM of its own (image, hwconfig, apks
installed, packages under test). It is started once per ``triggers``; ``wait``
follows ``campaign_status`` and ``progress``; each campaign test's stdout
(``am instrument -r``'s report) gives its test cases, the run's record
(providers/run_record.py). The gate counts campaign tests whose last attempt
ended in ERROR (``max_failed``) and the record's test cases (``min_pass_rate``,
``flaky``, ``quarantine``); JUnit has one testsuite per campaign test (its VM),
one testcase per test case, its stdout as system-out.

``shards: N`` (or ``shard_time``) splits the campaign's packages into balanced
shards (providers/runs.py): a campaign per shard, each campaign test keeping
the shard's packages. The first is the campaign the plan names, the others
``<name>-shard-K``; each is found again by its name before it is started, so
none starts twice. The run is read, gated and retried over all of them, their
campaign tests in shard order.

``retry: {only: failed_tests}`` re-runs the campaign tests (a VM and its test
package) that had a failing test case, as a new campaign named after the first
(``<name>-attempt-N``, found again by that name if its start's answer was lost);
``all`` re-runs every one. kyaraben selects packages, not single test cases.

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

import builtins
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from labform.providers.base import Attrs, RunFacts, arg, known
from labform.providers.errors import NotFoundError
from labform.providers.kyaraben.admission import CampaignBudget, CampaignPick
from labform.providers.kyaraben.client import CLOUD, in_project
from labform.providers.kyaraben.client import client_of as _client
from labform.providers.kyaraben.planning import derived_name, plan_facts
from labform.providers.kyaraben.resources import HwConfig
from labform.providers.kyaraben.status import ERROR, READY, is_gone, live
from labform.providers.kyaraben.teardown import KeptCampaign, kept_campaigns
from labform.providers.run_record import CaseResult, Outcome, RunRecord
from labform.providers.runs import (
    RetryPolicy,
    RunArguments,
    RunProgress,
    RunResource,
    TestGate,
    judged,
    per_device,
    recorded,
    shard_field,
)

FINISHED = (READY, ERROR)


class CampaignTest(BaseModel):
    """One test of the campaign: the VM it runs on and what it runs."""

    model_config = ConfigDict(extra="forbid")
    image: str = Field(min_length=1, description="Android image (checked against the cloud's images at plan time).")
    hwconfig: HwConfig | None = Field(None, description="Screen and devices of the test's VM.")
    apks: list[str] = Field(default_factory=list, description="Apk ids to install, e.g. ${kyaraben_apk.NAME.id}.")
    packages: list[str] = Field(default_factory=list, description="Packages under test.")


class CampaignGate(TestGate):
    """When a finished campaign passes."""

    max_failed: int | None = Field(
        None,
        ge=0,
        description="How many campaign tests may end in ERROR (by their last attempt); unset: 0, "
        "unless min_pass_rate is set.",
    )


class CampaignRetry(RetryPolicy):
    forms: ClassVar[dict[str, str]] = {
        "failed_tests": "the campaign tests (a VM and its test package) with a failed test, as a new campaign",
        "all": "every campaign test, as a new campaign",
    }
    cloud: ClassVar[str] = "kyaraben"


class CampaignArgs(RunArguments):
    project: str = arg(force_new=True, min_length=1, description="Project id, e.g. ${kyaraben_project.NAME.id}.")
    campaign_name: str | None = arg(
        None, force_new=True, min_length=1, description="Unset, labform derives one (see above)."
    )
    tests: list[CampaignTest] = arg(force_new=True, min_length=1, description="One VM per test.")
    gate: CampaignGate | None = arg(
        None, local=True, description="Fail the apply when more tests end in ERROR than this allows (needs wait)."
    )
    retry: CampaignRetry | None = arg(
        None, local=True, description="Re-run the campaign tests that failed, up to attempts in total (needs wait)."
    )
    budget: CampaignBudget | None = arg(None, local=True, description="Not on this cloud (a validate error says why).")
    pick: CampaignPick | None = arg(None, local=True, description="Not on this cloud (a validate error says why).")


def _test_summary(test: dict[str, Any]) -> dict[str, Any]:
    return {"image": test.get("image"), "package": test.get("package"), "status": test.get("status")}


def _label(index: int, test: dict[str, Any]) -> str:
    return f"#{index + 1} {test.get('image')} {test.get('package') or ''}".rstrip()


class Campaign(RunResource):
    """A test campaign, one VM per test, started once per distinct triggers."""

    type_name = "kyaraben_campaign"
    cloud = CLOUD
    cannot_shard = None
    Args = CampaignArgs
    computed = ("id", "campaign_name", "status", "progress", "results")
    natural_key = ("project", "campaign_name")

    def plan_attributes(self, desired, address=""):
        """An unnamed campaign is named from its plan address and its triggers: found again by that name."""
        if desired.get("campaign_name") is not None:
            return {}
        parts = [address, desired.get("triggers") or []]
        return {"campaign_name": derived_name(*parts)} if known(parts) else {}

    def check(self, desired):
        problems = super().check(desired)
        if not problems and shard_field(desired):
            bare = [
                i + 1 for i, t in enumerate(desired.get("tests") or []) if isinstance(t, dict) and not t.get("packages")
            ]
            if bare:
                where = ", ".join(f"#{i}" for i in bare)
                problems.append(
                    ("tests", f"a sharded campaign's tests each need packages (its units): {where} has none")
                )
        return problems

    def check_remote(self, ctx, desired):
        facts = plan_facts(ctx)
        problems = [
            ("tests", why)
            for index, test in enumerate(desired.get("tests") or [])
            if isinstance(test, dict) and (why := facts.image_problem(test.get("image"), f"tests[{index}].image"))
        ]
        # A VM per campaign test, of every shard: they run at once.
        count = len(_first_bodies(desired)) if desired.get("shard_plan") else len(desired.get("tests") or [])
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
        if desired.get("shard_plan"):
            return self._start_shards(ctx, desired)
        body = {"campaign_name": name, "tests": [_test_body(t) for t in desired["tests"]]}
        campaign_id = _client(ctx).start_campaign(project, body)
        ctx.progress(f"campaign {campaign_id}: started ({name}, {len(body['tests'])} tests)")
        return {"id": campaign_id, "campaign_name": name, "project": project, "status": "QUEUED"}

    def _start_shards(self, ctx, desired):
        """A campaign per shard, each recorded as kyaraben answers it; one the project already has
        under the shard's name (an answer lost, an apply killed) is taken, not started again."""
        project, name = desired["project"], desired["campaign_name"]
        names = [name] + [f"{name}-shard-{k}" for k in range(2, len(desired["shard_plan"]["shards"]) + 1)]
        existing = {
            c["campaign_name"]: c["campaign_id"]
            for c in _client(ctx).campaigns(project)
            if c.get("campaign_name") in names
        }
        started: builtins.list[Attrs] = []
        attrs: Attrs = {}
        for number, (shard_name, tests) in enumerate(zip(names, _shard_bodies(desired), strict=True), 1):
            campaign_id = existing.get(shard_name)
            if campaign_id is None:
                campaign_id = _client(ctx).start_campaign(project, {"campaign_name": shard_name, "tests": tests})
                ctx.progress(
                    f"campaign {campaign_id}: started shard {number} of {len(names)} ({shard_name}, {len(tests)} tests)"
                )
            started.append({"id": campaign_id, "campaign_name": shard_name})
            attrs = {"id": started[0]["id"], "campaign_name": name, "project": project, "status": "QUEUED"}
            if number < len(names):
                ctx.record({**attrs, "starting": True, "shard_runs": started})
        return {**attrs, "shard_runs": started}

    def progress(self, ctx, attrs):
        """The campaign's (a sharded run's: all its campaigns') status and tests, in shard order."""
        reads = [_client(ctx).campaign(attrs["project"], id) for id in _campaign_ids(attrs)]
        statuses = [r.get("campaign_status") for r in reads]
        tests = [t for r in reads for t in r.get("tests") or []]
        done = sum(t.get("status") in FINISHED for t in tests)
        failed = sum(t.get("status") == ERROR for t in tests)
        share = sum(float(r.get("progress") or 0.0) for r in reads) / len(reads)
        status = statuses[0] if len(reads) == 1 else _overall(statuses)
        shards = f", shards {sum(s in FINISHED for s in statuses)}/{len(reads)} finished" if len(reads) > 1 else ""
        text = f"{status}, {share * 100:.0f}%{shards}, tests {done}/{len(tests)} finished, {failed} failed"
        found = {"status": status, "progress": share, "results": [_test_summary(t) for t in tests]}
        ended = all(s in FINISHED or is_gone(r, "campaign_status") for s, r in zip(statuses, reads, strict=True))
        return RunProgress(ended, text, found)

    def cases(self, ctx, attrs, attempt):
        """Each test case its campaign tests' stdout reports; a test that reports none (it could not
        run) is one case, failed with its stdout. ``attempt["units"]``: the first attempt's positions
        the campaign's tests re-run (over all its shards, in order)."""
        tests = [
            test
            for id in _campaign_ids(attrs)
            for test in _client(ctx).campaign(attrs["project"], id).get("tests") or []
        ]
        units = attempt.get("units") or [str(index) for index in range(len(tests))]
        found = []
        for unit, test in zip(units, tests, strict=False):
            device = f"#{int(unit) + 1} {test.get('image')}"
            found += _test_cases(test, unit, device)
        return found

    def rerun(self, ctx, desired, attrs, units, number):
        """A new campaign of the campaign tests ``units``; one already started under its name (an
        answer lost, an apply killed) is taken instead of starting another."""
        project, name = attrs["project"], f"{attrs['campaign_name']}-attempt-{number}"
        found = next((c for c in _client(ctx).campaigns(project) if c.get("campaign_name") == name), None)
        if found is not None:
            ctx.progress(f"campaign {found['campaign_id']}: attempt {number} found by its name {name}")
            return {"id": found["campaign_id"], "campaign_name": name}
        first = _first_bodies(desired)
        body = {"campaign_name": name, "tests": [first[int(u)] for u in units]}
        campaign_id = _client(ctx).start_campaign(project, body)
        ctx.progress(f"campaign {campaign_id}: started attempt {number} ({name}, {len(units)} tests)")
        return {"id": campaign_id, "campaign_name": name}

    def fold_attempt(self, attrs, attempt):
        """Each re-run campaign test's status in place of its earlier one: ``results`` says how
        every campaign test ended, by its last attempt."""
        results = [dict(r) for r in attrs.get("results") or []]
        for unit, result in zip(attempt["units"], attempt["progress"].get("results") or [], strict=False):
            results[int(unit)] = result
        return {**attrs, "results": results}

    def gate_failure(self, desired, attrs):
        gate = desired.get("gate")
        if not gate:
            return None
        limit = gate.get("max_failed")
        if limit is None and gate.get("min_pass_rate") is not None:
            return None
        limit = limit or 0
        results = attrs.get("results") or []
        quarantined = _quarantined_units(attrs, gate.get("quarantine") or [])
        failed = [_label(i, t) for i, t in enumerate(results) if t.get("status") == ERROR and str(i) not in quarantined]
        if len(failed) > limit:
            return f"{len(failed)} of {len(results)} tests failed (max_failed {limit}): {', '.join(failed)}"
        if attrs.get("status") == ERROR and not any(t.get("status") == ERROR for t in results):
            # A server may mark the campaign ERROR for failed tests; with none, the campaign itself failed.
            return "the campaign ended in ERROR though no test did"
        return None

    def shard_units(self, written: Attrs, recorded: Sequence[str] = ()) -> builtins.list[str]:
        """A campaign's tests select packages: each package is a part kyaraben can run apart (a
        package on several tests' VMs is one unit, its shard runs it on each)."""
        tests = written.get("tests")
        packages = [
            package
            for test in (tests if isinstance(tests, list) else [])
            if isinstance(test, dict)
            for package in test.get("packages") or []
        ]
        return builtins.list(dict.fromkeys(packages))

    def facts(self, attrs: Attrs) -> RunFacts:
        """From the record (a device per campaign test, each on a VM of its own; its test cases);
        without one, a campaign test each: passed when READY, failed when ERROR."""
        counts = recorded(attrs) or per_device(
            attrs.get("results"), lambda t: t.get("status") == READY, lambda t: t.get("status") == ERROR
        )
        return judged(attrs, counts)

    def stop(self, ctx, attrs):
        """kyaraben stops a campaign by removing it (the only call there is)."""
        ctx.progress(f"campaign {attrs['id']}: still running; removing it")
        self.remove(ctx, attrs)

    def remove(self, ctx, attrs):
        for id in _campaign_ids(attrs):
            _client(ctx).delete_campaign(attrs["project"], id)

    def delete(self, ctx, id, actual):
        """As every run; those left on the cloud (each shard's) are noted for its project's delete (teardown.py)."""
        super().delete(ctx, id, actual)
        if actual.get("on_destroy") != "delete":
            for shard in actual.get("shard_runs") or [{"id": id, "campaign_name": actual.get("campaign_name")}]:
                kept = KeptCampaign(shard["id"], str(shard.get("campaign_name") or ""), chosen="on_destroy" in actual)
                kept_campaigns(ctx).note(actual["project"], kept)


# ``am instrument -r``'s line for one test (``com.example.test.Scenario1:``, `` FAILED`` when it failed)
# and its ``Time:`` line.
TEST_LINE = re.compile(r"^(?P<classname>[\w$.]+)\.(?P<name>[\w$]+):(?P<failed> FAILED)?\s*$", re.MULTILINE)
TIME_LINE = re.compile(r"^Time: (?P<seconds>[0-9.]+)\s*$", re.MULTILINE)


def _test_cases(test: dict[str, Any], unit: str, device: str) -> list[CaseResult]:
    stdout = str(test.get("stdout") or "")
    status = test.get("status")
    lines = list(TEST_LINE.finditer(stdout))
    timed = TIME_LINE.search(stdout)
    duration = float(timed["seconds"]) / max(1, len(lines)) if timed else None
    if not lines:
        outcome: Outcome = "error" if status == ERROR else "passed" if status == READY else "skipped"
        name = str(test.get("package") or test.get("image") or "campaign test")
        return [
            CaseResult(name, "run", device, unit, outcome, duration, stdout or f"the test ended in {status}", stdout)
        ]
    return [
        CaseResult(
            line["classname"],
            line["name"],
            device,
            unit,
            "failed" if line["failed"] else "passed",
            duration,
            stdout if line["failed"] else "",
            stdout,
        )
        for line in lines
    ]


def _quarantined_units(attrs: Attrs, quarantine: list[str]) -> set[str]:
    """Campaign tests whose every failing case is quarantined: their ERROR does not count."""
    if not quarantine or attrs.get("record") is None:
        return set()
    record = RunRecord.from_json(attrs["record"])
    failing = set(record.failed_units())
    return failing - set(record.failed_units(quarantine))


def _campaign_ids(attrs: Attrs) -> builtins.list[Any]:
    """The campaigns of the run's first attempt: one, or one per shard."""
    return [shard["id"] for shard in attrs.get("shard_runs") or []] or [attrs["id"]]


def _overall(statuses: builtins.list[Any]) -> Any:
    """A sharded run's status: the first still going; once all ended, ERROR if one did, else READY."""
    if ERROR in statuses and all(s in FINISHED for s in statuses):
        return ERROR
    return next((s for s in statuses if s not in FINISHED), READY)


def _shard_bodies(desired: Attrs) -> builtins.list[builtins.list[dict[str, Any]]]:
    """Each shard's campaign tests: every test of the block with its packages that are the shard's."""
    bodies = []
    for shard in desired["shard_plan"]["shards"]:
        units = set(shard["units"])
        tests = [{**t, "packages": [p for p in t.get("packages") or [] if p in units]} for t in desired["tests"]]
        bodies.append([_test_body(t) for t in tests if t["packages"]])
    return bodies


def _first_bodies(desired: Attrs) -> builtins.list[dict[str, Any]]:
    """The campaign tests the first attempt ran, in the order its cases number them."""
    if desired.get("shard_plan"):
        return [body for shard in _shard_bodies(desired) for body in shard]
    return [_test_body(t) for t in desired["tests"]]


def _test_body(test: dict[str, Any]) -> dict[str, Any]:
    return {key: test[key] for key in ("image", "hwconfig", "apks", "packages") if test.get(key) is not None}
