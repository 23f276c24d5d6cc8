"""testdroid 3.2, the official Bitbar Python client, run as it is against the Bitbar emulator.

Every endpoint the client calls (testdroid/__init__.py of the package) is listed here with where it
falls: inside the doc (the ``bitbar`` rows of docs/endpoints.tsv, and ``/api/v2/me``, the emulator's
twin of the doc's ``/api/me`` example), in the vendor-client set (the ``bitbar/vendor-client`` rows),
or outside both. Every client function is listed with the endpoints it sends, checked against the
emulator's request log. Those inside the doc or the set work; those reaching outside are expected
404s, so a new client call, or one the emulator starts serving, fails here. The emulator's URL
reaches the client through its constructor; nothing of the client is patched.
"""

from __future__ import annotations

import inspect
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import testdroid

from labform.providers.bitbar.emulator import SANDBOX_API_KEY
from labform.providers.emulation import Clock, EmulatorOptions
from tests.emulators.endpoint_rows import rows_for, vendor_client_rows
from tests.fixtures.clouds import RunningBitbar

JOB = 100.0
DOC, VENDOR, OUTSIDE = "inside the doc", "in the vendor-client set", "outside both"

# Every endpoint testdroid 3.2 calls, in its own notation (under /api/v2/), and where it falls.
ENDPOINTS: dict[str, str] = {
    "GET me": DOC,  # the doc's apiKey example asks /api/me; its /api/v2 twin is served beside it
    "GET devices": DOC,
    "GET me/device-groups": DOC,
    "POST me/projects": DOC,
    "GET me/projects": DOC,
    "GET me/projects/{projectId}": DOC,
    "DELETE me/projects/{projectId}": DOC,
    "GET me/projects/{projectId}/runs": DOC,
    "GET me/projects/{projectId}/runs/{runId}": DOC,
    "POST users/{userId}/files": VENDOR,
    "POST users/{userId}/runs": VENDOR,
    "POST me/projects/{projectId}/runs/{runId}/retry": VENDOR,
    "POST me/projects/{projectId}/runs/{runId}/abort": VENDOR,
    "GET users/{userId}/device-groups/{deviceGroupId}/devices": OUTSIDE,
    "GET me/available-frameworks": OUTSIDE,
    "GET me/files": OUTSIDE,
    "GET me/files/{fileId}": OUTSIDE,
    "GET me/files/{fileId}/file": OUTSIDE,
    "POST me/runs/config": OUTSIDE,
    "POST me/device-sessions": OUTSIDE,
    "POST me/device-sessions/{deviceSessionId}/release": OUTSIDE,
    "GET me/projects/{projectId}/runs/{runId}/device-sessions": OUTSIDE,
    "GET me/projects/{projectId}/runs/{runId}/device-sessions/{deviceSessionId}/screenshots": OUTSIDE,
    "GET me/projects/{projectId}/runs/{runId}/device-sessions/{deviceSessionId}/screenshots/{screenshotId}": OUTSIDE,
    "GET me/projects/{projectId}/runs/{runId}/device-sessions/{deviceSessionId}/output-file-set/files": OUTSIDE,
    "GET me/access-groups": OUTSIDE,
    "POST me/access-groups": OUTSIDE,
    "GET me/access-groups/{accessGroupId}": OUTSIDE,
    "POST me/access-groups/{accessGroupId}": OUTSIDE,
    "DELETE me/access-groups/{accessGroupId}": OUTSIDE,
    "GET me/access-groups/{accessGroupId}/resources": OUTSIDE,
    "GET me/access-groups/{accessGroupId}/resources/{resourceId}": OUTSIDE,
    "DELETE me/access-groups/{accessGroupId}/resources/{resourceId}": OUTSIDE,
    "GET me/access-groups/{accessGroupId}/users": OUTSIDE,
    "POST me/access-groups/{accessGroupId}/users": OUTSIDE,
    "GET me/access-groups/{accessGroupId}/users/{userId}": OUTSIDE,
    "DELETE me/access-groups/{accessGroupId}/users/{userId}": OUTSIDE,
    "POST me/device-groups/{deviceGroupId}/share": OUTSIDE,
    "POST me/file-sets/{fileSetId}/share": OUTSIDE,
    "POST me/files/{fileId}/share": OUTSIDE,
    "POST me/projects/{projectId}/share": OUTSIDE,
}

