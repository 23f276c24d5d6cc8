"""perfecto_executions and perfecto_commands end to end: paging, every filter as the doc spells it, processing, faults, secrets."""

from __future__ import annotations

import pytest

from labform.providers.perfecto.emulator.executions import virtual_ms
from labform.providers.perfecto.provider import PerfectoSettings
from tests.conftest import state_of
from tests.fixtures.clouds import serve
from tests.functional.perfecto.conftest import PERFECTO_PROVIDER, TOKEN


def write_plan(workdir, data: str, outputs: str) -> None:
    workdir.write(PERFECTO_PROVIDER + "\ndata:\n" + data + "\noutputs:\n" + outputs)


def outputs_of(workdir) -> dict:
    return state_of(workdir)["outputs"]


NIGHTLY = """  perfecto_executions.nightly:
    job_name: nightly
"""
TOTALS = """  total: ${data.perfecto_executions.nightly.total}
  truncated: ${data.perfecto_executions.nightly.truncated}
  failed: ${data.perfecto_executions.nightly.counts.FAILED}
"""


def test_a_1200_execution_report_is_read_across_3_pages(perfecto, workdir):
    """1,200 executions of one job come back in pages of 500 (_page 1, 2, 3); a server that gives only the first 500 is reported as cut short."""
    perfecto.seed(1200, job_name="nightly", failure_share=0.1)
    write_plan(workdir, NIGHTLY, TOTALS)
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    # Data sources are read at plan time and again at apply: each read walks the pages from 1.
    pages = [dict(q)["_page"] for q in perfecto.queries()]
    if perfecto.variants.results == "first_500":
        assert pages == ["1", "2"] * 2
        assert outputs_of(workdir) == {"total": 500, "truncated": True, "failed": outputs_of(workdir)["failed"]}
        assert "the server lets only the first 500 executions be read" in result.stderr
    else:
        assert pages == ["1", "2", "3"] * 2
        assert outputs_of(workdir) == {"total": 1200, "truncated": False, "failed": 120}


EVERY_FILTER = """  perfecto_executions.filtered:
    start_execution_time: 2023-12-31T00:00:00Z
    end_execution_time: 1704067200000
    test_id: [t1, t2]
    execution_id: e1
    tags: [tag1, tag2]
    status: [FAILED, BLOCKED]
    os: ANDROID
    browser_type: CHROME
    browser_version: "120"
    screen_resolution: 1080x1920
    device_type: MOBILE
    device_model: Galaxy S22
    device_id: DEV0001
    job_name: nightly
    job_number: [41, 42]
    job_branch: main
    project_name: Shop app
    project_version: "1.0"
    failure_reason: r-17
    trigger_type: CI/CD
    custom_fields: {team: [payments, checkout]}
    exclude: {tags: Java, status: UNKNOWN}
"""


def test_every_filter_reaches_the_server_as_the_doc_spells_it(perfecto, workdir):
    """Each filter becomes name[0], name[1] … (custom fields customField.NAME[N], exclusions the x prefix, times in ms)."""
    write_plan(workdir, EVERY_FILTER, "  total: ${data.perfecto_executions.filtered.total}\n")
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    sent = perfecto.queries()[0]
    assert sent == [
        ("startExecutionTime[0]", "1703980800000"),
        ("endExecutionTime[0]", "1704067200000"),
        ("id[0]", "t1"),
        ("id[1]", "t2"),
        ("externalId[0]", "e1"),
        ("tags[0]", "tag1"),
        ("tags[1]", "tag2"),
        ("status[0]", "FAILED"),
        ("status[1]", "BLOCKED"),
        ("os[0]", "ANDROID"),
        ("browserType[0]", "CHROME"),
        ("browserVersion[0]", "120"),
        ("screenResolution[0]", "1080x1920"),
        ("deviceType[0]", "MOBILE"),
        ("deviceModel[0]", "Galaxy S22"),
        ("deviceId[0]", "DEV0001"),
        ("jobName[0]", "nightly"),
        ("jobNumber[0]", "41"),
        ("jobNumber[1]", "42"),
        ("jobBranch[0]", "main"),
        ("projectName[0]", "Shop app"),
        ("projectVersion[0]", "1.0"),
        ("failureReason[0]", "r-17"),
        ("triggerType[0]", "CI/CD"),
        ("customField.team[0]", "payments"),
        ("customField.team[1]", "checkout"),
        ("xtags[0]", "Java"),
        ("xstatus[0]", "UNKNOWN"),
        ("_page", "1"),
    ]


