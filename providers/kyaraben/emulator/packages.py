"""What an apk holds for kyaraben: its package, its test instrumentation, or why it is unusable.

The doc reads ``package`` from AndroidManifest.xml, so an upload whose manifest
cannot be read ends in ERROR with that reason. An apk declaring an
``<instrumentation>`` is a test package (GET /android/{id}/testrun lists those);
so is every apk compiled from a test source, whose tests are its scenarios.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from labform.providers.emulation import AppDefect, inspect_app
from labform.providers.emulation.binary_xml import binary_xml_elements, is_binary_xml

TEST_RUNNER = "android.test.InstrumentationTestRunner"
# Defects that make the manifest unreadable; a missing launcher is fine (test apks have none).
UNUSABLE = (AppDefect.INVALID_ARCHIVE, AppDefect.MANIFEST_UNREADABLE)


@dataclass(frozen=True)
class ApkFacts:
    package: str = ""
    instrumentation: str = ""  # "<package>/<runner>" for a test package, else ""
    tests: int = 1
    problem: str = ""


def uploaded_apk(path: Path, filename: str) -> ApkFacts:
    facts = inspect_app(path, filename)
    if facts.defect in UNUSABLE:
        return ApkFacts(problem=f"cannot read AndroidManifest.xml: {facts.detail or facts.defect.value}")
    runner = _instrumentation_runner(path)
    return ApkFacts(package=facts.package, instrumentation=f"{facts.package}/{runner}" if runner else "")


def _instrumentation_runner(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        manifest = archive.read("AndroidManifest.xml")
    if is_binary_xml(manifest):
        elements = binary_xml_elements(manifest)
    else:
        elements = [
            (e.tag.rsplit("}", 1)[-1], {k.rsplit("}", 1)[-1]: v for k, v in e.attrib.items()})
            for e in ElementTree.fromstring(manifest).iter()
        ]
    return next((attrs.get("name", "") for tag, attrs in elements if tag == "instrumentation"), "")


def compiled_source(filename: str, source: str) -> ApkFacts:
    """The test apk a DSL file compiles to; a file with no ``Feature:`` has nothing to compile."""
    stem = re.sub(r"[^a-z0-9]+", "_", Path(filename).stem.lower()).strip("_") or "source"
    package = f"com.zenika.aic.dsl.{stem}.test"
    if not re.search(r"^\s*Feature:", source, re.MULTILINE):
        return ApkFacts(package=package, problem="COMPILING DSL: no Feature found in the test source")
    scenarios = len(re.findall(r"^\s*Scenario:", source, re.MULTILINE))
    return ApkFacts(package=package, instrumentation=f"{package}/{TEST_RUNNER}", tests=max(1, scenarios))