RUN = "me/projects/{projectId}/runs/{runId}"
SESSION = RUN + "/device-sessions/{deviceSessionId}"
ACCESS_GROUP = "me/access-groups/{accessGroupId}"

# Every Testdroid function that sends a request: what it sends, in order, in the calls below.
SENDS: dict[str, list[str]] = {
    "get_me": ["GET me"],
    "get_devices": ["GET devices"],
    "print_available_free_android_devices": ["GET devices"],
    "print_available_free_ios_devices": ["GET devices"],
    "print_available_free_devices": ["GET devices", "GET devices"],
    "get_device_groups": ["GET me/device-groups"],
    "print_device_groups": ["GET me/device-groups"],
    "create_project": ["POST me/projects"],
    "get_projects": ["GET me/projects"],
    "print_projects": ["GET me", "GET me/projects"],
    "get_project": ["GET me/projects/{projectId}"],
    "delete_project": ["GET me/projects/{projectId}", "DELETE me/projects/{projectId}"],
    "get_project_test_runs": ["GET me/projects/{projectId}/runs"],
    "print_project_test_runs": ["GET me/projects/{projectId}/runs"],
    "get_test_run": [f"GET {RUN}"],
    "wait_test_run": [f"GET {RUN}"],  # one poll: the run has finished
    "upload_file": ["GET me", "POST users/{userId}/files"],  # and no scan to wait for
    "start_test_run_using_config": ["GET me", "POST users/{userId}/runs"],
    "start_wait_test_run": ["GET me", "POST users/{userId}/runs", f"GET {RUN}"],
    "retry_test_run": [f"POST {RUN}/retry"],
    "abort_test_run": [f"POST {RUN}/abort"],
    "get_devices_from_group": ["GET me", "GET users/{userId}/device-groups/{deviceGroupId}/devices"],
    "get_frameworks": ["GET me/available-frameworks"],
    "print_available_frameworks": ["GET me/available-frameworks"],
    "get_input_files": ["GET me/files"],
    "print_input_files": ["GET me/files"],
    "get_file": ["GET me/files/{fileId}"],
    "wait_for_virus_scan": ["GET me/files/{fileId}"],  # asked for a file whose scan is pending
    "_Testdroid__download_files": ["GET me/files/{fileId}/file"],
    "validate_test_run_config": ["POST me/runs/config"],
    "start_device_session": ["POST me/device-sessions"],
    "stop_device_session": ["POST me/device-sessions/{deviceSessionId}/release"],
    "get_device_sessions": [f"GET {RUN}/device-sessions"],
    "get_device_runs": [f"GET {RUN}/device-sessions"],
    "download_test_run": [f"GET {RUN}", f"GET {RUN}/device-sessions"],
    "download_test_screenshots": [f"GET {RUN}", f"GET {RUN}/device-sessions"],
    "start_wait_download_test_run": [
        "GET me",
        "POST users/{userId}/runs",
        f"GET {RUN}",
        f"GET {RUN}",
        f"GET {RUN}/device-sessions",
    ],
    "get_device_session_screenshots_list": [f"GET {SESSION}/screenshots"],
    "get_device_run_screenshots_list": [f"GET {SESSION}/screenshots"],
    "_Testdroid__download_screenshot": [f"GET {SESSION}/screenshots/{{screenshotId}}"],
    "get_device_session_files": [f"GET {SESSION}/output-file-set/files"],
    "get_device_run_files": [f"GET {SESSION}/output-file-set/files"],
    "get_access_groups": ["GET me/access-groups"],
    "create_access_group": ["POST me/access-groups"],
    "get_access_group": [f"GET {ACCESS_GROUP}"],
    "update_access_group": [f"POST {ACCESS_GROUP}"],
    "delete_access_group": [f"DELETE {ACCESS_GROUP}"],
    "get_access_group_resources": [f"GET {ACCESS_GROUP}/resources"],
    "get_access_group_resource": [f"GET {ACCESS_GROUP}/resources/{{resourceId}}"],
    "delete_access_group_resource": [f"DELETE {ACCESS_GROUP}/resources/{{resourceId}}"],
    "get_access_group_users": [f"GET {ACCESS_GROUP}/users"],
    "add_access_group_user": [f"POST {ACCESS_GROUP}/users"],
    "get_access_group_user": [f"GET {ACCESS_GROUP}/users/{{userId}}"],
    "delete_access_group_user": [f"DELETE {ACCESS_GROUP}/users/{{userId}}"],
    "share_device_group": ["POST me/device-groups/{deviceGroupId}/share"],
    "share_file_set": ["POST me/file-sets/{fileSetId}/share"],
    "share_file": ["POST me/files/{fileId}/share"],
    "share_project": ["POST me/projects/{projectId}/share"],
}
# The client's public functions that send nothing of their own: settings, the command line's
# plumbing (each command is one of the functions above), and the transport the others go through.
SENDS_NOTHING = {"set_apikey", "set_url", "set_download_buffer_size", "set_polling_interval_mins"}
SENDS_NOTHING |= {"get_parser", "get_commands", "cli", "get", "post", "delete", "upload", "download"}
# Inside the doc, but sent without what the doc requires: the client sends a project's name only
# ("Project type is deprecated"), the doc's create marks ``type`` Required (line 131) -> 400.
REFUSED_BY_THE_DOC = {"create_project": 400}


