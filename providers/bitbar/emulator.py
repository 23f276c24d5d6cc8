"""Bitbar Testing API v2 emulator (shared/api-docs/bitbar-testing-api-v2.txt).

Faithful to the doc: every documented path and method (the 74 ``bitbar`` rows of
``endpoints.tsv``), the status code each endpoint lists (201 create, 202 update,
204 delete, 201 for a config update, 200 for a config-parameter delete and for a
project notification ...), the object shapes (``project``, ``projectConfig``,
``testRun``, ``deviceRun``, ``state`` ...), the ``list`` envelope (``next``,
``previous``, ``data``, ``offset``, ``limit``, ``total``, ``search``, ``sort``,
``empty``), the ``error`` object ``{statusCode, message}``, XML unless the client
sends ``Accept: application/json``, OAuth2 password and refresh_token grants,
the API key as HTTP Basic user, and ``/api/v2/devices`` answering without auth.

Where the doc is silent or contradicts itself, this emulator decides, and says so:

- One account: every ``/me`` object belongs to the seeded user (``USER_ID``).
  Objects of another project or run answer 404, like unknown ids. Public device
  groups can be read through ``/me/device-groups/{id}`` but changing one is 403.
  A share's e-mail gets a user id on first use (no user directory here).
- 409 "Resource exists": a project name (create), a config parameter key in a
  project, a share e-mail in a project, a tag name on a run, a device already in
  a group, a notification for the same e-mail and project (its type is changed
  with an update, not by adding a second one). Renaming a project onto an
  existing name is 400: the update endpoint lists no 409.
- Parameters come from the query string or an x-www-form-urlencoded body (the
  body wins): the doc's examples use the query, real clients send forms.
- A run's ``name`` is optional (default ``Test run N``) although the table says
  required: the doc's own example starts a run without one. Starting a run
  needs an application (and, in FULL_RUN and UIAUTOMATOR modes, a test file;
  in UIAUTOMATOR mode ``uiAutomatorTestClasses``) and a non-empty device group,
  else 400; ``projectConfig.runAvailable`` says the same in advance.
- ``testRun`` also carries ``projectId``, ``startTime``, ``endTime`` and
  ``deviceRunCount`` (later Bitbar APIs have them; the v2 table does not).
  ``successRatio`` / ``executionRatio`` are shares of the run's devices, as the
  doc words them, null while the run is WAITING.
- A refresh answers ``token_type`` "bearer" and the same refresh token, as the
  doc's example does (its table says "refresh"). ``/oauth/token`` answers JSON
  whatever the Accept header, like any OAuth2 server.
- Product rule, not Bitbar's: an ``access_token`` in the URL query is refused
  with 401 although the doc's notes say to put it there. Tokens travel only in
  headers, where proxies and logs do not keep them.
- Get screenshot answers the ``screenshot`` object; with ``Accept: image/png``
  it answers the image itself (the doc has no other way to fetch one).
  ``screenshots.zip`` before its state is READY answers 404 (the only
  documented failure); generation takes ``0.1 * job_duration``.
- Reports honour ``type`` (CSV text, a small valid PDF, a ZIP holding
  ``index.html``); ``preview=true`` keeps the first 10 rows.
- ``search`` is a case-insensitive substring match on the listed objects'
  name-like field (``displayName``, ``name``, ``key``, ``email``,
  ``userEmail``, ``originalName``, ...). ``sort`` is ``<field>_a`` or
  ``<field>_d`` on any scalar field; ``name`` means that name-like field.
  Without ``sort``, lists are in ascending id order.
- Uploads are stored as files (never in the JSON store); a data file must be a
  ZIP (the doc says so); a test file's ``packageName`` / ``bundleIdentifier``
  is read from the archive when it can be, else derived from the file name.
- Deleting a device group moves projects that used it to "Free devices".

Run timing (virtual seconds on ``options.clock``, ``D = options.job_duration``):
a run is WAITING for ``0.1 * D``, then its device runs execute in the window up
to ``D`` -- all at once with the PARALLEL scheduler, one after another in equal
slots with SERIAL. Each device run passes the states WAITING, PREPARING,
DEVICE_TARGET_INSTALLING, DEVICE_TEST_INSTALLING, DEVICE_RUNNING (half of its
window; test cases finish evenly across it), RESULTS_WAITING and
RESULTS_PROCESSING. The run is FINISHED when all device runs are. Everything is
computed when read; no background task runs. Results are fixed at run start:
4-12 test cases per device, ``failure_share`` of the run's cases failing (chosen
by ``seed``); a device run with a failing case is FAILED, one without is
SUCCEEDED, or WARNING with probability ``failure_share / 2``.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
import struct
import time
import uuid
import zipfile
import zlib
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable
from urllib.parse import urlencode
from xml.etree import ElementTree

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from providers.emulator_helpers import (
    basic_auth,
    failing_positions,
    inspect_app,
    save_upload,
    seeded_random,
    upload_directory,
    virtual_datetime,
)
from providers.emulator_kit import EmulatorApp, EmulatorOptions, JsonStore, page_window

SANDBOX_API_KEY = "sandbox-bitbar-key"
SANDBOX_USERNAME = "sandbox@labform.dev"
SANDBOX_PASSWORD = "sandbox-password"

OAUTH_CLIENT_ID = "testdroid-cloud-api"
DEFAULT_TOKEN_TTL = 3599
AUTH_REQUIRED = "Full authentication is required to access this resource"

USER_ID = 31595291
USER_DISPLAY_NAME = "Sandbox User"
FREE_DEVICES_GROUP_ID = 1
DEVICE_IDS = range(300, 360)

PROJECT_TYPES = ("ANDROID", "CTS", "IOS", "UIAUTOMATOR")
OS_TYPES = ("ANDROID", "IOS")
SCHEDULERS = ("PARALLEL", "SERIAL")
MODES = ("FULL_RUN", "APP_CRAWLER", "CTS", "UIAUTOMATOR", "IOS")
LIMITATION_TYPES = ("PACKAGE", "CLASS")
NOTIFICATION_TYPES = ("ALWAYS", "ON_FAILURE")
REPORT_TYPES = ("HTML", "PDF", "CSV")
REPORTS = ("summary", "failures", "detail-failures")
FILE_KINDS = ("application", "test", "data")
# The doc marks FULL_RUN "Default"; projects of the other types default to their own mode.
DEFAULT_MODE = {"ANDROID": "FULL_RUN", "CTS": "CTS", "UIAUTOMATOR": "UIAUTOMATOR", "IOS": "IOS"}
MODES_NEEDING_TEST_FILE = ("FULL_RUN", "UIAUTOMATOR")
PREVIEW_ROWS = 10
FINAL_STATUSES = ("SUCCEEDED", "WARNING", "FAILED")

# ---------------------------------------------------------------- seeded catalogue

PINNED_DEVICES = {304: ("Sony Xperia Z C6603", "ANDROID"), 337: ("Samsung Galaxy S4 GT-I9500", "ANDROID")}
# 20 more Sony phones: with the pinned Xperia Z, search=Sony finds 21, as in the doc's example.
SONY_MODELS = (
    "Sony Xperia Z1 C6903", "Sony Xperia Z2 D6503", "Sony Xperia Z3 D6603", "Sony Xperia Z3 Compact D5803",
    "Sony Xperia Z5 E6653", "Sony Xperia Z5 Compact E5823", "Sony Xperia Z5 Premium E6853",
    "Sony Xperia X F5121", "Sony Xperia X Compact F5321", "Sony Xperia XZ F8331", "Sony Xperia XZ1 G8341",
    "Sony Xperia XZ2 H8216", "Sony Xperia XZ3 H8416", "Sony Xperia XA F3111", "Sony Xperia XA1 G3121",
    "Sony Xperia XA2 H3113", "Sony Xperia 1 J9110", "Sony Xperia 5 J9210", "Sony Xperia 10 I4113",
    "Sony Xperia M C1905",
)  # fmt: skip
OTHER_ANDROID_MODELS = (
    "Samsung Galaxy S3 GT-I9300", "Samsung Galaxy S5 SM-G900F", "Samsung Galaxy S6 SM-G920F",
    "Samsung Galaxy S7 SM-G930F", "Samsung Galaxy S8 SM-G950F", "Samsung Galaxy S9 SM-G960F",
    "Samsung Galaxy S10 SM-G973F", "Samsung Galaxy Note3 SM-N9005", "Samsung Galaxy Note8 SM-N950F",
    "Google Nexus 4 LG-E960", "Google Nexus 5 LG-D821", "Google Nexus 7 ME370T", "Google Pixel 2 G011A",
    "Google Pixel 4 G020I", "Google Pixel 6 GB7N6", "LG G2 D802", "LG G4 H815", "HTC One M7 PN071",
    "HTC One M8 0P6B100", "Motorola Moto G XT1032", "Huawei P20 EML-L29", "Huawei P30 ELE-L29",
    "OnePlus 6 A6003", "Xiaomi Mi9 M1902F1G",
)  # fmt: skip
APPLE_MODELS = (
    "Apple iPhone 5s A1457", "Apple iPhone 6 A1586", "Apple iPhone 6s A1688", "Apple iPhone 7 A1778",
    "Apple iPhone 8 A1905", "Apple iPhone X A1901", "Apple iPhone XS A2097", "Apple iPhone 11 A2221",
    "Apple iPhone 12 A2403", "Apple iPhone 13 A2633", "Apple iPhone SE A1723", "Apple iPad Air2 A1566",
    "Apple iPad mini4 A1538", "Apple iPad Pro11 A1980",
)  # fmt: skip
FREE_MODELS = frozenset(
    {"Sony Xperia Z C6603", "Google Nexus 5 LG-D821", "Samsung Galaxy S5 SM-G900F", "LG G4 H815", "Motorola Moto G XT1032"}
)
# (softwareVersion id, releaseVersion, apiLevel); 4.1.2 is id 20 as in the doc's example.
ANDROID_VERSIONS = (
    (18, "4.0.4", 15), (20, "4.1.2", 16), (21, "4.2.2", 17), (22, "4.4.2", 19), (23, "5.1.1", 22),
    (24, "6.0.1", 23), (25, "7.1.2", 25), (26, "8.1.0", 27), (27, "9", 28), (28, "10", 29), (29, "11", 30),
    (30, "12", 31),
)  # fmt: skip
IOS_VERSIONS = ((40, "12.5.7", 12), (41, "13.7", 13), (42, "14.8", 14), (43, "15.7", 15), (44, "16.6", 16))
# The doc's example device, field for field.
DEVICE_304 = {
    "softwareVersion": {"id": 20, "releaseVersion": "4.1.2", "apiLevel": 16},
    "creditsPrice": 0,
    "imageTop": 40,
    "imageLeft": 32,
    "imageWidth": 185,
    "imageHeight": 340,
}
IMAGE_BASE = "https://cloud.testdroid.com/resources/images/devices"

# (id, displayName, osType, which devices) of the public groups; ids stay below 100.
PUBLIC_GROUPS: tuple[tuple[int, str, str, Callable[[dict[str, Any]], bool]], ...] = (
    (FREE_DEVICES_GROUP_ID, "Free devices", "ANDROID", lambda d: d["displayName"] in FREE_MODELS),
    (2, "Android devices", "ANDROID", lambda d: d["osType"] == "ANDROID"),
    (3, "iOS devices", "IOS", lambda d: d["osType"] == "IOS"),
    (4, "Sony devices", "ANDROID", lambda d: d["displayName"].startswith("Sony")),
)

# First id minus one of each object kind: the doc's example ids come out first.
ID_STARTS = {
    "project": 31945181,
    "config": 31424,
    "parameter": 0,
    "file": 27169,
    "sharing": 172,
    "user": 278814,
    "run": 31945209,
    "deviceRun": 31949801,
    "tag": 32058489,
    "deviceGroup": 4147,
    "notification": 31981819,
}


def seed_devices(seed: int) -> list[dict[str, Any]]:
    """About 60 devices, ids 300-359; names and ids fixed, prices and versions from ``seed``."""
    rng = seeded_random(seed, "bitbar", "devices")
    unpinned_ids = (i for i in DEVICE_IDS if i not in PINNED_DEVICES)
    models = [(m, "ANDROID") for m in SONY_MODELS + OTHER_ANDROID_MODELS] + [(m, "IOS") for m in APPLE_MODELS]
    catalogue = dict(PINNED_DEVICES) | {next(unpinned_ids): model for model in models}
    devices = [_device(device_id, name, os_type, rng) for device_id, (name, os_type) in sorted(catalogue.items())]
    for device in devices:
        if device["id"] == 304:
            device.update(DEVICE_304)
    return devices


def _device(device_id: int, name: str, os_type: str, rng: random.Random) -> dict[str, Any]:
    prefix = "-".join(name.split()[:-1])  # the doc's "Sony-Xperia-Z": the name without its model code
    version_id, release, api_level = rng.choice(IOS_VERSIONS if os_type == "IOS" else ANDROID_VERSIONS)
    return {
        "id": device_id,
        "displayName": name,
        "softwareVersion": {"id": version_id, "releaseVersion": release, "apiLevel": api_level},
        "creditsPrice": 0 if name in FREE_MODELS else rng.choice((1, 2, 3, 5)),
        "imagePrefix": prefix,
        "imageTop": rng.randint(30, 60),
        "imageLeft": rng.randint(15, 35),
        "imageWidth": rng.randint(170, 200),
        "imageHeight": rng.randint(320, 360),
        "frameExtraWidth": None,
        "osType": os_type,
        **{f"frame{h}Url": f"{IMAGE_BASE}/{prefix}-h{h}.png" for h in (80, 100, 160, 400)},
    }


def initial_data(seed: int, username: str) -> dict[str, Any]:
    devices = seed_devices(seed)
    groups = {
        str(group_id): {
            "id": group_id,
            "name": "public-" + slug(display_name, "-"),
            "displayName": display_name,
            "userId": None,
            "osType": os_type,
            "public": True,
            "deviceIds": [d["id"] for d in devices if member(d)],
        }
        for group_id, display_name, os_type, member in PUBLIC_GROUPS
    }
    return {
        "user": {"id": USER_ID, "email": username, "displayName": USER_DISPLAY_NAME},
        "users": {username: USER_ID},
        "devices": {str(d["id"]): d for d in devices},
        "deviceGroups": groups,
        "projects": {},
        "configs": {},
        "parameters": {},
        "files": {},
        "sharings": {},
        "notifications": {},
        "runs": {},
        "deviceRuns": {},
        "tags": {},
        "accessTokens": {},
        "refreshTokens": {},
    }


# ---------------------------------------------------------------- small helpers


class ApiError(Exception):
    """Raised anywhere below a handler; answered as the doc's ``error`` object."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"statusCode": status, "message": message}