def test_filters_select_what_the_doc_says(perfecto, workdir):
    """OR within a field, AND across fields, x excludes: failed or blocked tests of build 42 on Android, except the Login test's."""
    perfecto.seed(30, job_name="shop", job_number=41, failure_share=0.5)
    made = perfecto.seed(30, job_name="shop", job_number=42, failure_share=0.2, blocked_share=0.2)
    write_plan(
        workdir,
        f"  perfecto_executions.red:\n    job_name: shop\n    job_number: 42\n    status: [FAILED, BLOCKED]\n    os: ANDROID\n    exclude: {{test_id: '{made[0]['id']}'}}\n",
        "  ids: ${data.perfecto_executions.red.ids}\n  counts: ${data.perfecto_executions.red.counts}\n",
    )
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    expected = [e for e in made[1:] if e["status"] in ("FAILED", "BLOCKED") and e["platforms"][0]["os"] == "ANDROID"]
    assert sorted(outputs_of(workdir)["ids"]) == sorted(e["id"] for e in expected) and expected
    counts = outputs_of(workdir)["counts"]
    assert counts["PASSED"] == counts["UNKNOWN"] == 0 and counts["FAILED"] + counts["BLOCKED"] == len(expected)


def test_the_time_window_is_sent_as_given_and_the_server_reads_it(perfecto, workdir):
    """A window around one build: the default server reads it as from..to; a server reading the doc's comparisons as written returns none."""
    perfecto.app.clock.advance(100_000)
    made = perfecto.seed(5, job_name="timed")
    starts = [e["startTime"] for e in made]
    window = f"    start_execution_time: {min(starts)}\n    end_execution_time: {virtual_ms(100_000)}\n"
    write_plan(
        workdir,
        "  perfecto_executions.timed:\n    job_name: timed\n" + window,
        "  total: ${data.perfecto_executions.timed.total}\n",
    )
    assert workdir.apply().exit_code == 0
    assert dict(perfecto.queries()[0])["startExecutionTime[0]"] == str(min(starts))
    assert outputs_of(workdir)["total"] == (0 if perfecto.variants.time_window == "as_written" else 5)


def test_waiting_for_processing_reads_until_complete(perfecto, perfecto_options, workdir):
    """With wait, the report is read again until processingStatus is PROCESSING_COMPLETE."""
    perfecto_options.clock = perfecto.app.clock
    perfecto.app.clock.speed = 1.0
    perfecto.seed(3, job_name="nightly", processing=1.0)
    write_plan(
        workdir,
        NIGHTLY + "    wait: {timeout: 30s, poll: 0.2s}\n",
        "  status: ${data.perfecto_executions.nightly.processing_status}\n",
    )
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert (
        "perfecto: 3 executions, PROCESSING\n" in result.stdout
        and "perfecto: 3 executions, PROCESSING_COMPLETE" in result.stdout
    )
    assert outputs_of(workdir)["status"] == "PROCESSING_COMPLETE"
    assert len(perfecto.report_requests()) > 1


def test_waiting_for_processing_times_out_with_the_status(perfecto, workdir):
    """On a frozen clock processing never completes: the plan fails once the wait's timeout passes."""
    perfecto.seed(3, job_name="nightly", processing=60)
    write_plan(
        workdir,
        NIGHTLY + "    wait: {timeout: 1s, poll: 0.2s}\n",
        "  total: ${data.perfecto_executions.nightly.total}\n",
    )
    result = workdir.apply()
    assert result.exit_code == 1 and result.exception is None
    assert "perfecto: wait for processing failed: the report is still PROCESSING after 1s" in result.output


def test_a_report_is_read_through_429s_and_latency(perfecto, perfecto_options, workdir):
    """Injected 429s (Retry-After 0) and latency slow the read down but it completes."""
    perfecto.seed(1200, job_name="nightly")
    perfecto_options.latency = 0.05
    perfecto_options.failure_rate = 0.4
    perfecto_options.failure_kinds = ("429",)
    write_plan(workdir, NIGHTLY, TOTALS)
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    statuses = [r.status for r in perfecto.report_requests()]
    assert 429 in statuses and statuses.count(200) == 2 * (2 if perfecto.variants.results == "first_500" else 3)


COMMANDS = """  perfecto_executions.failed:
    job_name: nightly
    status: FAILED
  perfecto_commands.first:
    test_id: ${data.perfecto_executions.failed.ids.0}
  perfecto_commands.unknown:
    test_id: no-such-test
"""


def test_commands_of_a_failed_test(perfecto, workdir):
    """A failed test's commands in execution order, its failing command last; an unknown test has none."""
    perfecto.seed(4, job_name="nightly", failure_share=0.25)
    outputs = "  failed: ${data.perfecto_commands.first.failed}\n  last: ${data.perfecto_commands.first.commands.3}\n  unknown: ${data.perfecto_commands.unknown.commands}\n"
    write_plan(workdir, COMMANDS, outputs)
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    found = outputs_of(workdir)
    assert found["failed"] == 1 and found["unknown"] == []
    assert (found["last"]["name"], found["last"]["status"], found["last"]["message"]) == (
        "Assert text",
        "FAILURE",
        "Element not found: id=checkout-button",
    )