def where(function: str) -> str:
    """Where a function falls: outside if anything it sends is, else in the set if anything is, else the doc."""
    places = {ENDPOINTS[endpoint] for endpoint in SENDS[function]}
    return next(place for place in (OUTSIDE, VENDOR, DOC) if place in places)


def endpoint_pattern(endpoint: str) -> tuple[str, re.Pattern[str]]:
    method, path = endpoint.split(" ")
    return method, re.compile("/api/v2/" + re.sub(r"\{\w+\}", "[^/]+", path))


PATTERNS = {endpoint: endpoint_pattern(endpoint) for endpoint in ENDPOINTS}


def endpoint_of(method: str, path: str) -> str:
    """The inventory's name for a request the emulator received (the raw request when it has none)."""
    for endpoint, (wanted, pattern) in PATTERNS.items():
        if method == wanted and pattern.fullmatch(path):
            return endpoint
    return f"{method} {path} (not in the inventory)"


def shape(path: str) -> str:
    return re.sub(r"\{\w+\}", "{}", path).lower()


# ---------------------------------------------------------------- the inventory


def test_every_public_function_of_the_client_is_listed() -> None:
    """A function a later client adds (or one removed) fails here until it is placed."""
    public = {name for name, _ in inspect.getmembers(testdroid.Testdroid, callable) if not name.startswith("_")}
    listed = {name for name in SENDS if not name.startswith("_")}
    assert testdroid.__version__ == "3.2"
    assert public == listed | SENDS_NOTHING
    assert listed.isdisjoint(SENDS_NOTHING)


def test_the_inventory_places_each_endpoint_as_endpoints_tsv_does() -> None:
    doc = {(r.method, shape(r.path)) for r in rows_for("bitbar")}
    vendor = {(r.method, shape(r.path)) for r in vendor_client_rows("bitbar")}
    for endpoint, place in ENDPOINTS.items():
        method, path = endpoint.split(" ")
        key = (method, shape("/api/v2/" + path))
        placed = DOC if key in doc or endpoint == "GET me" else VENDOR if key in vendor else OUTSIDE
        assert placed == place, endpoint
    assert len(vendor) == 4 and vendor <= {(m, shape("/api/v2/" + p)) for m, p in map(str.split, ENDPOINTS)}
    assert {endpoint for function in SENDS for endpoint in SENDS[function]} == set(ENDPOINTS)


