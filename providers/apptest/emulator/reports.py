"""A finished testset's result documents: JUnit XML (as in the doc's example), JUnit JSON and an HTML page."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

RESULT_HOST = "https://apptest.emulator.invalid"


def result_link(testset: dict[str, Any], index: int) -> str:
    return f"{RESULT_HOST}/testset/{testset['testset_id']}/test/{index + 1}"


def junit_xml(testset: dict[str, Any], project_name: str) -> str:
    """JUnit XML as in the doc: a <system-out> link for a pass, an <error message=link/> otherwise."""
    suites = ElementTree.Element("testsuites", name="TestBot Test")
    suite = ElementTree.SubElement(suites, "testsuite", name=f"{project_name}.TestBot")
    for index, test in enumerate(testset["tests"]):
        case = ElementTree.SubElement(suite, "testcase", name=test["device"], time=_seconds(test))
        if test["outcome"] == "Pass":
            ElementTree.SubElement(case, "system-out").text = result_link(testset, index)
        else:
            ElementTree.SubElement(case, "error", message=result_link(testset, index))
    ElementTree.indent(suites, space="    ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode")


def junit_json(testset: dict[str, Any], project_name: str) -> str:
    cases = []
    for index, test in enumerate(testset["tests"]):
        case: dict[str, Any] = {"name": test["device"], "time": _seconds(test)}
        if test["outcome"] == "Pass":
            case["system-out"] = result_link(testset, index)
        else:
            case["error"] = {"message": result_link(testset, index)}
        cases.append(case)
    suite = {"name": f"{project_name}.TestBot", "testcase": cases}
    return json.dumps({"testsuites": {"name": "TestBot Test", "testsuite": [suite]}})


def result_html(testset: dict[str, Any], project_name: str) -> str:
    rows = "".join(
        f"<tr><td>{_escape(t['device'])}</td><td>{t['outcome']}</td><td>{_seconds(t)}</td>"
        f'<td><a href="{result_link(testset, i)}">result</a></td></tr>'
        for i, t in enumerate(testset["tests"])
    )
    title = _escape(f"{project_name} – {testset['testset_name']}")
    return (
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f"<table><tr><th>Device</th><th>Result</th><th>Time (s)</th><th>Link</th></tr>{rows}</table></body></html>"
    )


def _seconds(test: dict[str, Any]) -> str:
    return f"{test['end'] - test['running_from']:.3f}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
