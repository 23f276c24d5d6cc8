"""What an uploaded app says about itself, and the defect that would stop a test of it.

Clouds look inside uploads: platform, package and version of an APK / AAB /
XAPK / APKS / IPA / zipped ``.app``, and why it cannot be tested (apptest.ai's
40xx result codes; Bitbar's test-file package). Both plain-text and compiled
(binary XML) ``AndroidManifest.xml`` are read; an AAB's protobuf manifest is not.

    facts = inspect_app(stored.path, stored.filename)
"""

from __future__ import annotations

import io
import plistlib
import re
import struct
import zipfile
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers.expat import ExpatError

from labform.providers.emulation.binary_xml import Elements, binary_xml_elements, is_binary_xml


def extension(filename: str) -> str:
    """Lower-case extension without the dot: ``"App.APK"`` -> ``"apk"``."""
    return Path(filename).suffix.lower().lstrip(".")


IOS_EXTENSIONS = frozenset({"ipa", "app", "zip"})
LAUNCHER_CATEGORY = "android.intent.category.LAUNCHER"


class AppDefect(Enum):
    """Why an app file cannot be tested; each cloud maps these to its own codes."""

    INVALID_ARCHIVE = "invalid archive"
    MANIFEST_UNREADABLE = "manifest unreadable"
    NO_LAUNCHER = "no launchable activity"
    PLIST_UNREADABLE = "Info.plist unreadable"
    NOT_DEVELOPMENT_SIGNED = "not development signed"


@dataclass(frozen=True)
class AppFacts:
    platform: str  # "android" or "ios", from the extension
    package: str = ""
    version: str = ""
    defect: AppDefect | None = None
    detail: str = ""


def app_platform(filename: str) -> str:
    return "ios" if extension(filename) in IOS_EXTENSIONS else "android"


def inspect_app(path: Path, filename: str) -> AppFacts:
    """Read what ``filename`` (stored at ``path``) declares about itself."""
    kind = extension(filename)
    platform = app_platform(filename)
    try:
        with zipfile.ZipFile(path) as archive:
            if kind == "ipa":
                return _inspect_ios_bundle(archive, payload=True)
            if kind in ("app", "zip"):
                # A zipped .app is a simulator build: nothing to check about signing.
                return _inspect_ios_bundle(archive, payload=False)
            if kind == "aab":
                # An AAB's manifest is protobuf, which this emulator does not decode.
                return AppFacts("android")
            if kind in ("xapk", "apks"):
                return _inspect_split_apks(archive)
            return _inspect_apk(archive)
    except zipfile.BadZipFile:
        return AppFacts(platform, defect=AppDefect.INVALID_ARCHIVE, detail="not a zip archive")


def _inspect_split_apks(archive: zipfile.ZipFile) -> AppFacts:
    apks = sorted(name for name in archive.namelist() if name.endswith(".apk"))
    if not apks:
        return AppFacts("android", defect=AppDefect.INVALID_ARCHIVE, detail="no .apk inside")
    base = next((name for name in apks if "base" in Path(name).name), apks[0])
    try:
        with zipfile.ZipFile(io.BytesIO(archive.read(base))) as inner:
            return _inspect_apk(inner)
    except zipfile.BadZipFile:
        return AppFacts("android", defect=AppDefect.INVALID_ARCHIVE, detail=f"{base} is not a zip archive")


def _inspect_apk(archive: zipfile.ZipFile) -> AppFacts:
    try:
        manifest = archive.read("AndroidManifest.xml")
    except KeyError:
        return AppFacts("android", defect=AppDefect.INVALID_ARCHIVE, detail="AndroidManifest.xml not found")
    try:
        elements = _manifest_elements(manifest)
    except (ElementTree.ParseError, ValueError, IndexError, struct.error) as error:
        return AppFacts("android", defect=AppDefect.MANIFEST_UNREADABLE, detail=str(error) or type(error).__name__)
    root = next((attrs for tag, attrs in elements if tag == "manifest"), {})
    package, version = root.get("package", ""), root.get("versionName", "")
    if not any(tag == "category" and attrs.get("name") == LAUNCHER_CATEGORY for tag, attrs in elements):
        return AppFacts("android", package, version, AppDefect.NO_LAUNCHER, LAUNCHER_CATEGORY)
    return AppFacts("android", package, version)


def _inspect_ios_bundle(archive: zipfile.ZipFile, payload: bool) -> AppFacts:
    pattern = re.compile(r"^Payload/[^/]+\.app/Info\.plist$" if payload else r"^(?:[^/]+/)?[^/]+\.app/Info\.plist$")
    plist_name = next((name for name in archive.namelist() if pattern.match(name)), None)
    if plist_name is None:
        return AppFacts("ios", defect=AppDefect.INVALID_ARCHIVE, detail="no .app/Info.plist")
    try:
        info = plistlib.loads(archive.read(plist_name))
    except (plistlib.InvalidFileException, ExpatError, ValueError) as error:
        return AppFacts("ios", defect=AppDefect.PLIST_UNREADABLE, detail=str(error) or type(error).__name__)
    if not isinstance(info, dict):
        return AppFacts("ios", defect=AppDefect.PLIST_UNREADABLE, detail="Info.plist is not a dictionary")
    package = str(info.get("CFBundleIdentifier", ""))
    version = str(info.get("CFBundleShortVersionString", info.get("CFBundleVersion", "")))
    if payload and not _development_signed(archive, plist_name.removesuffix("Info.plist")):
        return AppFacts(
            "ios", package, version, AppDefect.NOT_DEVELOPMENT_SIGNED, "no development provisioning profile"
        )
    return AppFacts("ios", package, version)


def _development_signed(archive: zipfile.ZipFile, bundle: str) -> bool:
    """A development profile grants ``get-task-allow``; distribution ones do not."""
    try:
        profile = archive.read(bundle + "embedded.mobileprovision")
    except KeyError:
        return False
    return re.search(rb"<key>get-task-allow</key>\s*<true\s*/>", profile) is not None


def _manifest_elements(manifest: bytes) -> Elements:
    if is_binary_xml(manifest):
        return binary_xml_elements(manifest)
    root = ElementTree.fromstring(manifest)
    return [(_local(element.tag), {_local(k): v for k, v in element.attrib.items()}) for element in root.iter()]


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]