def test_each_vendor_client_row_names_a_function_of_the_client_that_sends_it() -> None:
    for row in vendor_client_rows("bitbar"):
        version, source, function = re.fullmatch(r"testdroid (\S+), (\S+) Testdroid\.(\w+)", row.evidence).groups()
        assert (version, source) == (testdroid.__version__, "testdroid/__init__.py")
        sent = {(m, shape("/api/v2/" + p)) for m, p in map(str.split, SENDS[function])}
        assert (row.method, shape(row.path)) in sent, row


def test_the_counts(capsys) -> None:
    """How much of the client the emulator serves, by function and by endpoint."""
    functions = {place: [f for f in SENDS if where(f) == place] for place in (DOC, VENDOR, OUTSIDE)}
    working = [f for f in SENDS if where(f) != OUTSIDE and f not in REFUSED_BY_THE_DOC]
    endpoints = {place: [e for e, p in ENDPOINTS.items() if p == place] for place in (DOC, VENDOR, OUTSIDE)}
    counts = (len(working), len(functions[DOC]), len(functions[VENDOR]), len(functions[OUTSIDE]))
    by_endpoint = (len(endpoints[DOC]), len(endpoints[VENDOR]), len(endpoints[OUTSIDE]))
    with capsys.disabled():
        print(
            f"\ntestdroid 3.2 functions that send requests: {len(SENDS)}; working {counts[0]}, inside the doc "
            f"{counts[1]} (refused by the doc: {', '.join(REFUSED_BY_THE_DOC)}), in the vendor-client set "
            f"{counts[2]}, outside {counts[3]}; endpoints: {len(ENDPOINTS)}, inside the doc {by_endpoint[0]}, "
            f"in the vendor-client set {by_endpoint[1]}, outside {by_endpoint[2]}"
        )
    assert counts == (20, 16, 5, 37)
    assert by_endpoint == (9, 4, 28)


# ---------------------------------------------------------------- the client against the emulator


@pytest.fixture
def emulator_options() -> EmulatorOptions:
    """A frozen clock the tests advance; a share of test cases fails, so some device runs do."""
    return EmulatorOptions(clock=Clock(speed=0), retry_after=0, job_duration=JOB, failure_share=0.1)


@pytest.fixture
def instant_runs(emulator_options: EmulatorOptions) -> None:
    """Runs finish as they start, so the client's waits (which poll until FINISHED) return at once."""
    emulator_options.job_duration = 0


class Rehearsal:
    """The client pointed at a running emulator; each function's requests are checked against SENDS."""

    def __init__(self, bitbar: RunningBitbar):
        self.app = bitbar.app
        self.client = testdroid.Testdroid(apikey=SANDBOX_API_KEY, url=bitbar.url)
        self.client.set_polling_interval_mins(0)  # the waits' first poll comes at once
        self.sent: set[str] = set()

    def call(self, function: str, *args: Any) -> Any:
        before = len(self.app.log.all())
        try:
            return getattr(self.client, function)(*args)
        finally:
            sent = [endpoint_of(r.method, r.path) for r in self.app.log.all()[before:]]
            self.sent.update(sent)
            assert sent == SENDS[function], function

    def refused(self, function: str, *args: Any) -> int:
        """The status the client's error carries, for a function expected to fail on an answer."""
        with pytest.raises(testdroid.RequestResponseError) as refusal:
            self.call(function, *args)
        return refusal.value.status_code


def apk(tmp_path: Path, name: str, package: str) -> tuple[Path, bytes]:
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as archive:
        archive.writestr("AndroidManifest.xml", f'<manifest package="{package}"/>')
    path = tmp_path / name
    path.write_bytes(content.getvalue())
    return path, content.getvalue()


@dataclass
class World:
    """What the doc's API made for the client to read: a project, a device group and what runs need."""

    api: httpx.Client
    project: int
    group: int
    app_path: Path
    test_path: Path

    def run_path(self, run_id: int) -> str:
        return f"/api/v2/me/projects/{self.project}/runs/{run_id}"

    def device_runs(self, run_id: int) -> dict[int, dict[str, Any]]:
        listing = self.api.get(self.run_path(run_id) + "/device-runs", params={"limit": 0}).json()["data"]
        return {device_run["id"]: device_run for device_run in listing}


