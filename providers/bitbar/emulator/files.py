"""Files Bitbar makes for download: reports (CSV, PDF, zipped HTML), JUnit XML, zips of stored files."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from starlette.responses import Response

from labform.providers.bitbar.emulator.formats import iso
from labform.providers.bitbar.emulator.timing import FAILURE_MESSAGE, FAILURE_TYPE
from labform.providers.bitbar.emulator.wire import download
from labform.providers.emulation import tiny_pdf, zip_bytes


def write_zip(target: Path, members: list[tuple[str, Path]]) -> None:
    """Zip files from disk without loading them (uploads may be hundreds of MiB)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for name, path in members:
            archive.write(path, name)


def report_response(report_type: str, name: str, title: str, header: list[str], rows: list[list[Any]]) -> Response:
    lines = [[str(cell) for cell in row] for row in rows]
    if report_type == "CSV":
        text = io.StringIO()
        csv.writer(text).writerows([header, *lines])
        return download(text.getvalue().encode(), f"{name}.csv", "text/csv")
    if report_type == "PDF":
        pdf_lines = [title, "", " | ".join(header), *(" | ".join(r) for r in lines)]
        return download(tiny_pdf(pdf_lines), f"{name}.pdf", "application/pdf")
    cells = "".join("<tr>" + "".join(f"<td>{_html(c)}</td>" for c in r) + "</tr>" for r in lines)
    head = "".join(f"<th>{_html(h)}</th>" for h in header)
    page = f"<!DOCTYPE html><html><head><title>{_html(title)}</title></head><body><h1>{_html(title)}</h1>"
    page += f"<table><tr>{head}</tr>{cells}</table></body></html>"
    return download(zip_bytes([("index.html", page.encode())]), f"{name}.zip", "application/zip")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def junit_xml(suite_name: str, cases: list[dict[str, Any]], started: float) -> bytes:
    failures = sum(case["failed"] for case in cases)
    suite = ElementTree.Element(
        "testsuite",
        name=suite_name,
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        skipped="0",
        time=f"{sum(case['time'] for case in cases):.3f}",
        timestamp=iso(started),
    )
    for case in cases:
        testcase = ElementTree.SubElement(
            suite, "testcase", classname=case["className"], name=case["name"], time=f"{case['time']:.3f}"
        )
        if case["failed"]:
            failure = ElementTree.SubElement(testcase, "failure", message=FAILURE_MESSAGE, type=FAILURE_TYPE)
            failure.text = f"{FAILURE_TYPE}: {FAILURE_MESSAGE}\n\tat {case['className']}.{case['name']}"
    return ElementTree.tostring(suite, encoding="utf-8", xml_declaration=True)
