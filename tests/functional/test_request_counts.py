"""What a command costs in requests, counted in the Bitbar emulator's log (bench/run_all.py times it).

One listing per scope for refresh and natural-key look-ups alike (a new project or
device group: the cloud's search for its name, whatever the shared account holds), pages and member
listings read at once, the run waits reading their project's runs listing, an upload
hashed once per apply, and ``apply FILE --parallelism N`` honoured.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs

from labform.providers import transfer
from labform.providers.bitbar.client import PAGE_SIZE
from tests.conftest import BITBAR_PROVIDER, Workdir, state_of

PROJECT = "  bitbar_project.bench:\n    name: bench\n    type: ANDROID\n"


def parameters(count: int) -> str:
    return "".join(
        f"  bitbar_config_parameter.k{i}:\n    project: ${{bitbar_project.bench.id}}\n    key: key{i}\n    value: v{i}\n"
        for i in range(count)
    )


def gets(bitbar, path_contains: str = "") -> list[str]:
    return [r.path for r in bitbar.app.log.matching("GET", path_contains)]


def overlapping(records) -> bool:
    return any(
        a.started < b.finished and b.started < a.finished for i, a in enumerate(records) for b in records[i + 1 :]
    )


def test_new_objects_are_looked_up_in_one_listing_per_scope_or_by_name(bitbar, workdir):
    """A plan adding parameters to a project that holds more than a page of them reads that
    project's listing once, for refresh and every look-up together (the project alone in state is
    read on its own). Each new project is one search for its name: in an account shared by many
    workspaces that is one page of matches, where one listing shared by the five would page through
    every project of the account (see the test below)."""
    held = PAGE_SIZE + 10
    workdir.write(BITBAR_PROVIDER + "resources:\n" + PROJECT + parameters(held))
    assert workdir.apply().exit_code == 0
    more = "".join(f"  bitbar_project.new{i}:\n    name: new{i}\n    type: ANDROID\n" for i in range(5))
    workdir.write(BITBAR_PROVIDER + "resources:\n" + PROJECT + parameters(held + 20) + more)
    bitbar.app.log.clear()
    assert workdir.plan().exit_code == 0
    project = state_of(workdir)["resources"]["bitbar_project.bench"]["id"]
    assert len(gets(bitbar, f"/projects/{project}/config/parameters")) == 2  # its two pages
    searches = [parse_qs(r.query)["search"] for r in bitbar.app.log.matching("GET") if r.path == "/api/v2/me/projects"]
    assert sorted(searches) == [[f"new{i}"] for i in range(5)]
    assert gets(bitbar).count(f"/api/v2/me/projects/{project}") == 1
    assert len(bitbar.app.log.all()) == 8


def test_refresh_reads_pages_and_members_at_once_and_skips_empty_groups(emulator_options, bitbar, workdir):
    groups = "".join(
        f"  bitbar_device_group.g{i}:\n    name: g{i}\n    os_type: ANDROID\n    devices: {'[304]' if i % 2 else '[]'}\n"
        for i in range(6)
    )
    workdir.write(BITBAR_PROVIDER + "resources:\n" + PROJECT + parameters(2 * PAGE_SIZE + 1) + groups)
    assert workdir.apply().exit_code == 0
    emulator_options.latency = 0.1
    bitbar.app.log.clear()
    assert workdir.run("plan", str(workdir.path), "--detailed-exitcode").exit_code == 0
    members = bitbar.app.log.matching("GET", "/devices")
    assert len(members) == 3  # the three groups that hold a device; the empty ones say deviceCount 0
    assert overlapping(members)
    pages = bitbar.app.log.matching("GET", "/config/parameters")
    assert len(pages) == 3 and overlapping(pages[1:])  # the first says the total; the other two at once


def test_an_object_alone_in_its_scope_is_read_on_its_own_not_through_the_accounts_listing(bitbar, tmp_path):
    """An account shared with others' projects and groups: refreshing one of each costs their own
    reads (and the group's members), however many objects the account's listings would page through."""
    others, workdir = Workdir(tmp_path / "others"), Workdir(tmp_path / "mine")
    others.path.mkdir()
    workdir.path.mkdir()
    others.write(
        BITBAR_PROVIDER
        + "resources:\n"
        + "".join(f"  bitbar_project.p{i}:\n    name: other{i}\n    type: ANDROID\n" for i in range(PAGE_SIZE + 1))
        + "".join(
            f"  bitbar_device_group.g{i}:\n    name: other{i}\n    os_type: ANDROID\n    devices: [304]\n"
            for i in range(3)
        )
    )
    assert others.apply().exit_code == 0
    group = "  bitbar_device_group.mine:\n    name: mine\n    os_type: ANDROID\n    devices: [304]\n"
    workdir.write(BITBAR_PROVIDER + "resources:\n" + PROJECT + group)
    assert workdir.apply().exit_code == 0
    bitbar.app.log.clear()
    assert workdir.run("plan", str(workdir.path), "--detailed-exitcode").exit_code == 0
    resources = state_of(workdir)["resources"]
    project, mine = resources["bitbar_project.bench"]["id"], resources["bitbar_device_group.mine"]["id"]
    assert sorted(gets(bitbar)) == sorted(
        [
            f"/api/v2/me/projects/{project}",
            f"/api/v2/me/device-groups/{mine}",
            f"/api/v2/me/device-groups/{mine}/devices",
        ]
    )


def test_a_create_is_looked_up_by_the_clouds_search_for_its_name_not_the_accounts_listing(bitbar, tmp_path):
    """An account shared with more than a page of others' projects: a plan creating one reads only
    the page the cloud's search for its name answers. The search is a contains filter, so it also
    answers a near-miss ('bench-old'): compared by the exact name, it is no twin. (Device groups are
    still listed whole: the doc does not say which of their two names search reads.)"""
    others, workdir = Workdir(tmp_path / "others"), Workdir(tmp_path / "mine")
    others.path.mkdir()
    workdir.path.mkdir()
    names = [f"other{i}" for i in range(PAGE_SIZE + 10)]
    others.write(
        BITBAR_PROVIDER
        + "resources:\n"
        + "".join(f"  bitbar_project.{n}:\n    name: {n}\n    type: ANDROID\n" for n in [*names, "bench-old"])
    )
    assert others.apply().exit_code == 0
    workdir.write(BITBAR_PROVIDER + "resources:\n" + PROJECT)
    bitbar.app.log.clear()
    result = workdir.plan()
    assert result.exit_code == 0, result.output
    reads = sorted((r.path, parse_qs(r.query).get("search")) for r in bitbar.app.log.matching("GET"))
    assert reads == [("/api/v2/me/projects", ["bench"])]
    assert "already exists" not in result.output + result.stderr


def test_a_saved_plan_is_applied_at_the_parallelism_given_now(emulator_options, bitbar, workdir):
    workdir.write(
        BITBAR_PROVIDER
        + "resources:\n"
        + "".join(f"  bitbar_project.p{i}:\n    name: p{i}\n    type: ANDROID\n" for i in range(4))
    )
    saved = str(workdir.path / "tfplan")
    assert workdir.plan("--parallelism", "1", "--out", saved).exit_code == 0
    emulator_options.latency = 0.2
    bitbar.app.log.clear()
    assert workdir.run("apply", saved, "--parallelism", "4").exit_code == 0
    assert overlapping(bitbar.app.log.matching("POST", "/api/v2/me/projects"))


def test_a_saved_plan_keeps_its_parallelism_when_none_is_given(emulator_options, bitbar, workdir):
    workdir.write(
        BITBAR_PROVIDER
        + "resources:\n"
        + "".join(f"  bitbar_project.p{i}:\n    name: p{i}\n    type: ANDROID\n" for i in range(3))
    )
    saved = str(workdir.path / "tfplan")
    assert workdir.plan("--parallelism", "1", "--out", saved).exit_code == 0
    emulator_options.latency = 0.1
    assert workdir.run("apply", saved).exit_code == 0
    assert not overlapping(bitbar.app.log.matching("POST", "/api/v2/me/projects"))


RUNS = """
  bitbar_device_group.phones:
    name: phones
    os_type: ANDROID
    devices: [304]
  bitbar_project_config.bench:
    project: ${bitbar_project.bench.id}
    mode: APP_CRAWLER
    used_device_group: ${bitbar_device_group.phones.id}
  bitbar_file.app:
    project: ${bitbar_project.bench.id}
    kind: application
    path: APP_FILE
""" + "".join(
    f"  bitbar_run.r{i}:\n    project: ${{bitbar_project.bench.id}}\n    name: r{i}\n"
    "    depends_on: [bitbar_project_config.bench, bitbar_file.app]\n    wait: {timeout: 1m, poll: 0.2s}\n"
    for i in range(3)
)


def test_waiting_runs_read_their_project_listing_and_each_run_once_finished(
    running_clock, bitbar, workdir, tmp_path, monkeypatch
):
    """While waiting, a run's state comes from its project's runs listing (shared by its runs);
    each run, its device runs and each one's test results (junit.xml) are read once, when it has
    finished. The app is hashed once."""
    app = tmp_path / "app.apk"
    app.write_bytes(b"PK\x03\x04" + b"x" * 4096)
    digests = []
    real_new = hashlib.new
    monkeypatch.setattr(transfer.hashlib, "new", lambda name, *a: digests.append(name) or real_new(name, *a))
    workdir.write(BITBAR_PROVIDER + "resources:\n" + PROJECT + RUNS.replace("APP_FILE", str(app)))
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert digests.count("sha256") == 1
    runs = state_of(workdir)["resources"]
    for i in range(3):
        run = runs[f"bitbar_run.r{i}"]["id"]
        reads = gets(bitbar, f"/runs/{run}")
        junits = [path for path in reads if path.endswith("/junit.xml")]
        assert junits and len(set(junits)) == len(junits)
        assert len(reads) - len(junits) == 2  # the run and its device runs listing
    assert gets(bitbar, "/runs")  # the listing answered the waits
