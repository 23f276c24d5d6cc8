"""What the WeTest and apptest.ai emulators share beyond ``emulator_kit``.

Both clouds authenticate with HTTP Basic, take an app as a multipart part, look
inside it, and finish work on a virtual clock with seeded outcomes. Each of
those lives here once:

- ``basic_auth`` / ``require_basic_auth``: the credential pair of a request and
  a handler guard that answers with the cloud's own rejection.
- ``Rejection`` / ``answer_rejections``: a handler (or anything it calls) raises
  the cloud's error envelope instead of threading it back through returns.
- ``upload_directory`` / ``save_upload``: an uploaded part copied in chunks to a
  file, its md5 taken on the way (WeTest finds apps by it; apptest.ai records
  it). Bytes never go into the ``JsonStore``; records keep the path.
- ``inspect_app``: platform, package and version of an APK / AAB / XAPK / APKS /
  IPA / zipped ``.app``, and the defect that would stop a test of it (used by
  apptest.ai's 40xx result codes). Both plain-text and compiled (binary XML)
  ``AndroidManifest.xml`` are read; an AAB's protobuf manifest is not.
- ``virtual_datetime``, ``seeded_random``, ``failing_positions``: timestamps and
  deterministic outcomes from the emulator options.

Usage::

    stored = await save_upload(form["data"], upload_dir)
    facts = inspect_app(stored.path, stored.filename)
"""

from __future__ import annotations

import atexit
import base64
import binascii
import functools
import hashlib
import hmac
import io
import math
import os
import plistlib
import random
import re
import shutil
import struct
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Awaitable, Callable
from xml.etree import ElementTree
from xml.parsers.expat import ExpatError

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from providers.emulator_kit import EmulatorOptions

Handler = Callable[[Request], Awaitable[Response]]

# ---------------------------------------------------------------- auth


def basic_auth(request: Request) -> tuple[str, str] | None:
    """The ``(user, secret)`` pair of an ``Authorization: Basic`` header, if any.

    The value is normally base64 (what ``curl -u`` sends). apptest.ai's doc
    writes the header as ``Basic {user_id}:{access_key}``, unencoded, so a value
    that is not base64 is read as the raw pair.
    """
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = value
    user, separator, secret = decoded.partition(":")
    return (user, secret) if separator else None


