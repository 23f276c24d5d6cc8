"""WeTest's "string" times: every format a server may write is read, and one that cannot be read
is never shown as 0 seconds (its JUnit testcase has no time, and a warning says why)."""

from __future__ import annotations

import logging

import pytest

from labform.providers.run_record import RunRecord
from labform.providers.wetest.runs import AutomationTest, _device_result
from labform.providers.wetest.times import span

START = "2024-01-01 00:00:05"


@pytest.mark.parametrize(
    "start, end, seconds",
    [
        (START, "2024-01-01 00:00:09", 4.0),
        ("2024-01-01T00:00:05Z", "2024-01-01T08:00:09.500+08:00", 4.5),
        ("1704067205", "1704067209", 4.0),
        ("1704067205000", "1704067209250", 4.25),
        (START, "2024-01-01T00:00:09Z", 4.0),  # no zone is UTC
    ],
    ids=["doc's emulator format", "ISO 8601 with offsets", "epoch seconds", "epoch millis", "mixed"],
)
def test_every_time_format_gives_the_span(start, end, seconds):
    assert span(start, end) == seconds


@pytest.mark.parametrize(
    "start, end", [(START, ""), (START, None), (START, "soon"), ("", ""), (START, "2024-01-01 00:00:01")]
)
def test_a_span_that_cannot_be_read_is_none_not_zero(start, end):
    assert span(start, end) is None


def test_an_unreadable_time_leaves_the_testcase_without_a_time_and_warns(caplog):
    devices = [
        _device_result(
            {
                "device_id": 1,
                "model": "Pixel",
                "result_code": 1,
                "device_start_time": START,
                "end_time": "2024-01-01 00:00:09",
            }
        ),
        _device_result(
            {"device_id": 2, "model": "Galaxy", "result_code": 1, "device_start_time": START, "end_time": "later"}
        ),
    ]
    test = AutomationTest()
    attrs = {"id": 7, "device_results": devices}
    record = RunRecord()
    record.add(1, test.cases(None, attrs, {"number": 1}))
    with caplog.at_level(logging.WARNING, logger="labform.wetest"):
        suite = test.junit_suites(None, {**attrs, "record": record.to_json()})[0]
    times = [case.get("time") for case in suite.findall("testcase")]
    assert times == ["4.000", None]
    assert "cannot read the times of Galaxy #2 (later); their JUnit testcases have no time" in caplog.text