DEVICES = [300, 301, 302, 303, 304]


@pytest.fixture
def world(bitbar: RunningBitbar, tmp_path: Path) -> World:
    api = bitbar.api()
    project = api.post("/api/v2/me/projects", data={"name": "Rehearsal", "type": "ANDROID"}).json()
    group = api.post("/api/v2/me/device-groups", data={"name": "Five", "osType": "ANDROID"}).json()
    for device_id in DEVICES:
        assert api.post(f"/api/v2/me/device-groups/{group['id']}/devices", data={"id": device_id}).status_code == 201
    app_path, _ = apk(tmp_path, "app.apk", "com.example.app")
    test_path, _ = apk(tmp_path, "app-test.apk", "com.example.app.test")
    return World(api, project["id"], group["id"], app_path, test_path)


def run_config(world: World, files: list[dict[str, Any]], **more: Any) -> str:
    """A test run config as the client's docstring writes one, as the JSON text it sends."""
    config = {"projectId": world.project, "files": files, "deviceGroupId": world.group, "osType": "ANDROID"}
    return json.dumps(config | more)


def test_every_call_inside_the_doc_or_the_vendor_client_set_works(bitbar: RunningBitbar, world: World, capsys) -> None:
    rehearsal, api = Rehearsal(bitbar), world.api
    me = rehearsal.call("get_me")
    assert me == api.get("/api/v2/me").json()
    assert len(rehearsal.call("get_devices")["data"]) == 60
    rehearsal.call("print_available_free_devices")  # reads each device's creditsPrice, locked, osType
    rehearsal.call("print_available_free_android_devices")
    rehearsal.call("print_available_free_ios_devices")
    groups = rehearsal.call("get_device_groups")["data"]
    assert world.group in {group["id"] for group in groups}
    rehearsal.call("print_device_groups")
    assert "Sony Xperia Z C6603" in capsys.readouterr().out  # a free Android device
    assert rehearsal.refused("create_project", "Named only") == REFUSED_BY_THE_DOC["create_project"]
    project = api.get(f"/api/v2/me/projects/{world.project}").json()
    assert rehearsal.call("get_project", world.project) == project
    assert project in rehearsal.call("get_projects")["data"]
    rehearsal.call("print_projects")

    # Uploads join the user's library; a run started with them is the doc's run of the project.
    uploaded = [rehearsal.call("upload_file", str(path)) for path in (world.app_path, world.test_path)]
    assert [f["originalName"] for f in uploaded] == ["app.apk", "app-test.apk"]
    files = [{"id": f["id"]} for f in uploaded]
    parameters = [{"key": "suite", "value": "smoke"}]
    run = rehearsal.call("start_test_run_using_config", run_config(world, files, testRunParameters=parameters))
    assert (run["projectId"], run["state"]) == (world.project, "WAITING")
    base = world.run_path(run["id"])
    assert api.get(base).json() == run == rehearsal.call("get_test_run", world.project, run["id"])
    assert run in rehearsal.call("get_project_test_runs", world.project)["data"]
    rehearsal.call("print_project_test_runs", world.project)
    assert api.get(base + "/config").json()["usedDeviceGroupId"] == world.group
    assert {"key": "suite", "value": "smoke"}.items() <= api.get(base + "/config/parameters").json()["data"][0].items()
    assert api.get(base + "/files/application").content == world.app_path.read_bytes()
    assert api.get(base + "/files/test").content == world.test_path.read_bytes()
    assert sorted(dr["device"]["id"] for dr in world.device_runs(run["id"]).values()) == DEVICES

    bitbar.app.clock.advance(JOB)
    rehearsal.call("wait_test_run", world.project, run["id"])
    finished = world.device_runs(run["id"])
    failed = [i for i, device_run in finished.items() if device_run["runStatus"] == "FAILED"]
    assert failed and len(failed) < len(DEVICES)

    # A retry of the failed device runs runs exactly those again, under their ids.
    retried = rehearsal.call("retry_test_run", world.project, run["id"], failed)
    assert retried["state"] == "RUNNING" and retried == api.get(base).json()
    again = world.device_runs(run["id"])
    assert {i: again[i] for i in again if i not in failed} == {i: finished[i] for i in finished if i not in failed}
    for device_run_id in failed:
        assert (again[device_run_id]["runStatus"], again[device_run_id]["startTime"]) == ("WAITING", None)
        states = api.get(f"{base}/device-runs/{device_run_id}/states").json()["data"]
        assert [(s["deviceRunStateType"], s["status"]) for s in states] == [("WAITING", "STARTED")]
    bitbar.app.clock.advance(JOB)
    assert api.get(base).json()["state"] == "FINISHED"
    assert all(dr["runStatus"] != "WAITING" for dr in world.device_runs(run["id"]).values())

    # An abort stops a running run: FINISHED, each device run FAILED, interrupted where it was.
    second = rehearsal.call("start_test_run_using_config", run_config(world, files))
    bitbar.app.clock.advance(JOB / 2)
    assert api.get(world.run_path(second["id"])).json()["state"] == "RUNNING"
    aborted = rehearsal.call("abort_test_run", world.project, second["id"])
    assert (aborted["state"], aborted["executionRatio"], aborted["successRatio"]) == ("FINISHED", 1.0, 0.0)
    stopped = world.device_runs(second["id"])
    for device_run in stopped.values():
        interrupted = device_run["interruptedByState"]
        assert device_run["runStatus"] == "FAILED" and interrupted == device_run["currentState"]
        assert (interrupted["status"], interrupted["failReason"]) == ("FAILED", "Aborted by the user")
    bitbar.app.clock.advance(JOB)
    assert world.device_runs(second["id"]) == stopped

    rehearsal.call("delete_project", world.project)
    assert api.get(f"/api/v2/me/projects/{world.project}").status_code == 404
    inside = {endpoint for endpoint, place in ENDPOINTS.items() if place != OUTSIDE}
    assert rehearsal.sent == inside