def slug(text: str, separator: str = "") -> str:
    return separator.join(re.findall(r"[a-z0-9]+", text.lower())) or "app"


def millis(seconds: float) -> int:
    """A virtual time as the doc's timestamps: milliseconds since the epoch."""
    return int(virtual_datetime(seconds).timestamp() * 1000)


def iso(seconds: float) -> str:
    return virtual_datetime(seconds).isoformat(timespec="milliseconds")


def readable_size(size: int) -> str:
    """``4.9 MB``, ``82 KB``, ``2 MB``: one decimal, dropped when it is 0."""
    units = ("B", "KB", "MB", "GB")
    value, unit = float(size), 0
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    return f"{value:.1f}".removesuffix(".0") + f" {units[unit]}"


def tiny_png(seed: int) -> bytes:
    """A valid 1x1 PNG whose colour follows ``seed`` (icons, screenshots)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    rgb = bytes(((seed * 67) % 256, (seed * 131) % 256, (seed * 197) % 256))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" + rgb)) + chunk(b"IEND", b"")


def tiny_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing ``lines`` in Helvetica, with a correct xref table."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "".join(f"({escape(line)}) '\n" for line in lines[:60])
    content = f"BT /F1 9 Tf 40 800 Td 12 TL\n{text}ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return pdf + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def zip_bytes(members: Iterable[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members:
            archive.writestr(name, payload)
    return buffer.getvalue()


def write_zip(target: Path, members: list[tuple[str, Path]]) -> None:
    """Zip files from disk without loading them (uploads may be hundreds of MiB)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for name, path in members:
            archive.write(path, name)


def xml_element(tag: str, value: Any, item_tag: str) -> ElementTree.Element:
    """Objects become child elements, arrays repeat ``item_tag``, null is an empty element."""
    element = ElementTree.Element(tag)
    if isinstance(value, dict):
        element.extend(xml_element(key, child, item_tag) for key, child in value.items())
    elif isinstance(value, list):
        element.extend(xml_element(item_tag, child, item_tag) for child in value)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element


def wants_json(request: Request) -> bool:
    # OAuth2 token endpoints speak JSON; everything else is XML unless asked (doc, first lines).
    return "application/json" in request.headers.get("accept", "") or request.url.path.startswith("/oauth/")


def reply(request: Request, body: Any, status: int = 200, root: str = "object", item: str = "item") -> Response:
    if wants_json(request):
        return JSONResponse(body, status_code=status)
    xml = ElementTree.tostring(xml_element(root, body, item), encoding="utf-8", xml_declaration=True)
    return Response(xml, status, media_type="application/xml")


def empty(status: int) -> Response:
    """The doc's "(empty string)" success response."""
    return Response(b"", status_code=status)