def require_basic_auth(accepted: tuple[str, str], rejection: Callable[[], Response]) -> Callable[[Handler], Handler]:
    """Decorate a handler so that only ``accepted`` credentials reach it."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: Request) -> Response:
            given = basic_auth(request)
            # compare_digest on both parts so timing tells nothing about either.
            if given is None or not all(hmac.compare_digest(a.encode(), b.encode()) for a, b in zip(given, accepted)):
                return rejection()
            return await handler(request)

        return guarded

    return decorate


class Rejection(Exception):
    """Raised anywhere below a handler to answer at once with ``response``."""

    def __init__(self, response: Response, reason: str):
        super().__init__(reason)
        self.response = response


def answer_rejections(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def answering(request: Request) -> Response:
        try:
            return await handler(request)
        except Rejection as rejection:
            return rejection.response

    return answering


# ---------------------------------------------------------------- uploads

_CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredUpload:
    path: Path
    filename: str
    size: int
    md5: str


def upload_directory(options: EmulatorOptions, cloud: str) -> Path:
    """Where a cloud's uploads go.

    Beside the data file when the sandbox persists state, so stored paths stay
    valid after a restart; otherwise a temp folder removed when the process exits.
    """
    if options.data_file is not None:
        folder = options.data_file.with_name(f"{options.data_file.name}.{cloud}-uploads")
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    folder = Path(tempfile.mkdtemp(prefix=f"labform-{cloud}-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


async def save_upload(upload: UploadFile, directory: Path) -> StoredUpload:
    """Copy an uploaded part to a new file in ``directory``, hashing as it goes."""
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    handle, name = tempfile.mkstemp(dir=directory, suffix=Path(upload.filename or "").suffix)
    with os.fdopen(handle, "wb") as target:
        while chunk := await upload.read(_CHUNK):
            md5.update(chunk)
            target.write(chunk)
            size += len(chunk)
    return StoredUpload(Path(name), upload.filename or "", size, md5.hexdigest())


def extension(filename: str) -> str:
    """Lower-case extension without the dot: ``"App.APK"`` -> ``"apk"``."""
    return Path(filename).suffix.lower().lstrip(".")


# ---------------------------------------------------------------- time and seeded outcomes

# Virtual second 0 of every emulator clock is this instant, so timestamps are
# reproducible run after run.
VIRTUAL_EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)


def virtual_datetime(seconds: float) -> datetime:
    return VIRTUAL_EPOCH + timedelta(seconds=seconds)


def seeded_random(*parts: object) -> random.Random:
    """A generator fixed by ``parts`` (seed, cloud, object id): same inputs, same draws."""
    return random.Random("|".join(str(part) for part in parts))


def failing_positions(count: int, share: float, rng: random.Random) -> set[int]:
    """Which of ``count`` items fail: ``share`` of them, rounded half up, chosen by ``rng``."""
    failing = min(count, max(0, math.floor(share * count + 0.5)))
    return set(rng.sample(range(count), failing))


# ---------------------------------------------------------------- app inspection

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
        return AppFacts("ios", package, version, AppDefect.NOT_DEVELOPMENT_SIGNED, "no development provisioning profile")
    return AppFacts("ios", package, version)


def _development_signed(archive: zipfile.ZipFile, bundle: str) -> bool:
    """A development profile grants ``get-task-allow``; distribution ones do not."""
    try:
        profile = archive.read(bundle + "embedded.mobileprovision")
    except KeyError:
        return False
    return re.search(rb"<key>get-task-allow</key>\s*<true\s*/>", profile) is not None


# A manifest as a flat list of (tag, {local attribute name: value}) in document order.
Elements = list[tuple[str, dict[str, str]]]

_BINARY_XML_MAGIC = b"\x03\x00\x08\x00"
_STRING_POOL_CHUNK = 0x0001
_START_ELEMENT_CHUNK = 0x0102
_NO_STRING = 0xFFFFFFFF
_TYPE_STRING = 0x03
_UTF8_FLAG = 0x100


def _manifest_elements(manifest: bytes) -> Elements:
    if manifest.startswith(_BINARY_XML_MAGIC):
        return _binary_xml_elements(manifest)
    root = ElementTree.fromstring(manifest)
    return [(_local(element.tag), {_local(k): v for k, v in element.attrib.items()}) for element in root.iter()]


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _binary_xml_elements(data: bytes) -> Elements:
    """Start elements of Android's compiled XML: a header, a string pool, then chunks."""
    strings: list[str] = []
    elements: Elements = []
    offset = struct.unpack_from("<H", data, 2)[0]
    while offset + 8 <= len(data):
        kind, header_size, size = struct.unpack_from("<HHI", data, offset)
        if size < 8:
            raise ValueError(f"corrupt binary XML chunk at byte {offset}")
        if kind == _STRING_POOL_CHUNK:
            strings = _string_pool(data, offset, header_size)
        elif kind == _START_ELEMENT_CHUNK:
            elements.append(_start_element(data, offset + header_size, strings))
        offset += size
    return elements


def _string_pool(data: bytes, base: int, header_size: int) -> list[str]:
    count, _styles, flags, strings_start = struct.unpack_from("<IIII", data, base + 8)
    offsets = struct.unpack_from(f"<{count}I", data, base + header_size)
    read = _utf8_string if flags & _UTF8_FLAG else _utf16_string
    return [read(data, base + strings_start + each) for each in offsets]


def _utf8_string(data: bytes, at: int) -> str:
    _chars, at = _utf8_length(data, at)
    length, at = _utf8_length(data, at)
    return data[at : at + length].decode("utf-8")


def _utf8_length(data: bytes, at: int) -> tuple[int, int]:
    first = data[at]
    if first & 0x80:
        return ((first & 0x7F) << 8) | data[at + 1], at + 2
    return first, at + 1


def _utf16_string(data: bytes, at: int) -> str:
    length = struct.unpack_from("<H", data, at)[0]
    at += 2
    if length & 0x8000:
        length = ((length & 0x7FFF) << 16) | struct.unpack_from("<H", data, at)[0]
        at += 2
    return data[at : at + 2 * length].decode("utf-16-le")


def _start_element(data: bytes, body: int, strings: list[str]) -> tuple[str, dict[str, str]]:
    _namespace, name, attr_start, attr_size, attr_count = struct.unpack_from("<IIHHH", data, body)
    attrs: dict[str, str] = {}
    for index in range(attr_count):
        at = body + attr_start + index * attr_size
        _ns, attr_name, raw, _size, _res0, value_type, value = struct.unpack_from("<IIIHBBI", data, at)
        if raw != _NO_STRING:
            attrs[strings[attr_name]] = strings[raw]
        elif value_type == _TYPE_STRING:
            attrs[strings[attr_name]] = strings[value]
        else:
            attrs[strings[attr_name]] = str(value)
    return strings[name], attrs