def test_a_started_run_is_waited_for_until_it_finishes(instant_runs: None, bitbar: RunningBitbar, world: World) -> None:
    rehearsal = Rehearsal(bitbar)
    uploaded = rehearsal.call("upload_file", str(world.app_path))
    run = rehearsal.call("start_wait_test_run", run_config(world, [{"id": uploaded["id"]}]))
    # An application without a test file: the doc's FULL_RUN mode needs one, so every device is EXCLUDED.
    assert world.api.get(world.run_path(run["id"])).json()["state"] == "FINISHED"
    assert {dr["runStatus"] for dr in world.device_runs(run["id"]).values()} == {"EXCLUDED"}


# Each function reaching outside the doc and the set, with arguments a user would pass (ids of the
# world's objects; what a device-sessions answer would have listed for the two private downloads).
OUTSIDE_CALLS: dict[str, Callable[[World, dict[str, Any], Path], tuple[Any, ...]]] = {
    "get_devices_from_group": lambda w, ids, tmp: (w.group,),
    "get_frameworks": lambda w, ids, tmp: (),
    "print_available_frameworks": lambda w, ids, tmp: (),
    "get_input_files": lambda w, ids, tmp: (),
    "print_input_files": lambda w, ids, tmp: (),
    "get_file": lambda w, ids, tmp: (ids["file"],),
    "wait_for_virus_scan": lambda w, ids, tmp: (
        [{"id": ids["file"], "fileProperties": [{"key": "virus_scan_status", "value": "scanning"}]}],
        5,
    ),
    "_Testdroid__download_files": lambda w, ids, tmp: (
        {"data": [{"id": ids["file"], "name": "logcat.txt", "state": "READY"}]},
        str(tmp / "downloads"),
    ),
    "validate_test_run_config": lambda w, ids, tmp: (run_config(w, [{"id": ids["file"]}]),),
    "start_device_session": lambda w, ids, tmp: (304,),
    "stop_device_session": lambda w, ids, tmp: (ids["deviceRun"],),
    "get_device_sessions": lambda w, ids, tmp: (w.project, ids["run"]),
    "get_device_runs": lambda w, ids, tmp: (w.project, ids["run"]),
    "download_test_run": lambda w, ids, tmp: (w.project, ids["run"]),
    "download_test_screenshots": lambda w, ids, tmp: (w.project, ids["run"]),
    "start_wait_download_test_run": lambda w, ids, tmp: (run_config(w, [{"id": ids["file"]}]),),
    "get_device_session_screenshots_list": lambda w, ids, tmp: (w.project, ids["run"], ids["deviceRun"]),
    "get_device_run_screenshots_list": lambda w, ids, tmp: (w.project, ids["run"], ids["deviceRun"]),
    "_Testdroid__download_screenshot": lambda w, ids, tmp: (
        w.project,
        ids["run"],
        ids["deviceRun"],
        1,
        str(tmp / "screenshot.png"),
    ),
    "get_device_session_files": lambda w, ids, tmp: (w.project, ids["run"], ids["deviceRun"]),
    "get_device_run_files": lambda w, ids, tmp: (w.project, ids["run"], ids["deviceRun"], "logs"),
    "get_access_groups": lambda w, ids, tmp: (),
    "create_access_group": lambda w, ids, tmp: ("Team",),
    "get_access_group": lambda w, ids, tmp: (1,),
    "update_access_group": lambda w, ids, tmp: (1, "Team", "USER"),
    "delete_access_group": lambda w, ids, tmp: (1,),
    "get_access_group_resources": lambda w, ids, tmp: (1,),
    "get_access_group_resource": lambda w, ids, tmp: (1, 2),
    "delete_access_group_resource": lambda w, ids, tmp: (1, 2),
    "get_access_group_users": lambda w, ids, tmp: (1,),
    "add_access_group_user": lambda w, ids, tmp: (1, "friend@example.com"),
    "get_access_group_user": lambda w, ids, tmp: (1, 2),
    "delete_access_group_user": lambda w, ids, tmp: (1, 2),
    "share_device_group": lambda w, ids, tmp: (w.group, 1),
    "share_file_set": lambda w, ids, tmp: (1, 1),
    "share_file": lambda w, ids, tmp: (ids["file"], 1),
    "share_project": lambda w, ids, tmp: (w.project, 1),
}