def download(payload: bytes, filename: str, media_type: str) -> Response:
    return Response(payload, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def request_params(request: Request) -> dict[str, str]:
    """Query-string parameters, overlaid by an x-www-form-urlencoded body if there is one."""
    values = dict(request.query_params)
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        values.update((key, value) for key, value in form.items() if isinstance(value, str))
    return values


def required(values: dict[str, str], name: str) -> str:
    value = values.get(name, "").strip()
    if not value:
        raise ApiError(400, f"Parameter '{name}' is required")
    return value


def one_of(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ApiError(400, f"Invalid {name} '{value}': expected one of {', '.join(allowed)}")
    return value


def parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise ApiError(400, f"Invalid {name} '{value}': expected true or false")
    return lowered == "true"


def parse_int(name: str, value: str, minimum: int = 0) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ApiError(400, f"Invalid {name} '{value}': expected a number") from None
    if number < minimum:
        raise ApiError(400, f"Invalid {name} '{value}': must be at least {minimum}")
    return number


def parse_email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ApiError(400, f"Invalid email '{value}'")
    return value


def field_value(item: dict[str, Any], path: str, missing: Any = None) -> Any:
    """``item["device"]["displayName"]`` for the path ``device.displayName``."""
    value: Any = item
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return missing
        value = value[part]
    return value


def sort_items(items: list[dict[str, Any]], sort: str, name_field: str) -> list[dict[str, Any]]:
    """``<field>_a`` / ``<field>_d`` on a scalar field; ``name`` is the list's name-like field; nulls last."""
    match = re.fullmatch(r"([\w.]+)_([ad])", sort)
    if not match:
        raise ApiError(400, f"Invalid sort '{sort}': expected <field>_a or <field>_d")
    field = name_field if match[1] == "name" else match[1]
    unknown = object()
    values = [field_value(item, field, unknown) for item in items]
    if any(v is unknown or isinstance(v, (dict, list)) for v in values):
        raise ApiError(400, f"Invalid sort '{sort}': cannot sort by {match[1]}")
    present = [(v, i) for v, i in zip(values, items) if v is not None]
    present.sort(key=lambda pair: pair[0], reverse=match[2] == "d")
    return [item for _, item in present] + [item for value, item in zip(values, items) if value is None]


def report_response(report_type: str, name: str, title: str, header: list[str], rows: list[list[Any]]) -> Response:
    lines = [[str(cell) for cell in row] for row in rows]
    if report_type == "CSV":
        text = io.StringIO()
        csv.writer(text).writerows([header, *lines])
        return download(text.getvalue().encode(), f"{name}.csv", "text/csv")
    if report_type == "PDF":
        text = [title, "", " | ".join(header), *(" | ".join(r) for r in lines)]
        return download(tiny_pdf(text), f"{name}.pdf", "application/pdf")
    cells = "".join("<tr>" + "".join(f"<td>{_html(c)}</td>" for c in r) + "</tr>" for r in lines)
    head = "".join(f"<th>{_html(h)}</th>" for h in header)
    page = f"<!DOCTYPE html><html><head><title>{_html(title)}</title></head><body><h1>{_html(title)}</h1>"
    page += f"<table><tr>{head}</tr>{cells}</table></body></html>"
    return download(zip_bytes([("index.html", page.encode())]), f"{name}.zip", "application/zip")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- run simulation (pure)

# Stages of a device run after it left the queue, with their share of its window.
STAGES = (
    ("PREPARING", 1),
    ("DEVICE_TARGET_INSTALLING", 1),
    ("DEVICE_TEST_INSTALLING", 1),
    ("DEVICE_RUNNING", 5),
    ("RESULTS_WAITING", 1),
    ("RESULTS_PROCESSING", 1),
)
TEST_CLASSES = ("LoginTest", "SearchTest", "CheckoutTest", "ProfileTest")
TEST_ACTIONS = ("Opens", "Scrolls", "Submits", "Rotates", "GoesBack", "SharesLink")
FAILURE_MESSAGE = "expected:<true> but was:<false>"
FAILURE_TYPE = "junit.framework.AssertionFailedError"


def device_windows(t0: float, count: int, duration: float, scheduler: str) -> list[tuple[float, float]]:
    start, end = t0 + 0.1 * duration, t0 + duration
    if scheduler == "PARALLEL":
        return [(start, end)] * count
    slot = (end - start) / count
    return [(start + i * slot, start + (i + 1) * slot) for i in range(count)]


def stage_windows(device_run: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(deviceRunStateType, start, end) of every state, WAITING in the queue first."""
    windows = [("WAITING", device_run["createdAt"], device_run["startAt"])]
    at, span, total = device_run["startAt"], device_run["endAt"] - device_run["startAt"], sum(w for _, w in STAGES)
    for stage, weight in STAGES:
        windows.append((stage, at, at + span * weight / total))
        at += span * weight / total
    return windows


def outcome(device_run: dict[str, Any]) -> str:
    if device_run["failedCases"]:
        return "FAILED"
    return "WARNING" if device_run["warning"] else "SUCCEEDED"


def run_status(device_run: dict[str, Any], now: float) -> str:
    if now < device_run["startAt"]:
        return "WAITING"
    return "RUNNING" if now < device_run["endAt"] else outcome(device_run)


def testing_window(device_run: dict[str, Any]) -> tuple[float, float]:
    _, start, end = next(w for w in stage_windows(device_run) if w[0] == "DEVICE_RUNNING")
    return start, end


def finished_cases(device_run: dict[str, Any], package: str, now: float) -> list[dict[str, Any]]:
    """The test cases done by ``now``; they finish evenly across DEVICE_RUNNING."""
    start, end = testing_window(device_run)
    count = device_run["caseCount"]
    done = count if now >= end else max(0, math.floor(count * (now - start) / (end - start)))
    each = (end - start) / count
    return [
        {
            "index": i,
            "className": f"{package}.{TEST_CLASSES[i % len(TEST_CLASSES)]}",
            "name": f"test{i + 1:02d}{TEST_ACTIONS[i % len(TEST_ACTIONS)]}",
            "failed": i in device_run["failedCases"],
            "time": round(each, 3),
            "finishedAt": start + each * (i + 1),
        }
        for i in range(done)
    ]


def state_objects(device_run: dict[str, Any], now: float) -> list[dict[str, Any]]:
    failed = outcome(device_run) == "FAILED"
    reason = f"{len(device_run['failedCases'])} of {device_run['caseCount']} test cases failed"
    states = []
    for index, (stage, start, end) in enumerate(stage_windows(device_run)):
        if start > now:
            break
        done = end <= now
        marks_failure = failed and stage in ("DEVICE_RUNNING", "RESULTS_PROCESSING")
        states.append(
            {
                "id": device_run["id"] * 10 + index,  # derived, so states need no storage
                "deviceRunId": device_run["id"],
                "startTimeMS": millis(start),
                "finishTimeMS": millis(end) if done else None,
                "retryTime": None,
                "failReason": reason if done and marks_failure else None,
                "status": ("FAILED" if marks_failure else "SUCCEEDED") if done else "STARTED",
                "deviceRunStateType": stage,
            }
        )
    return states


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


# ---------------------------------------------------------------- the emulator

Handler = Callable[[Request], Awaitable[Response]]


class BitbarEmulator:
    """Handlers over one ``JsonStore``, in the doc's section order; ``build_app`` wires them."""

    def __init__(self, options: EmulatorOptions):
        credentials = options.credentials
        self.options = options
        self.api_key = credentials.get("api_key", SANDBOX_API_KEY)
        self.username = credentials.get("username", SANDBOX_USERNAME)
        self.password = credentials.get("password", SANDBOX_PASSWORD)
        self.token_ttl = float(credentials.get("token_ttl", DEFAULT_TOKEN_TTL))
        self.store = JsonStore(options.data_file, lambda: initial_data(options.seed, self.username))
        self.uploads = upload_directory(options, "bitbar")

    @property
    def data(self) -> dict[str, Any]:
        return self.store.data

    def now(self) -> float:
        return self.options.clock.now()

    # ---- auth

    def guard(self, handler: Handler, public: bool) -> Handler:
        async def guarded(request: Request) -> Response:
            # Product rule: tokens travel only in headers, never in URLs that proxies and logs keep.
            if "access_token" in request.query_params:
                raise ApiError(401, "access_token in the URL is refused: send it as 'Authorization: Bearer <token>'")
            if not public:
                self.authenticate(request)
            return await handler(request)

        return guarded

    def authenticate(self, request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            grant = self.data["accessTokens"].get(token.strip())
            if grant is None:
                raise ApiError(401, f"Invalid access token: {token.strip()}")
            if time.time() >= grant["expiresAt"]:
                raise ApiError(401, f"Access token expired: {token.strip()}")
            return
        credentials = basic_auth(request)
        if credentials is None:
            raise ApiError(401, AUTH_REQUIRED)
        if credentials[0] != self.api_key:
            raise ApiError(401, "Bad credentials")

    async def oauth_token(self, request: Request) -> Response:
        values = await request_params(request)
        if values.get("client_id") != OAUTH_CLIENT_ID:
            raise ApiError(401, "Bad client credentials")
        grant_type = required(values, "grant_type")
        with self.store.lock:
            if grant_type == "password":
                if (required(values, "username"), required(values, "password")) != (self.username, self.password):
                    raise ApiError(401, "Bad credentials")
                refresh_token = str(uuid.uuid4())
                self.data["refreshTokens"][refresh_token] = {"userId": USER_ID}
            elif grant_type == "refresh_token":
                refresh_token = required(values, "refresh_token")
                if refresh_token not in self.data["refreshTokens"]:
                    raise ApiError(401, f"Invalid refresh token: {refresh_token}")
            else:
                raise ApiError(400, f"Unsupported grant type: {grant_type}")
            access_token = self.issue_access_token()
        if request.method == "GET":
            self.store.save()  # the kit saves after non-GET requests only
        body = {
            "access_token": access_token,
            "token_type": "bearer",
            "refresh_token": refresh_token,
            "expires_in": int(self.token_ttl),
            "scope": "read write",
        }
        return JSONResponse(body)

    def issue_access_token(self) -> str:
        wall = time.time()
        tokens = self.data["accessTokens"]
        for expired in [t for t, grant in tokens.items() if grant["expiresAt"] <= wall]:
            del tokens[expired]
        token = str(uuid.uuid4())
        tokens[token] = {"userId": USER_ID, "expiresAt": wall + self.token_ttl}
        return token

    # ---- lists

    def listing(self, request: Request, items: list[dict[str, Any]], item: str, name_field: str) -> Response:
        """The doc's ``list`` object over ``items``, with search, sort and absolute next/previous links."""
        query = request.query_params
        offset = parse_int("offset", query.get("offset", "0"))
        limit = parse_int("limit", query.get("limit", str(self.options.page_size)), minimum=1)
        search, sort = query.get("search", ""), query.get("sort", "")
        if search:
            items = [i for i in items if search.lower() in str(field_value(i, name_field) or "").lower()]
        if sort:
            items = sort_items(items, sort, name_field)
        page = page_window(items, offset, limit)

        def link(at: int) -> str:
            return str(request.url.replace(query=urlencode({"offset": at, "limit": limit, "search": search, "sort": sort})))

        body = {
            "next": link(offset + limit) if offset + limit < len(items) else None,
            "previous": link(max(0, offset - limit)) if offset > 0 else None,
            "data": page,
            "offset": offset,
            "limit": limit,
            "total": len(items),
            "search": search,
            "sort": sort,
            "empty": not page,
        }
        return reply(request, body, root="list", item=item)

    # ---- lookups (404 for unknown ids and for objects under another parent)

    def lookup(self, collection: str, request: Request, param: str, parent: tuple[str, int] | None = None) -> dict[str, Any]:
        """The record the path parameter ``param`` names, if it exists under ``parent`` (key, id)."""
        object_id = request.path_params[param]
        found = self.data[collection].get(str(object_id))
        if found is None or (parent is not None and found[parent[0]] != parent[1]):
            raise ApiError(404, f"No {collection.removesuffix('s')} with id {object_id}")
        return found

    def project(self, request: Request) -> dict[str, Any]:
        return self.lookup("projects", request, "projectId")

    def run(self, request: Request) -> dict[str, Any]:
        return self.lookup("runs", request, "runId", ("projectId", self.project(request)["id"]))

    def device_run(self, request: Request) -> dict[str, Any]:
        return self.lookup("deviceRuns", request, "deviceRunId", ("runId", self.run(request)["id"]))

    def group(self, request: Request, writable: bool = False) -> dict[str, Any]:
        group = self.lookup("deviceGroups", request, "deviceGroupId")
        if writable and group["public"]:
            raise ApiError(403, f"Device group {group['id']} is public and cannot be changed")
        return group

    def notification(self, request: Request) -> dict[str, Any]:
        return self.lookup("notifications", request, "id")

    # ---- views (the doc's objects from stored records)

    @staticmethod
    def project_view(project: dict[str, Any]) -> dict[str, Any]:
        return {k: project[k] for k in ("id", "name", "description", "type", "common", "sharedById")}

    def config_view(self, project: dict[str, Any]) -> dict[str, Any]:
        config = dict(self.data["configs"][str(project["id"])])
        group = self.data["deviceGroups"][str(config["usedDeviceGroupId"])]
        config["runAvailable"] = not self.run_blockers(project, config)
        config["creditsPrice"] = self.group_view(group)["creditsPrice"]
        return config

    @staticmethod
    def parameter_view(parameter: dict[str, Any]) -> dict[str, Any]:
        return {k: parameter[k] for k in ("id", "key", "value")}

    @staticmethod
    def file_view(record: dict[str, Any]) -> dict[str, Any]:
        view = {
            "id": record["id"],
            "originalName": record["originalName"],
            "readableSize": readable_size(record["size"]),
            "uploadTime": millis(record["uploadedAt"]),
        }
        if record["kind"] == "test":
            ios = record["platform"] == "IOS"
            view |= {
                "mainActivity": None,
                "minSdk": None if ios else 16,
                "packageName": None if ios else record["package"],
                "bundleName": Path(record["originalName"]).stem if ios else None,
                "bundleIdentifier": record["package"] if ios else None,
            }
        return view

    @staticmethod
    def share_view(share: dict[str, Any]) -> dict[str, Any]:
        return {k: share[k] for k in ("id", "userId", "userEmail")}

    @staticmethod
    def tag_view(tag: dict[str, Any]) -> dict[str, Any]:
        return {"id": tag["id"], "name": tag["name"]}

    @staticmethod
    def notification_view(notification: dict[str, Any]) -> dict[str, Any]:
        return {k: notification[k] for k in ("id", "email", "project", "type")}

    def group_view(self, group: dict[str, Any]) -> dict[str, Any]:
        price = sum(self.data["devices"][str(i)]["creditsPrice"] for i in group["deviceIds"])
        return {
            **{k: group[k] for k in ("id", "name", "displayName")},
            "deviceCount": len(group["deviceIds"]),
            "creditsPrice": price,
            **{k: group[k] for k in ("userId", "osType")},
        }

    def device_runs_of(self, run: dict[str, Any]) -> list[dict[str, Any]]:
        return [self.data["deviceRuns"][str(i)] for i in run["deviceRunIds"]]

    def run_view(self, run: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        device_runs = self.device_runs_of(run)
        statuses = [run_status(dr, now) for dr in device_runs]
        finished = sum(s in FINAL_STATUSES for s in statuses)
        succeeded = sum(s in ("SUCCEEDED", "WARNING") for s in statuses)
        if all(s == "WAITING" for s in statuses):
            state = "WAITING"
        else:
            state = "FINISHED" if finished == len(statuses) else "RUNNING"
        waiting = state == "WAITING"
        return {
            "id": run["id"],
            "number": run["number"],
            "createTime": millis(run["createdAt"]),
            "displayName": run["displayName"],
            "executionRatio": None if waiting else round(finished / len(statuses), 4),
            "successRatio": None if waiting else round(succeeded / len(statuses), 4),
            "startedByDisplayName": self.data["user"]["displayName"],
            "state": state,
            "screenshotZipState": self.screenshot_zip_state(run),
            "projectId": run["projectId"],
            "startTime": None if waiting else millis(min(dr["startAt"] for dr in device_runs)),
            "endTime": millis(max(dr["endAt"] for dr in device_runs)) if state == "FINISHED" else None,
            "deviceRunCount": len(device_runs),
        }

    def device_run_view(self, device_run: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        device = self.data["devices"][str(device_run["deviceId"])]
        cases = finished_cases(device_run, run["testPackage"], now)
        started = now >= device_run["startAt"]
        testing_start, _ = testing_window(device_run)
        return {
            "id": device_run["id"],
            "runTime": millis(testing_start) if now >= testing_start else None,
            "device": device,
            "deviceName": device_run["deviceName"],
            "deviceSerialId": device_run["deviceSerialId"],
            "testCaseSuccessNo": sum(not c["failed"] for c in cases),
            "testCaseAllNo": len(cases),
            "testCaseCount": device_run["caseCount"] if started else 0,
            "softwareVersion": device["softwareVersion"],
            "createTime": millis(device_run["createdAt"]),
            "startTime": millis(device_run["startAt"]) if started else None,
            "currentState": (state_objects(device_run, now) or [None])[-1],
            "interruptedByState": None,
            "runStatus": run_status(device_run, now),
        }

    def screenshots(self, run: dict[str, Any]) -> list[dict[str, Any]]:
        """One screenshot per finished test case; ids derived from device run and case."""
        now = self.now()
        return [
            {
                "id": device_run["id"] * 100 + case["index"],  # at most 12 cases per device run
                "originalName": f"{case['className']}.{case['name']}_scr_1.png",
                "fail": case["failed"],
                "type": "LANDSCAPE" if case["index"] % 3 == 2 else "PORTRAIT",
                "deviceRunId": device_run["id"],
            }
            for device_run in self.device_runs_of(run)
            for case in finished_cases(device_run, run["testPackage"], now)
        ]

    def screenshot_zip_state(self, run: dict[str, Any]) -> str:
        requested = run["screenshotZipRequestedAt"]
        if requested is None:
            return "BLANK"
        return "READY" if self.now() >= requested + 0.1 * self.options.job_duration else "PROGRESS"

    # ---- Project basics

    async def create_project(self, request: Request) -> Response:
        values = await request_params(request)
        name = required(values, "name")
        project_type = one_of("type", required(values, "type"), PROJECT_TYPES)
        with self.store.lock:
            if any(p["name"] == name for p in self.data["projects"].values()):
                raise ApiError(409, f"Project with name '{name}' already exists")
            project_id = self.store.next_id("project", ID_STARTS["project"])
            project = {
                "id": project_id,
                "name": name,
                "description": "",
                "type": project_type,
                "common": False,
                "sharedById": None,
                "files": dict.fromkeys(FILE_KINDS),
                "runCount": 0,
            }
            self.data["projects"][str(project_id)] = project
            self.data["configs"][str(project_id)] = self.default_config(project)
        return reply(request, self.project_view(project), 201, root="project")

    def default_config(self, project: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.store.next_id("config", ID_STARTS["config"]),
            "projectId": project["id"],
            "scheduler": "PARALLEL",
            "mode": DEFAULT_MODE[project["type"]],
            "autoScreenshots": False,
            "screenshotDir": "",
            "limitationType": None,
            "limitationValue": "",
            "withAnnotation": None,
            "withoutAnnotation": None,
            "applicationUsername": "",
            "applicationPassword": "",
            "usedDeviceGroupId": FREE_DEVICES_GROUP_ID,
            "deviceLanguageCode": "en_US",
            "hookURL": "",
            "uiAutomatorTestClasses": None,
            "launchApp": False,
            "instrumentationRunner": "",
            "checkApp": False,
        }

    async def list_projects(self, request: Request) -> Response:
        projects = [self.project_view(p) for p in self.data["projects"].values()]
        return self.listing(request, projects, "project", "name")

    async def get_project(self, request: Request) -> Response:
        return reply(request, self.project_view(self.project(request)), root="project")

    async def update_project(self, request: Request) -> Response:
        values = await request_params(request)
        with self.store.lock:
            project = self.project(request)
            changes: dict[str, Any] = {}
            if "name" in values:
                changes["name"] = required(values, "name")
                if any(p["name"] == changes["name"] and p is not project for p in self.data["projects"].values()):
                    raise ApiError(400, f"Project with name '{changes['name']}' already exists")
            if "description" in values:
                changes["description"] = values["description"]
            if "common" in values:
                changes["common"] = parse_bool("common", values["common"])
            project.update(changes)
        return reply(request, self.project_view(project), 202, root="project")

    async def delete_project(self, request: Request) -> Response:
        with self.store.lock:
            project_id = self.project(request)["id"]
            for run in [r for r in self.data["runs"].values() if r["projectId"] == project_id]:
                self.forget_run(run)
            for collection in ("parameters", "sharings"):
                self.forget(collection, lambda record: record["projectId"] == project_id)
            self.forget("notifications", lambda record: record["project"] == project_id)
            del self.data["projects"][str(project_id)]
            del self.data["configs"][str(project_id)]
            self.collect_files()
        return empty(204)

    async def project_icon(self, request: Request) -> Response:
        project = self.project(request)
        if project["files"]["application"] is None:
            raise ApiError(404, f"Project {project['id']} has no application to take an icon from")
        return Response(tiny_png(project["files"]["application"]), media_type="image/png")

    def forget(self, collection: str, doomed: Callable[[dict[str, Any]], bool]) -> None:
        records = self.data[collection]
        for key in [k for k, record in records.items() if doomed(record)]:
            del records[key]

    # ---- Project config

    async def get_config(self, request: Request) -> Response:
        return reply(request, self.config_view(self.project(request)), root="projectConfig")

    async def update_config(self, request: Request) -> Response:
        values = await request_params(request)
        with self.store.lock:
            project = self.project(request)
            config = self.data["configs"][str(project["id"])]
            changes = {name: parse(name, values[name]) for name, parse in CONFIG_FIELDS.items() if name in values}
            self.check_config(project, {**config, **changes}, changes)
            config.update(changes)
        return reply(request, self.config_view(project), 201, root="projectConfig")

    def check_config(self, project: dict[str, Any], config: dict[str, Any], changes: dict[str, Any]) -> None:
        ios_project = project["type"] == "IOS"
        if (config["mode"] == "IOS") != ios_project:
            raise ApiError(400, f"Mode {config['mode']} cannot be used in a {project['type']} project")
        if str(config["usedDeviceGroupId"]) not in self.data["deviceGroups"]:
            raise ApiError(404, f"Device group with id {config['usedDeviceGroupId']} not found")
        if changes.get("mode") == "UIAUTOMATOR" and not config["uiAutomatorTestClasses"]:
            raise ApiError(400, "uiAutomatorTestClasses is required in UIAUTOMATOR mode")

    # ---- user defined config parameters

    async def add_parameter(self, request: Request) -> Response:
        values = await request_params(request)
        key = required(values, "key")
        if "value" not in values:
            raise ApiError(400, "Parameter 'value' is required")
        with self.store.lock:
            project_id = self.project(request)["id"]
            if any(p["projectId"] == project_id and p["key"] == key for p in self.data["parameters"].values()):
                raise ApiError(409, f"Parameter with key '{key}' already exists in project {project_id}")
            parameter_id = self.store.next_id("parameter", ID_STARTS["parameter"])
            parameter = {"id": parameter_id, "projectId": project_id, "key": key, "value": values["value"]}
            self.data["parameters"][str(parameter_id)] = parameter
        return reply(request, self.parameter_view(parameter), 201, root="projectConfigParameter")

    def parameters_of(self, project_id: int) -> list[dict[str, Any]]:
        return [self.parameter_view(p) for p in self.data["parameters"].values() if p["projectId"] == project_id]

    async def list_parameters(self, request: Request) -> Response:
        parameters = self.parameters_of(self.project(request)["id"])
        return self.listing(request, parameters, "projectConfigParameter", "key")

    async def get_parameter(self, request: Request) -> Response:
        parameter = self.lookup("parameters", request, "parameterId", ("projectId", self.project(request)["id"]))
        return reply(request, self.parameter_view(parameter), root="projectConfigParameter")

    async def delete_parameter(self, request: Request) -> Response:
        with self.store.lock:
            parameter = self.lookup("parameters", request, "parameterId", ("projectId", self.project(request)["id"]))
            del self.data["parameters"][str(parameter["id"])]
        return empty(200)

    # ---- Project files

    def file_kind(self, request: Request) -> str:
        kind = request.path_params["kind"]
        if kind not in FILE_KINDS:
            raise ApiError(404, f"No such file kind '{kind}': expected one of {', '.join(FILE_KINDS)}")
        return kind

    async def upload_file(self, request: Request) -> Response:
        self.project(request)
        kind = self.file_kind(request)
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise ApiError(400, "Uploads must be sent as multipart/form-data")
        async with request.form() as form:
            part = form.get("file")
            if not isinstance(part, UploadFile):
                raise ApiError(400, "Multipart field 'file' is required")
            stored = await save_upload(part, self.uploads)
        if stored.size == 0 or (kind == "data" and not zipfile.is_zipfile(stored.path)):
            stored.path.unlink()
            raise ApiError(400, "The data file must be a ZIP package" if stored.size else "The uploaded file is empty")
        # Read from the archive when it says; a made-up but stable name otherwise.
        declared = inspect_app(stored.path, stored.filename).package if kind != "data" else ""
        package = declared or f"com.sandbox.{slug(Path(stored.filename).stem)}"
        with self.store.lock:
            try:
                project = self.project(request)
            except ApiError:  # deleted while the bytes were arriving
                stored.path.unlink()
                raise
            file_id = self.store.next_id("file", ID_STARTS["file"])
            record = {
                "id": file_id,
                "projectId": project["id"],
                "kind": kind,
                "originalName": stored.filename or kind,
                "size": stored.size,
                "uploadedAt": self.now(),
                "path": str(stored.path),
                "platform": "IOS" if project["type"] == "IOS" else "ANDROID",
                "package": package,
            }
            self.data["files"][str(file_id)] = record
            project["files"][kind] = file_id
            self.collect_files()
        return reply(request, self.file_view(record), 201, root="fileTest" if kind == "test" else "file")

    def collect_files(self) -> None:
        """Drop stored uploads that no project slot and no run refers to any more."""
        slots = [*self.data["projects"].values(), *self.data["runs"].values()]
        referenced = {file_id for owner in slots for file_id in owner["files"].values()}
        for key, record in list(self.data["files"].items()):
            if record["id"] not in referenced:
                Path(record["path"]).unlink(missing_ok=True)
                del self.data["files"][key]

    def file_response(self, files: dict[str, int | None], kind: str, owner: str) -> Response:
        file_id = files[kind]
        if file_id is None:
            raise ApiError(404, f"No {kind} file in {owner}")
        record = self.data["files"][str(file_id)]
        return FileResponse(record["path"], media_type="application/octet-stream", filename=record["originalName"])

    async def zip_response(self, files: dict[str, int | None]) -> Response:
        records = [self.data["files"][str(i)] for i in files.values() if i is not None]
        members = [(f"{r['kind']}/{r['originalName']}", Path(r["path"])) for r in records]
        target = self.uploads / f"download-{uuid.uuid4().hex}.zip"
        await run_in_threadpool(write_zip, target, members)
        cleanup = BackgroundTask(target.unlink, missing_ok=True)
        return FileResponse(target, media_type="application/zip", filename="files.zip", background=cleanup)

    async def download_file(self, request: Request) -> Response:
        project = self.project(request)
        return self.file_response(project["files"], self.file_kind(request), f"project {project['id']}")

    async def download_files_zip(self, request: Request) -> Response:
        return await self.zip_response(self.project(request)["files"])

    # ---- Project sharing

    async def create_sharing(self, request: Request) -> Response:
        values = await request_params(request)
        email = parse_email(required(values, "email"))
        with self.store.lock:
            project_id = self.project(request)["id"]
            if email == self.data["user"]["email"]:
                raise ApiError(400, "A project cannot be shared with its owner")
            if any(s["projectId"] == project_id and s["userEmail"] == email for s in self.data["sharings"].values()):
                raise ApiError(409, f"Project {project_id} is already shared with {email}")
            users = self.data["users"]
            if email not in users:
                users[email] = self.store.next_id("user", ID_STARTS["user"])
            share_id = self.store.next_id("sharing", ID_STARTS["sharing"])
            share = {"id": share_id, "projectId": project_id, "userId": users[email], "userEmail": email}
            self.data["sharings"][str(share_id)] = share
        return reply(request, self.share_view(share), 201, root="share")

    async def list_sharings(self, request: Request) -> Response:
        project_id = self.project(request)["id"]
        shares = [self.share_view(s) for s in self.data["sharings"].values() if s["projectId"] == project_id]
        return self.listing(request, shares, "share", "userEmail")

    async def get_sharing(self, request: Request) -> Response:
        share = self.lookup("sharings", request, "sharingId", ("projectId", self.project(request)["id"]))
        return reply(request, self.share_view(share), root="share")

    async def delete_sharing(self, request: Request) -> Response:
        with self.store.lock:
            share = self.lookup("sharings", request, "sharingId", ("projectId", self.project(request)["id"]))
            del self.data["sharings"][str(share["id"])]
        return empty(204)

    # ---- Test run basics

    def run_blockers(self, project: dict[str, Any], config: dict[str, Any]) -> list[str]:
        files, mode = project["files"], config["mode"]
        blockers = []
        if files["application"] is None:
            blockers.append("an application file")
        if mode in MODES_NEEDING_TEST_FILE and files["test"] is None:
            blockers.append(f"a test file ({mode} mode)")
        if mode == "UIAUTOMATOR" and not config["uiAutomatorTestClasses"]:
            blockers.append("uiAutomatorTestClasses (UIAUTOMATOR mode)")
        if not self.data["deviceGroups"][str(config["usedDeviceGroupId"])]["deviceIds"]:
            blockers.append(f"devices in device group {config['usedDeviceGroupId']}")
        return blockers

    async def start_run(self, request: Request) -> Response:
        values = await request_params(request)
        with self.store.lock:
            project = self.project(request)
            config = self.config_view(project)
            blockers = self.run_blockers(project, config)
            if blockers:
                raise ApiError(400, f"Cannot start a run in project {project['id']}: it needs {', '.join(blockers)}")
            project["runCount"] += 1
            run_id = self.store.next_id("run", ID_STARTS["run"])
            run = {
                "id": run_id,
                "projectId": project["id"],
                "number": project["runCount"],
                "displayName": values.get("name", "").strip() or f"Test run {project['runCount']}",
                "createdAt": self.now(),
                "config": config,
                "parameters": self.parameters_of(project["id"]),
                "files": dict(project["files"]),
                "appPackage": self.package_of(project, "application"),
                "testPackage": self.package_of(project, "test") or self.package_of(project, "application") + ".test",
                "deviceRunIds": [],
                "screenshotZipRequestedAt": None,
            }
            self.data["runs"][str(run_id)] = run
            self.plan_device_runs(run)
        return reply(request, self.run_view(run), 201, root="testRun")

    def package_of(self, project: dict[str, Any], kind: str) -> str:
        file_id = project["files"][kind]
        return "" if file_id is None else self.data["files"][str(file_id)]["package"]

    def plan_device_runs(self, run: dict[str, Any]) -> None:
        """Fix every device run's window and results now, so reading them later is pure."""
        config = run["config"]
        device_ids = sorted(self.data["deviceGroups"][str(config["usedDeviceGroupId"])]["deviceIds"])
        rng = seeded_random(self.options.seed, "bitbar", run["id"])
        case_counts = [rng.randint(4, 12) for _ in device_ids]
        positions = [(d, c) for d, count in enumerate(case_counts) for c in range(count)]
        failing = {positions[p] for p in failing_positions(len(positions), self.options.failure_share, rng)}
        windows = device_windows(run["createdAt"], len(device_ids), self.options.job_duration, config["scheduler"])
        for index, (device_id, (start, end)) in enumerate(zip(device_ids, windows)):
            device_run_id = self.store.next_id("deviceRun", ID_STARTS["deviceRun"])
            failed_cases = sorted(c for d, c in failing if d == index)
            self.data["deviceRuns"][str(device_run_id)] = {
                "id": device_run_id,
                "runId": run["id"],
                "deviceId": device_id,
                "deviceName": f"{slug(self.data['devices'][str(device_id)]['displayName'], '-')}-{rng.randint(1, 9):02d}",
                "deviceSerialId": f"{rng.getrandbits(48):012X}",
                "createdAt": run["createdAt"],
                "startAt": start,
                "endAt": end,
                "caseCount": case_counts[index],
                "failedCases": failed_cases,
                "warning": not failed_cases and rng.random() < self.options.failure_share / 2,
            }
            run["deviceRunIds"].append(device_run_id)

    async def get_run(self, request: Request) -> Response:
        return reply(request, self.run_view(self.run(request)), root="testRun")

    async def update_run(self, request: Request) -> Response:
        values = await request_params(request)
        name = required(values, "name")
        with self.store.lock:
            run = self.run(request)
            run["displayName"] = name
        return reply(request, self.run_view(run), 202, root="testRun")

    async def delete_run(self, request: Request) -> Response:
        with self.store.lock:
            self.forget_run(self.run(request))
            self.collect_files()
        return empty(204)

    def forget_run(self, run: dict[str, Any]) -> None:
        for device_run_id in run["deviceRunIds"]:
            del self.data["deviceRuns"][str(device_run_id)]
        self.forget("tags", lambda tag: tag["runId"] == run["id"])
        del self.data["runs"][str(run["id"])]

    async def list_my_runs(self, request: Request) -> Response:
        runs = [self.run_view(r) for r in self.data["runs"].values()]
        return self.listing(request, runs, "testRun", "displayName")

    async def list_project_runs(self, request: Request) -> Response:
        project_id = self.project(request)["id"]
        runs = [self.run_view(r) for r in self.data["runs"].values() if r["projectId"] == project_id]
        return self.listing(request, runs, "testRun", "displayName")

    # ---- Test run device runs

    async def list_device_runs(self, request: Request) -> Response:
        run = self.run(request)
        views = [self.device_run_view(dr, run) for dr in self.device_runs_of(run)]
        return self.listing(request, views, "deviceRun", "device.displayName")

    async def get_device_run(self, request: Request) -> Response:
        run = self.run(request)
        return reply(request, self.device_run_view(self.device_run(request), run), root="deviceRun")

    async def device_run_junit(self, request: Request) -> Response:
        run, device_run = self.run(request), self.device_run(request)
        device = self.data["devices"][str(device_run["deviceId"])]
        cases = finished_cases(device_run, run["testPackage"], self.now())
        payload = junit_xml(device["displayName"], cases, testing_window(device_run)[0])
        return download(payload, "junit.xml", "application/xml")

    async def device_run_logs(self, request: Request) -> Response:
        run, device_run = self.run(request), self.device_run(request)
        now = self.now()
        events = []
        for stage, start, end in stage_windows(device_run):
            events += [(start, f"I/Testdroid: {stage} started")] if start <= now else []
            events += [(end, f"I/Testdroid: {stage} finished")] if end <= now else []
        for case in finished_cases(device_run, run["testPackage"], now):
            verdict = "failed" if case["failed"] else "finished"
            events.append((case["finishedAt"], f"I/TestRunner: {verdict}: {case['name']}({case['className']})"))
        lines = [f"{iso(at)} {message}" for at, message in sorted(events, key=lambda event: event[0])]
        return Response("".join(line + "\n" for line in lines), media_type="text/plain")

    async def device_run_performance(self, request: Request) -> Response:
        run, device_run = self.run(request), self.device_run(request)
        start, end = testing_window(device_run)
        rng = seeded_random(self.options.seed, "bitbar", "performance", device_run["id"])
        # Ten samples across DEVICE_RUNNING, drawn in order so each keeps its values as more appear.
        samples = [(start + (k + 0.5) * (end - start) / 10, rng.uniform(0.05, 0.6), rng.randint(12000, 64000)) for k in range(10)]
        items = [
            {"packageName": run["appPackage"], "cpuUsage": round(cpu, 3), "timestamp": millis(at), "memUsage": memory}
            for at, cpu, memory in samples
            if at <= self.now()
        ]
        return reply(request, items, root="performanceItems", item="performanceItem")

    async def list_states(self, request: Request) -> Response:
        states = state_objects(self.device_run(request), self.now())
        return self.listing(request, states, "state", "deviceRunStateType")

    async def get_state(self, request: Request) -> Response:
        state_id = request.path_params["stateId"]
        state = next((s for s in state_objects(self.device_run(request), self.now()) if s["id"] == state_id), None)
        if state is None:
            raise ApiError(404, f"state with id {state_id} not found")
        return reply(request, state, root="state")

    async def list_screenshots(self, request: Request) -> Response:
        shots = [self.screenshot_view(s) for s in self.screenshots(self.run(request))]
        return self.listing(request, shots, "screenshot", "originalName")

    @staticmethod
    def screenshot_view(shot: dict[str, Any]) -> dict[str, Any]:
        return {k: shot[k] for k in ("id", "originalName", "fail", "type")}

    async def get_screenshot(self, request: Request) -> Response:
        screenshot_id = request.path_params["screenshotId"]
        shot = next((s for s in self.screenshots(self.run(request)) if s["id"] == screenshot_id), None)
        if shot is None:
            raise ApiError(404, f"screenshot with id {screenshot_id} not found")
        if "image/" in request.headers.get("accept", ""):
            return Response(tiny_png(screenshot_id), media_type="image/png")
        return reply(request, self.screenshot_view(shot), root="screenshot")

    # ---- Test run config

    async def get_run_config(self, request: Request) -> Response:
        return reply(request, self.run(request)["config"], root="projectConfig")

    async def list_run_parameters(self, request: Request) -> Response:
        return self.listing(request, self.run(request)["parameters"], "projectConfigParameter", "key")

    async def get_run_parameter(self, request: Request) -> Response:
        parameter_id = request.path_params["parameterId"]
        parameter = next((p for p in self.run(request)["parameters"] if p["id"] == parameter_id), None)
        if parameter is None:
            raise ApiError(404, f"parameter with id {parameter_id} not found")
        return reply(request, parameter, root="projectConfigParameter")

    # ---- Test run files

    async def download_run_file(self, request: Request) -> Response:
        run = self.run(request)
        return self.file_response(run["files"], self.file_kind(request), f"run {run['id']}")

    async def download_run_files_zip(self, request: Request) -> Response:
        return await self.zip_response(self.run(request)["files"])

    # ---- Test run tagging

    async def create_tag(self, request: Request) -> Response:
        values = await request_params(request)
        name = required(values, "name")
        with self.store.lock:
            run_id = self.run(request)["id"]
            if any(t["runId"] == run_id and t["name"] == name for t in self.data["tags"].values()):
                raise ApiError(409, f"Run {run_id} already has the tag '{name}'")
            tag_id = self.store.next_id("tag", ID_STARTS["tag"])
            tag = {"id": tag_id, "runId": run_id, "name": name}
            self.data["tags"][str(tag_id)] = tag
        return reply(request, self.tag_view(tag), 201, root="tag")

    async def list_tags(self, request: Request) -> Response:
        run_id = self.run(request)["id"]
        tags = [self.tag_view(t) for t in self.data["tags"].values() if t["runId"] == run_id]
        return self.listing(request, tags, "tag", "name")

    async def get_tag(self, request: Request) -> Response:
        tag = self.lookup("tags", request, "tagId", ("runId", self.run(request)["id"]))
        return reply(request, self.tag_view(tag), root="tag")

    async def delete_tag(self, request: Request) -> Response:
        with self.store.lock:
            tag = self.lookup("tags", request, "tagId", ("runId", self.run(request)["id"]))
            del self.data["tags"][str(tag["id"])]
        return empty(204)

    # ---- Test run results

    @staticmethod
    def report_options(request: Request) -> tuple[str, int | None]:
        query = request.query_params
        report_type = one_of("type", required(dict(query), "type"), REPORT_TYPES)
        preview = parse_bool("preview", query["preview"]) if "preview" in query else False
        return report_type, PREVIEW_ROWS if preview else None

    async def run_report(self, request: Request) -> Response:
        report = request.path_params["report"]
        if report not in REPORTS:
            raise ApiError(404, f"No such report '{report}': expected one of {', '.join(REPORTS)}")
        report_type, row_limit = self.report_options(request)
        run = self.run(request)
        now = self.now()
        detail = report == "detail-failures"
        header, rows = ["device", "os version", "status", "passed", "test cases"], []
        if report != "summary":
            header = ["device", "test class", "test case", "message"] + (["os version", "finished"] if detail else [])
        for device_run in self.device_runs_of(run):
            device = self.data["devices"][str(device_run["deviceId"])]
            version = device["softwareVersion"]["releaseVersion"]
            cases = finished_cases(device_run, run["testPackage"], now)
            if report == "summary":
                passed = sum(not c["failed"] for c in cases)
                rows.append([device["displayName"], version, run_status(device_run, now), passed, len(cases)])
                continue
            for case in (c for c in cases if c["failed"]):
                row = [device["displayName"], case["className"], case["name"], FAILURE_MESSAGE]
                rows.append(row + ([version, iso(case["finishedAt"])] if detail else []))
        title = f"{report.replace('-', ' ').capitalize()} report: run {run['number']} '{run['displayName']}'"
        return report_response(report_type, f"run-{run['id']}-{report}", title, header, rows[:row_limit])

    async def project_report(self, request: Request) -> Response:
        report_type, row_limit = self.report_options(request)
        project = self.project(request)
        runs = [self.run_view(r) for r in self.data["runs"].values() if r["projectId"] == project["id"]]
        header = ["run", "name", "state", "success ratio", "execution ratio"]
        rows = [[r["number"], r["displayName"], r["state"], r["successRatio"], r["executionRatio"]] for r in runs]
        title = f"Summary report: project '{project['name']}'"
        return report_response(report_type, f"project-{project['id']}-summary", title, header, rows[:row_limit])

    async def request_screenshots_zip(self, request: Request) -> Response:
        with self.store.lock:
            self.run(request)["screenshotZipRequestedAt"] = self.now()
        return empty(201)

    async def get_screenshots_zip(self, request: Request) -> Response:
        run = self.run(request)
        state = self.screenshot_zip_state(run)
        if state != "READY":
            hint = "request it with POST first" if state == "BLANK" else "it is being generated"
            raise ApiError(404, f"Screenshots package of run {run['id']} is not ready (screenshotZipState {state}): {hint}")
        names = {dr["id"]: self.data["devices"][str(dr["deviceId"])]["displayName"] for dr in self.device_runs_of(run)}
        members = [(f"{names[s['deviceRunId']]}/{s['originalName']}", tiny_png(s["id"])) for s in self.screenshots(run)]
        return download(zip_bytes(members), "screenshots.zip", "application/zip")

    # ---- Device groups

    async def create_group(self, request: Request) -> Response:
        values = await request_params(request)
        display_name = required(values, "name")
        os_type = one_of("osType", required(values, "osType"), OS_TYPES)
        with self.store.lock:
            group_id = self.store.next_id("deviceGroup", ID_STARTS["deviceGroup"])
            created = virtual_datetime(self.now())
            group = {
                "id": group_id,
                # The doc's internal name: creation time and a random suffix.
                "name": f"{created:%Y-%m-%d_%H:%M:%S}.{created.microsecond // 1000:03d}_{uuid.uuid4().hex[:10]}",
                "displayName": display_name,
                "userId": USER_ID,
                "osType": os_type,
                "public": False,
                "deviceIds": [],
            }
            self.data["deviceGroups"][str(group_id)] = group
        return reply(request, self.group_view(group), 201, root="deviceGroup")

    def groups_where(self, public: bool, os_type: str | None = None) -> list[dict[str, Any]]:
        groups = self.data["deviceGroups"].values()
        return [self.group_view(g) for g in groups if g["public"] == public and os_type in (None, g["osType"])]

    async def list_groups(self, request: Request) -> Response:
        return self.listing(request, self.groups_where(public=False), "deviceGroup", "displayName")

    async def list_project_groups(self, request: Request) -> Response:
        # "For project": the groups whose OS the project can run on.
        os_type = "IOS" if self.project(request)["type"] == "IOS" else "ANDROID"
        return self.listing(request, self.groups_where(public=False, os_type=os_type), "deviceGroup", "displayName")

    async def list_project_public_groups(self, request: Request) -> Response:
        os_type = "IOS" if self.project(request)["type"] == "IOS" else "ANDROID"
        return self.listing(request, self.groups_where(public=True, os_type=os_type), "deviceGroup", "displayName")

    async def get_group(self, request: Request) -> Response:
        return reply(request, self.group_view(self.group(request)), root="deviceGroup")

    async def update_group(self, request: Request) -> Response:
        # The table marks name and osType required, but its example sends the name alone: both optional.
        values = await request_params(request)
        with self.store.lock:
            group = self.group(request, writable=True)
            changes: dict[str, Any] = {}
            if "name" in values:
                changes["displayName"] = required(values, "name")
            if "osType" in values:
                changes["osType"] = one_of("osType", values["osType"], OS_TYPES)
                if any(self.data["devices"][str(i)]["osType"] != changes["osType"] for i in group["deviceIds"]):
                    raise ApiError(400, f"Device group {group['id']} holds devices that are not {changes['osType']}")
            group.update(changes)
        return reply(request, self.group_view(group), 202, root="deviceGroup")

    async def delete_group(self, request: Request) -> Response:
        with self.store.lock:
            group = self.group(request, writable=True)
            for config in self.data["configs"].values():
                if config["usedDeviceGroupId"] == group["id"]:
                    config["usedDeviceGroupId"] = FREE_DEVICES_GROUP_ID
            del self.data["deviceGroups"][str(group["id"])]
        return empty(204)

    async def add_group_device(self, request: Request) -> Response:
        values = await request_params(request)
        device_id = parse_int("id", required(values, "id"))
        with self.store.lock:
            group = self.group(request, writable=True)
            device = self.data["devices"].get(str(device_id))
            if device is None:
                raise ApiError(404, f"Device with id {device_id} not found")
            if device["osType"] != group["osType"]:
                raise ApiError(400, f"Device {device_id} is {device['osType']}; device group {group['id']} is {group['osType']}")
            if device_id in group["deviceIds"]:
                raise ApiError(409, f"Device {device_id} is already in device group {group['id']}")
            group["deviceIds"].append(device_id)
        return empty(201)

    async def list_group_devices(self, request: Request) -> Response:
        devices = [self.data["devices"][str(i)] for i in sorted(self.group(request)["deviceIds"])]
        return self.listing(request, devices, "device", "displayName")

    async def remove_group_device(self, request: Request) -> Response:
        device_id = request.path_params["deviceId"]
        with self.store.lock:
            group = self.group(request, writable=True)
            if device_id not in group["deviceIds"]:
                raise ApiError(404, f"Device {device_id} is not in device group {group['id']}")
            group["deviceIds"].remove(device_id)
        return empty(204)

    # ---- Notifications

    async def add_notification(self, request: Request, project_id: int | None, status: int) -> Response:
        values = await request_params(request)
        email = parse_email(required(values, "email"))
        kind = one_of("type", required(values, "type"), NOTIFICATION_TYPES)
        with self.store.lock:
            if any(n["email"] == email and n["project"] == project_id for n in self.data["notifications"].values()):
                scope = f"project {project_id}" if project_id else "all projects"
                raise ApiError(409, f"A notification to {email} for {scope} already exists")
            notification_id = self.store.next_id("notification", ID_STARTS["notification"])
            notification = {"id": notification_id, "email": email, "project": project_id, "type": kind}
            self.data["notifications"][str(notification_id)] = notification
        return reply(request, self.notification_view(notification), status, root="notification")

    async def add_my_notification(self, request: Request) -> Response:
        return await self.add_notification(request, None, 201)

    async def add_project_notification(self, request: Request) -> Response:
        # 200, not 201: the doc lists 200 for this endpoint.
        return await self.add_notification(request, self.project(request)["id"], 200)

    async def list_my_notifications(self, request: Request) -> Response:
        notifications = [self.notification_view(n) for n in self.data["notifications"].values()]
        return self.listing(request, notifications, "notification", "email")

    async def list_project_notifications(self, request: Request) -> Response:
        project_id = self.project(request)["id"]
        records = [n for n in self.data["notifications"].values() if n["project"] == project_id]
        notifications = [self.notification_view(n) for n in records]
        return self.listing(request, notifications, "notification", "email")

    async def get_notification(self, request: Request) -> Response:
        return reply(request, self.notification_view(self.notification(request)), root="notification")

    async def update_notification(self, request: Request) -> Response:
        values = await request_params(request)
        kind = one_of("type", required(values, "type"), NOTIFICATION_TYPES)
        with self.store.lock:
            notification = self.notification(request)
            notification["type"] = kind
        return reply(request, self.notification_view(notification), 202, root="notification")

    async def delete_notification(self, request: Request) -> Response:
        with self.store.lock:
            del self.data["notifications"][str(self.notification(request)["id"])]
        return empty(204)

    # ---- Calls available without Authorization

    async def list_devices(self, request: Request) -> Response:
        return self.listing(request, list(self.data["devices"].values()), "device", "displayName")

    # ---- wiring

    def routes(self) -> list[Route]:
        me = "/api/v2/me"
        project = f"{me}/projects/{{projectId:int}}"
        run = f"{project}/runs/{{runId:int}}"
        device_run = f"{run}/device-runs/{{deviceRunId:int}}"
        group = f"{me}/device-groups/{{deviceGroupId:int}}"
        table: list[tuple[str, str, Handler]] = [
            # Project basics
            ("POST", f"{me}/projects", self.create_project),
            ("GET", f"{me}/projects", self.list_projects),
            ("GET", project, self.get_project),
            ("POST", project, self.update_project),
            ("DELETE", project, self.delete_project),
            ("GET", f"{project}/icon", self.project_icon),
            # Project config
            ("GET", f"{project}/config", self.get_config),
            ("POST", f"{project}/config", self.update_config),
            ("POST", f"{project}/config/parameters", self.add_parameter),
            ("GET", f"{project}/config/parameters", self.list_parameters),
            ("GET", f"{project}/config/parameters/{{parameterId:int}}", self.get_parameter),
            ("DELETE", f"{project}/config/parameters/{{parameterId:int}}", self.delete_parameter),
            # Project files
            ("POST", f"{project}/files/{{kind}}", self.upload_file),
            ("GET", f"{project}/files/{{kind}}", self.download_file),
            ("GET", f"{project}/files.zip", self.download_files_zip),
            # Project sharing
            ("POST", f"{project}/sharings", self.create_sharing),
            ("GET", f"{project}/sharings", self.list_sharings),
            ("GET", f"{project}/sharings/{{sharingId:int}}", self.get_sharing),
            ("DELETE", f"{project}/sharings/{{sharingId:int}}", self.delete_sharing),
            # Test run basics
            ("POST", f"{project}/runs", self.start_run),
            ("GET", f"{project}/runs", self.list_project_runs),
            ("GET", f"{me}/runs", self.list_my_runs),
            ("GET", run, self.get_run),
            ("POST", run, self.update_run),
            ("DELETE", run, self.delete_run),
            # Test run device runs
            ("GET", f"{run}/device-runs", self.list_device_runs),
            ("GET", device_run, self.get_device_run),
            ("GET", f"{device_run}/junit.xml", self.device_run_junit),
            ("GET", f"{device_run}/logs", self.device_run_logs),
            ("GET", f"{device_run}/performance", self.device_run_performance),
            ("GET", f"{device_run}/states", self.list_states),
            ("GET", f"{device_run}/states/{{stateId:int}}", self.get_state),
            ("GET", f"{run}/screenshots", self.list_screenshots),
            ("GET", f"{run}/screenshots/{{screenshotId:int}}", self.get_screenshot),
            # Test run config
            ("GET", f"{run}/config", self.get_run_config),
            ("GET", f"{run}/config/parameters", self.list_run_parameters),
            ("GET", f"{run}/config/parameters/{{parameterId:int}}", self.get_run_parameter),
            # Test run files
            ("GET", f"{run}/files/{{kind}}", self.download_run_file),
            ("GET", f"{run}/files.zip", self.download_run_files_zip),
            # Test run tagging
            ("POST", f"{run}/tags", self.create_tag),
            ("GET", f"{run}/tags", self.list_tags),
            ("GET", f"{run}/tags/{{tagId:int}}", self.get_tag),
            ("DELETE", f"{run}/tags/{{tagId:int}}", self.delete_tag),
            # Test run results
            ("GET", f"{run}/reports/{{report}}", self.run_report),
            ("GET", f"{project}/reports/summary", self.project_report),
            ("POST", f"{run}/screenshots.zip", self.request_screenshots_zip),
            ("GET", f"{run}/screenshots.zip", self.get_screenshots_zip),
            # Device groups
            ("POST", f"{me}/device-groups", self.create_group),
            ("GET", f"{me}/device-groups", self.list_groups),
            ("GET", f"{project}/device-groups", self.list_project_groups),
            ("GET", f"{project}/public-device-groups", self.list_project_public_groups),
            ("GET", group, self.get_group),
            ("POST", group, self.update_group),
            ("DELETE", group, self.delete_group),
            ("POST", f"{group}/devices", self.add_group_device),
            ("GET", f"{group}/devices", self.list_group_devices),
            ("DELETE", f"{group}/devices/{{deviceId:int}}", self.remove_group_device),
            # Notifications (the doc's singular /notification/{id} for one of them)
            ("POST", f"{me}/notifications", self.add_my_notification),
            ("POST", f"{project}/notifications", self.add_project_notification),
            ("GET", f"{me}/notifications", self.list_my_notifications),
            ("GET", f"{project}/notifications", self.list_project_notifications),
            ("GET", f"{me}/notification/{{id:int}}", self.get_notification),
            ("POST", f"{me}/notification/{{id:int}}", self.update_notification),
            ("DELETE", f"{me}/notification/{{id:int}}", self.delete_notification),
        ]
        public: list[tuple[str, str, Handler]] = [
            ("GET", "/oauth/token", self.oauth_token),
            ("POST", "/oauth/token", self.oauth_token),
            ("GET", "/api/v2/devices", self.list_devices),
        ]
        return [Route(path, self.guard(handler, public=False), methods=[method]) for method, path, handler in table] + [
            Route(path, self.guard(handler, public=True), methods=[method]) for method, path, handler in public
        ]


def _text(name: str, value: str) -> str:
    return value


def _nullable(parse: Callable[[str, str], Any]) -> Callable[[str, str], Any]:
    """An empty value resets a field whose default is null."""
    return lambda name, value: None if value == "" else parse(name, value)


def _enum(allowed: tuple[str, ...]) -> Callable[[str, str], str]:
    return lambda name, value: one_of(name, value, allowed)


def _language(name: str, value: str) -> str:
    if not re.fullmatch(r"[a-z]{2}_[A-Z]{2}", value):
        raise ApiError(400, f"Invalid {name} '{value}': expected xx_YY, e.g. en_US")
    return value


def _hook_url(name: str, value: str) -> str:
    if value and not re.match(r"https?://[^\s/]+", value):
        raise ApiError(400, f"Invalid {name} '{value}': expected an http(s) URL")
    return value


# projectConfig fields a client may set, with how each is read and checked.
CONFIG_FIELDS: dict[str, Callable[[str, str], Any]] = {
    "scheduler": _enum(SCHEDULERS),
    "mode": _enum(MODES),
    "autoScreenshots": parse_bool,
    "screenshotDir": _text,
    "limitationType": _nullable(_enum(LIMITATION_TYPES)),
    "limitationValue": _text,
    "withAnnotation": _nullable(_text),
    "withoutAnnotation": _nullable(_text),
    "applicationUsername": _text,
    "applicationPassword": _text,
    "usedDeviceGroupId": parse_int,
    "deviceLanguageCode": _language,
    "hookURL": _hook_url,
    "uiAutomatorTestClasses": _nullable(_text),
    "launchApp": parse_bool,
    "instrumentationRunner": _text,
    "checkApp": parse_bool,
}


def build_app(options: EmulatorOptions | None = None) -> EmulatorApp:
    """The Bitbar emulator; see the module docstring for what it does and does not do."""
    options = options or EmulatorOptions()
    emulator = BitbarEmulator(options)
    app = EmulatorApp("bitbar", emulator.routes(), options, error_body, emulator.store)

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return reply(request, error_body(exc.status, exc.message), exc.status, root="error")

    async def routing_error(request: Request, exc: Exception) -> Response:
        # Unknown paths and methods answer the same error object as the handlers.
        assert isinstance(exc, HTTPException)
        response = reply(request, error_body(exc.status_code, exc.detail), exc.status_code, root="error")
        response.headers.update(exc.headers or {})
        return response

    app.starlette.add_exception_handler(ApiError, api_error)
    app.starlette.add_exception_handler(HTTPException, routing_error)
    return app