def test_the_token_never_appears_in_output_or_state(perfecto, workdir):
    """The security token is sent, yet no plan, debug log, JSON plan or state shows it."""
    perfecto.seed(2, job_name="nightly")
    write_plan(workdir, NIGHTLY, TOTALS)
    results = [
        workdir.run("--log-level", "DEBUG", "apply", str(workdir.path), "--auto-approve"),
        workdir.plan(),
        workdir.plan("-json"),
    ]
    assert results[0].exit_code == 0 and "DEBUG" in results[0].stderr, results[0].output
    for result in results:
        assert TOKEN not in result.output
    assert TOKEN not in workdir.state_file.read_text()
    # Sent (the emulator refuses a request without it, see below), and logged masked.
    headers = perfecto.report_requests()[0].headers
    sent = [
        headers[name]
        for name in ("perfecto_authorization", "perfecto-authorization", "authorization")
        if name in headers
    ]
    assert sent in (["(sensitive)"], ["Bearer (sensitive)"])


PROVIDER_WITH_HEADER = """providers:
  perfecto:
    endpoint: ${env.PERFECTO_URL}
    security_token: ${env.PERFECTO_SECURITY_TOKEN}
"""


@pytest.mark.parametrize(
    "variant, token_header, accepted",
    [
        ("default", None, True),
        ("token-header-underscored-only", None, True),
        ("token-header-dashed-only", None, False),
        ("token-header-underscored-only", "PERFECTO_AUTHORIZATION", True),
        ("token-header-dashed-only", "Perfecto-Authorization", True),
        ("token-header-underscored-only", "Perfecto-Authorization", False),
        ("default", "Perfecto-Authorization", True),
    ],
)
def test_the_token_header_setting_names_either_spelling(
    variant, token_header, accepted, perfecto_options, workdir, monkeypatch
):
    """Unset, the token goes as PERFECTO_AUTHORIZATION (the doc's samples); token_header names either spelling,
    and a server reading only the other refuses it with its 401 and a readable reason."""
    with serve("perfecto", perfecto_options, variant, monkeypatch):
        block = PROVIDER_WITH_HEADER + (f"    token_header: {token_header}\n" if token_header else "")
        workdir.write(block + "\ndata:\n" + NIGHTLY + "\noutputs:\n" + TOTALS)
        result = workdir.apply()
    if accepted:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1 and result.exception is None
    assert "list executions failed (401): A valid Perfecto security token is required" in result.output
    assert TOKEN not in result.output


@pytest.mark.parametrize("token", ["", "wrong-perfecto-token"], ids=["empty", "wrong"])
def test_a_refused_token_fails_with_the_status_and_no_secret(token, perfecto, workdir, monkeypatch):
    """A missing or wrong token is refused (the variant's status); the error says why and never echoes the token."""
    monkeypatch.setenv("PERFECTO_SECURITY_TOKEN", token)
    write_plan(workdir, NIGHTLY, TOTALS)
    result = workdir.apply()
    assert result.exit_code == 1 and result.exception is None
    if not token:
        assert "security_token: must not be empty: PERFECTO_SECURITY_TOKEN is empty" in result.output
        return
    status = perfecto.variants.refused_status
    assert (
        f"perfecto: list executions failed ({status}): A valid Perfecto security token is required; the security token was refused"
        in result.output
    )
    assert token not in result.output


def test_the_reporting_server_is_the_cloud_name_with_app():
    """cloud "demo" (https://demo.perfectomobile.com) reads from https://demo.app.perfectomobile.com unless an endpoint is given."""
    assert PerfectoSettings(cloud="demo", security_token="t0ken").server == "https://demo.app.perfectomobile.com"
    assert (
        PerfectoSettings(cloud="demo", endpoint="http://127.0.0.1:9", security_token="t0ken").server
        == "http://127.0.0.1:9"
    )


def test_a_provider_without_cloud_or_endpoint_is_an_error_at_its_block(workdir):
    """Without cloud or endpoint there is no server to ask: the plan fails at the providers block, before any request."""
    workdir.write("providers:\n  perfecto:\n    security_token: t0ken\ndata:\n  perfecto_executions.a: {job_name: x}\n")
    result = workdir.plan()
    assert result.exit_code == 1 and result.exception is None
    assert (
        "main.yaml:2:3: provider perfecto: set cloud (the reporting server is derived from it) or endpoint"
        in result.stderr
    )


def test_a_token_that_slips_into_a_plan_prints_as_sensitive(perfecto, workdir):
    """The token is masked wherever it turns up: here a gate mistakenly named after it."""
    workdir.write(
        PERFECTO_PROVIDER
        + "resources:\n  perfecto_gate.oops:\n    job_name: ${env.PERFECTO_SECURITY_TOKEN}\n    fail_on: [FAILED]\n"
    )
    result = workdir.plan()
    assert result.exit_code == 0, result.output
    assert (
        "job_name          = (sensitive)" in result.stdout and TOKEN not in result.output
    )  # built from a secret: a secret