def test_the_expected_404s_are_every_function_reaching_outside() -> None:
    assert set(OUTSIDE_CALLS) == {function for function in SENDS if where(function) == OUTSIDE}


@pytest.mark.parametrize("function", sorted(OUTSIDE_CALLS))
def test_a_call_outside_the_doc_and_the_vendor_client_set_is_a_404(
    instant_runs: None, bitbar: RunningBitbar, world: World, tmp_path: Path, function: str
) -> None:
    rehearsal = Rehearsal(bitbar)
    uploaded = rehearsal.call("upload_file", str(world.app_path))
    run = rehearsal.call("start_test_run_using_config", run_config(world, [{"id": uploaded["id"]}]))
    ids = {"file": uploaded["id"], "run": run["id"], "deviceRun": min(world.device_runs(run["id"]))}
    assert rehearsal.refused(function, *OUTSIDE_CALLS[function](world, ids, tmp_path)) == 404
    assert bitbar.app.log.all()[-1].status == 404


# ---------------------------------------------------------------- the variant without the set


@pytest.mark.parametrize("variant", ["no-vendor-client"])
def test_without_the_vendor_client_set_its_endpoints_answer_404(bitbar: RunningBitbar, world: World) -> None:
    api = world.api
    run = api.post(f"/api/v2/me/projects/{world.project}/runs").json()
    ids = {"userId": api.get("/api/v2/me").json()["id"], "projectId": world.project, "runId": run["id"]}
    for row in vendor_client_rows("bitbar"):
        response = api.request(row.method, row.filled(ids), files={"file": ("app.apk", b"apk")})
        assert (response.status_code, response.json()["statusCode"]) == (404, 404), row.path
    rehearsal = Rehearsal(bitbar)
    assert rehearsal.refused("abort_test_run", world.project, run["id"]) == 404
    assert api.get(world.run_path(run["id"])).status_code == 200  # the doc's endpoints are all still there


