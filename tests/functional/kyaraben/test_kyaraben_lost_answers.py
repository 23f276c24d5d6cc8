"""Answers lost after kyaraben acted: an apk install is sent again (the doc allows reinstalling),
a test source or VM found by its natural key still gets its compilation and its apks, and an
upload found by its name is awaited until READY."""

from __future__ import annotations

import pytest

from labform.providers.emulation.options import FAULTS_AFTER
from tests.functional.kyaraben.conftest import PROJECT_WITH_APK, WAIT, resources_of, write_apk, write_lab

# At 30% faults, this seed's first apk install, first test source upload and first VM create
# all lose their answer (and the second install does not).
SEED = 29


@pytest.mark.parametrize("kind", FAULTS_AFTER)
def test_lost_answers_still_leave_the_apks_installed_and_the_test_source_compiled(
    kind, running_clock, kyaraben, workdir
):
    write_lab(workdir, f"{WAIT}\ngate: {{max_failed: 0}}")
    kyaraben.app.options.failure_kinds, kyaraben.app.options.failure_rate, kyaraben.app.options.seed = (
        (kind,),
        0.3,
        SEED,
    )
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    for address in ("kyaraben_testsource.checkout", "kyaraben_avm.phone"):
        assert f"{address}: " in result.output and "found what the create made by its natural key" in result.output, (
            result.output
        )
    state = resources_of(workdir)
    vm, source = state["kyaraben_avm.phone"], state["kyaraben_testsource.checkout"]["attributes"]
    installs = [r for r in kyaraben.app.log.matching("POST") if r.path.startswith(f"/android/{vm['id']}/apk/")]
    assert len(installs) == 2  # the first one's answer was lost: sent again
    kyaraben.app.options.failure_rate = 0.0
    api = kyaraben.api()
    assert api.get(f"/android/{vm['id']}/apk").json()["packages"] == ["com.labform.sample"]
    assert source["compile"] is True and source["apk_status"] == "READY"
    assert api.get(f"/projects/{source['project']}/apk/{source['apk_id']}").json()["apk"]["status"] == "READY"
    assert len(kyaraben.records("testsources")) == 1
    assert len([v for v in kyaraben.records("avms") if not v["campaign_id"]]) == 1
    kyaraben.app.options.failure_rate = 0.3
    again = workdir.plan("--detailed-exitcode")
    assert again.exit_code == 0, again.output


@pytest.fixture
def slow_uploads(running_clock, emulator_options):
    """Uploads take five seconds to be READY, so the listing right after the upload shows it still uploading."""
    emulator_options.job_duration = 5.0


@pytest.mark.parametrize("kind", FAULTS_AFTER)
def test_an_upload_found_by_its_name_is_awaited_until_ready(kind, slow_uploads, kyaraben, workdir):
    workdir.write(PROJECT_WITH_APK.replace("APP", str(write_apk(workdir.path))))
    kyaraben.app.options.failure_kinds, kyaraben.app.options.failure_rate, kyaraben.app.options.seed = (
        (kind,),
        0.3,
        6,
    )  # seed 6: the upload's answer is lost
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert "kyaraben_apk.app: " in result.output and "found what the create made by its natural key" in result.output, (
        result.output
    )
    assert resources_of(workdir)["kyaraben_apk.app"]["attributes"]["status"] == "READY"
    assert len(kyaraben.records("apks")) == 1