def test_with_the_default_reading_the_vendor_client_set_is_served(bitbar: RunningBitbar, world: World) -> None:
    api = world.api
    run = api.post(f"/api/v2/me/projects/{world.project}/runs").json()
    ids = {"userId": api.get("/api/v2/me").json()["id"], "projectId": world.project, "runId": run["id"]}
    statuses = {}
    for row in vendor_client_rows("bitbar"):
        body = json.dumps({"projectId": world.project}) if row.path.endswith("/users/{userId}/runs") else None
        files = {"file": ("app.apk", b"apk")} if row.path.endswith("/files") else None
        statuses[row.path.rsplit("/", 1)[-1]] = api.request(row.method, row.filled(ids), content=body, files=files)
    assert {name: r.status_code for name, r in statuses.items()} == {
        "files": 201,
        "runs": 201,
        "retry": 202,
        "abort": 202,
    }


def test_the_vendor_client_set_refuses_as_the_doc_refuses_unknown_objects_and_bad_data(
    bitbar: RunningBitbar, world: World
) -> None:
    api = world.api
    user_id = api.get("/api/v2/me").json()["id"]
    runs = f"/api/v2/users/{user_id}/runs"
    library = api.post(f"/api/v2/users/{user_id}/files", files={"file": ("app.apk", world.app_path.read_bytes())})
    file_id = library.json()["id"]
    other_user = api.post(f"/api/v2/users/{user_id + 1}/files", files={"file": ("app.apk", b"apk")})
    refusals = {
        "another user": (other_user, 404),
        "an unknown project": (api.post(runs, content=json.dumps({"projectId": 1})), 404),
        "an unknown file": (
            api.post(runs, content=json.dumps({"projectId": world.project, "files": [{"id": 1}]})),
            404,
        ),
        "four files": (
            api.post(runs, content=json.dumps({"projectId": world.project, "files": [{"id": file_id}] * 4})),
            400,
        ),
        "an application as data": (
            api.post(runs, content=json.dumps({"projectId": world.project, "files": [{"id": file_id}] * 3})),
            201,  # an apk is a ZIP: the doc's data rule holds
        ),
        "no projectId": (api.post(runs, content=json.dumps({"files": []})), 400),
        "a config that is not JSON": (api.post(runs, content="projectId=1"), 400),
    }
    assert {name: r.status_code for name, (r, _) in refusals.items()} == {n: s for n, (_, s) in refusals.items()}
    assert other_user.json() == {"statusCode": 404, "message": f"No user with id {user_id + 1}"}

    # A doc upload to the project drops the project's replaced files, never the user's library.
    project_files = f"/api/v2/me/projects/{world.project}/files/application"
    for content in (b"first", b"second"):
        assert api.post(project_files, files={"file": ("app.apk", content)}).status_code == 201
    run = api.post(runs, content=json.dumps({"projectId": world.project, "files": [{"id": file_id}]})).json()
    assert api.get(world.run_path(run["id"]) + "/files/application").content == world.app_path.read_bytes()
    # Without files the project's own are used.
    own = api.post(runs, content=json.dumps({"projectId": world.project})).json()
    assert api.get(world.run_path(own["id"]) + "/files/application").content == b"second"

    other_run = api.post(f"/api/v2/me/projects/{world.project}/runs").json()
    stranger = min(world.device_runs(other_run["id"]))
    retry = api.post(world.run_path(run["id"]) + "/retry", params={"deviceRunIds[]": stranger})
    assert (retry.status_code, retry.json()["message"]) == (
        404,
        f"Run {run['id']} has no device run with id {stranger}",
    )
    assert api.post(world.run_path(run["id"]) + "/retry", params={"deviceRunIds[]": "x"}).status_code == 400
    assert api.post(f"/api/v2/me/projects/{world.project}/runs/1/abort").status_code == 404
