"""The executor: a parallel walk of the plan in dependency order, skipping what depends on a failure."""

from __future__ import annotations

import ast
from pathlib import Path

import labform.engine
from labform.engine import planfile
from labform.engine.addresses import Address
from labform.engine.executor import Executor
from labform.engine.graph import build_graph
from tests.engine.conftest import actions, options

FAMILY = """
resources:
  memory_thing.base:
    name: base
  memory_thing.child:
    name: child
    parent: ${memory_thing.base.id}
  memory_thing.grandchild:
    name: grandchild
    parent: ${memory_thing.child.id}
  memory_thing.other:
    name: other
  memory_thing.other_child:
    name: other_child
    parent: ${memory_thing.other.id}
"""


def test_failed_change_skips_exactly_its_dependents_while_unrelated_changes_finish(lab):
    """When a create fails, what depends on it (directly or not) is skipped and everything else is applied."""
    lab.write(FAMILY)
    lab.store.fail("base", "quota exceeded")

    outcome = lab.apply()
    result = outcome.result
    assert result.failed == [
        (Address.parse("memory_thing.base"), "memory: create memory_thing failed (500): quota exceeded")
    ]
    assert result.skipped == [Address.parse("memory_thing.child"), Address.parse("memory_thing.grandchild")]
    assert result.ok is False
    assert result.added == 2
    assert lab.store.names() == ["other", "other_child"]
    assert lab.store.ops("create") == [("create", "base"), ("create", "other"), ("create", "other_child")]
    assert set(lab.state()["resources"]) == {"memory_thing.other", "memory_thing.other_child"}
    assert "memory_thing.child: skipped because memory_thing.base failed" in lab.reports


def test_apply_after_a_failure_is_fixed_creates_what_was_skipped(lab):
    """Once the failing object can be created, the next apply makes it and its skipped dependents, nothing else."""
    lab.write(FAMILY)
    lab.store.fail("base")
    lab.apply()
    lab.store.failures.clear()
    lab.store.forget_calls()

    assert actions(lab.plan().plan) == {
        "memory_thing.base": "create",
        "memory_thing.child": "create",
        "memory_thing.grandchild": "create",
        "memory_thing.other": "no-op",
        "memory_thing.other_child": "no-op",
    }
    lab.apply_ok()
    assert lab.store.ops() == [("create", "base"), ("create", "child"), ("create", "grandchild")]
    assert lab.store.names() == ["base", "child", "grandchild", "other", "other_child"]


def test_failed_update_keeps_the_previous_state_and_is_planned_again(lab):
    """A failed update leaves state as it was, so the next plan proposes the same update."""
    lab.write("""
        resources:
          memory_thing.web: {name: web, size: 1}
    """)
    lab.apply_ok()
    lab.write("""
        resources:
          memory_thing.web: {name: web, size: 2}
    """)
    lab.store.fail("web")

    outcome = lab.apply()
    assert [str(a) for a, _ in outcome.result.failed] == ["memory_thing.web"]
    assert lab.state()["resources"]["memory_thing.web"]["attributes"]["size"] == 1
    assert lab.store.named("web")["size"] == 1
    assert actions(lab.plan().plan) == {"memory_thing.web": "update"}


def test_failure_message_never_shows_a_secret(lab):
    """A provider error that echoes a sensitive argument is reported with the secret masked."""
    lab.write("""
        resources:
          memory_thing.web: {name: web, secret: pa55-in-the-error}
    """)
    lab.store.fail("web", "rejected password pa55-in-the-error")

    outcome = lab.apply()
    [(address, message)] = outcome.result.failed
    assert message == "memory: create memory_thing failed (500): rejected password (sensitive)"
    assert not any("pa55-in-the-error" in line for line in lab.reports)


def test_parallel_walk_never_exceeds_parallelism(lab):
    """Thirty independent creates with parallelism 4 overlap, but never more than four at once."""
    lab.write("resources:\n" + "".join(f"  memory_thing.t{i:02}: {{name: t{i:02}}}\n" for i in range(30)))
    lab.store.delay = 0.01

    lab.apply_ok(parallelism=4)
    assert len(lab.store.names()) == 30
    assert 1 < lab.store.max_concurrent <= 4


def test_parallelism_one_applies_changes_one_at_a_time(lab):
    """With parallelism 1 no two calls ever overlap."""
    lab.write("resources:\n" + "".join(f"  memory_thing.t{i}: {{name: t{i}}}\n" for i in range(5)))
    lab.store.delay = 0.005

    lab.apply_ok(parallelism=1)
    assert lab.store.max_concurrent == 1
    writes = lab.store.writes()
    assert all(a.finished <= b.started for a, b in zip(writes, writes[1:], strict=False))


def test_a_saved_plan_reads_at_the_parallelism_given_to_apply(lab, tmp_path):
    """`apply FILE --parallelism N`: N bounds the reads (a data source's pages) as well as the
    changes, whatever parallelism the plan was saved with."""
    lab.store.catalog.update({f"k{i}": i for i in range(6)})
    lab.write(
        "data:\n  memory_lookup.all: {name: k0, more: [k1, k2, k3, k4, k5]}\nresources:\n  memory_thing.t: {name: t}\n"
    )
    saved = tmp_path / "tfplan"
    lab.plan(out=saved, parallelism=1)
    lab.store.lookup_delay = 0.05

    outcome = lab.apply(saved, parallelism=3)
    assert outcome.result is not None and outcome.result.ok
    assert 1 < lab.store.max_concurrent <= 3

    lab.store.max_concurrent = 0
    lab.plan(out=saved, parallelism=1)
    lab.apply(saved, parallelism=None)  # no flag (the CLI passes None): the saved parallelism holds
    assert lab.store.max_concurrent == 1


DIAMOND = """
resources:
  memory_thing.root:
    name: root
  memory_thing.left:
    name: left
    parent: ${memory_thing.root.id}
  memory_thing.right:
    name: right
    parent: ${memory_thing.root.id}
  memory_thing.join:
    name: join
    parent: ${memory_thing.left.id}
    depends_on: [memory_thing.right]
  memory_thing.loose1:
    name: loose1
  memory_thing.loose2:
    name: loose2
"""
DIAMOND_EDGES = [("root", "left"), ("root", "right"), ("left", "join"), ("right", "join")]


def test_change_never_starts_before_its_dependencies_finish(lab):
    """Along every reference and depends_on edge the dependency's create finishes before the dependent's starts."""
    lab.write(DIAMOND)
    lab.store.delay = 0.01

    lab.apply_ok(parallelism=10)
    for dependency, dependent in DIAMOND_EDGES:
        assert lab.store.call_of("create", dependency).finished <= lab.store.call_of("create", dependent).started, (
            dependency,
            dependent,
        )
    # Independent branches did run side by side.
    assert lab.store.max_concurrent > 1


def test_destroy_deletes_dependents_before_what_they_depend_on(lab):
    """A destroy walks the graph backwards: each dependent's delete finishes before its dependency's starts."""
    lab.write(DIAMOND)
    lab.apply_ok()
    lab.store.delay = 0.01
    lab.store.forget_calls()

    outcome = lab.destroy(parallelism=10)
    assert outcome.result.destroyed == 6
    assert lab.store.names() == []
    for dependency, dependent in DIAMOND_EDGES:
        assert lab.store.call_of("delete", dependent).finished <= lab.store.call_of("delete", dependency).started, (
            dependency,
            dependent,
        )


def test_orphans_are_deleted_dependents_first(lab):
    """Blocks removed together are deleted in reverse dependency order, taken from state."""
    lab.write(FAMILY)
    lab.apply_ok()
    lab.store.forget_calls()

    lab.write("""
        resources:
          memory_thing.other:
            name: other
    """)
    lab.apply_ok()
    assert sorted(lab.store.ops()) == [("delete", n) for n in ("base", "child", "grandchild", "other_child")]
    for dependency, dependent in [("base", "child"), ("child", "grandchild")]:
        assert lab.store.call_of("delete", dependent).finished <= lab.store.call_of("delete", dependency).started
    assert lab.store.names() == ["other"]


def test_create_before_destroy_deletes_the_old_object_after_dependents_moved(lab):
    """With create_before_destroy, dependents switch to the new object before the old one is deleted."""
    body = """
        resources:
          memory_thing.group:
            name: group
            kind: a
            lifecycle: {create_before_destroy: true}
          memory_thing.user:
            name: user
            parent: ${memory_thing.group.id}
    """
    lab.write(body)
    lab.apply_ok()
    lab.store.forget_calls()

    lab.write(body.replace("kind: a", "kind: b"))
    lab.apply_ok()
    assert lab.store.ops() == [("create", "group"), ("update", "user"), ("delete", "group")]


def test_outputs_are_resolved_after_apply_and_kept_in_state(lab):
    """Outputs take the values apply produced and are written to state."""
    lab.write("""
        resources:
          memory_thing.web: {name: web, size: 4}
        outputs:
          web_id: ${memory_thing.web.id}
          web_size: ${memory_thing.web.size}
    """)
    outcome = lab.apply_ok()
    web_id = lab.store.named("web")["id"]
    assert outcome.result.outputs == {"web_id": web_id, "web_size": 4}
    assert lab.state()["outputs"] == {"web_id": web_id, "web_size": 4}


def test_progress_is_reported_per_change(lab):
    """Each change reports when it starts and when it completes, with the new id."""
    lab.write("""
        resources:
          memory_thing.web: {name: web}
    """)
    lab.apply_ok()
    web_id = lab.store.named("web")["id"]
    assert lab.reports[0] == "memory_thing.web: Creating..."
    assert lab.reports[1].startswith("memory_thing.web: Creation complete after ")
    assert lab.reports[1].endswith(f"[id={web_id}]")


def test_data_source_read_during_apply_feeds_its_dependent(lab):
    """A data source waiting on a create is read once the create is done, and its value reaches the dependent."""
    lab.write("""
        resources:
          memory_thing.web: {name: web}
          memory_thing.sized:
            name: sized
            size: ${data.memory_lookup.size_of_web.value}
        data:
          memory_lookup.size_of_web: {name: "${memory_thing.web.id}"}
    """)
    # The catalog entry appears under the id the store will give the first object.
    lab.store.catalog["thing-1"] = 8

    lab.apply_ok()
    assert lab.store.named("web")["id"] == "thing-1"
    assert lab.store.named("sized")["size"] == 8
    assert lab.store.call_of("create", "web").finished <= lab.store.call_of("create", "sized").started


def test_failure_skips_dependents_also_through_an_unchanged_object_in_between(lab):
    """A dependent two steps away is skipped when its indirect dependency fails, though the object between is a no-op."""
    lab.write("""
        resources:
          memory_thing.base: {name: base, size: 1}
          memory_thing.middle:
            name: middle
            parent: ${memory_thing.base.id}
          memory_thing.top:
            name: top
            size: 1
            depends_on: [memory_thing.middle]
    """)
    lab.apply_ok()
    lab.write("""
        resources:
          memory_thing.base: {name: base, size: 2}
          memory_thing.middle:
            name: middle
            parent: ${memory_thing.base.id}
          memory_thing.top:
            name: top
            size: 2
            depends_on: [memory_thing.middle]
    """)
    lab.store.fail("base")
    lab.store.forget_calls()

    outcome = lab.apply()
    assert [str(a) for a, _ in outcome.result.failed] == ["memory_thing.base"]
    assert outcome.result.skipped == [Address.parse("memory_thing.top")]
    assert lab.store.ops() == [("update", "base")]
    assert lab.store.named("top")["size"] == 1


def test_object_moved_away_from_a_deleted_one_is_updated_before_the_delete(lab):
    """When a block is removed and its dependent stops referencing it, the dependent changes first."""
    lab.write("""
        resources:
          memory_thing.old: {name: old}
          memory_thing.user:
            name: user
            parent: ${memory_thing.old.id}
    """)
    lab.apply_ok()
    lab.store.delay = 0.01
    lab.store.forget_calls()

    lab.write("""
        resources:
          memory_thing.user: {name: user, parent: none}
    """)
    lab.apply_ok()
    assert lab.store.call_of("update", "user").finished <= lab.store.call_of("delete", "old").started


def test_removed_dependent_is_deleted_before_its_dependency_is_replaced(lab):
    """A block removed from the plan goes before the delete half of its dependency's replacement."""
    lab.write("""
        resources:
          memory_thing.base: {name: base, kind: a}
          memory_thing.child:
            name: child
            parent: ${memory_thing.base.id}
    """)
    lab.apply_ok()
    lab.store.forget_calls()

    lab.write("""
        resources:
          memory_thing.base: {name: base, kind: b}
    """)
    assert actions(lab.plan().plan) == {"memory_thing.base": "delete-then-create", "memory_thing.child": "delete"}
    lab.apply_ok(parallelism=1)  # one at a time: the order is the graph's alone
    assert lab.store.ops() == [("delete", "child"), ("delete", "base"), ("create", "base")]


def test_an_interrupted_apply_starts_nothing_new_lets_calls_in_flight_finish_and_the_next_apply_completes(lab):
    """Stop is set while the first creates run (as a SIGINT does): those finish and are recorded,
    the rest never start and are listed; the state loads and the next apply makes only the rest."""
    import threading

    from labform.engine import runner

    body = "resources:\n" + "".join(f"  memory_thing.t{i}:\n    name: t{i}\n" for i in range(12))
    lab.write(body)
    lab.store.delay = 0.2  # the three in flight are still running when stop is set
    stop = threading.Event()
    started: list[str] = []

    def interrupt_at_the_third_create(call) -> None:
        started.append(call.name)
        if len(started) == 3:
            stop.set()

    lab.store.on_write = interrupt_at_the_third_create
    outcome = runner.apply(lab.workspace(), options(parallelism=3), stop=stop)
    result = outcome.result
    assert result.interrupted and not result.ok
    assert result.added == 3 and len(result.not_started) == 9
    assert len(lab.store.names()) == 3
    assert len(lab.state()["resources"]) == 3
    lab.store.delay = 0.0
    lab.apply_ok()
    assert len(lab.store.names()) == 12


IGNORING = """
resources:
  memory_thing.web:
    name: web
    size: 1
    tags: [a]
    secret: first-secret-1
    lifecycle: {ignore_changes: [size, secret]}
"""


def test_executor_sends_what_the_saved_plan_says_not_the_ignored_arguments(lab):
    """Handed a saved plan, the executor sends each ignored argument at the value the plan recorded
    (the cloud's), and never the configured one, even if its config no longer lists ignore_changes:
    the plan alone says what to send. An ignored secret is neither changed nor sent as its fingerprint."""
    lab.write(IGNORING)
    lab.apply_ok()
    lab.store.edit("web", size=7)
    edited = IGNORING.replace("size: 1", "size: 3").replace("[a]", "[b]").replace("first-secret-1", "second-secret-2")
    lab.write(edited)
    saved = lab.root / "tfplan"
    lab.plan(out=saved)
    lab.write(edited.replace("    lifecycle: {ignore_changes: [size, secret]}\n", ""))
    lab.store.forget_calls()

    ws = lab.workspace()
    config, backend = ws.config(), ws.backend()
    with ws.providers(config) as session:
        result = Executor(
            planfile.read(saved).plan, config, build_graph(config), backend.read(), backend, session
        ).run()
    assert result.ok and result.changed == 1
    assert lab.store.ops() == [("update", "web")]
    web = lab.store.named("web")
    assert (web["tags"], web["size"], web["secret"]) == (["b"], 7, "first-secret-1")
    assert lab.state()["resources"]["memory_thing.web"]["attributes"]["size"] == 7


def test_ignore_changes_is_read_by_the_planner_alone():
    """Besides config.py, which loads and checks the lifecycle block, only the planner reads ignore_changes."""
    root = Path(labform.engine.__file__).parent
    readers = {
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if any(
            isinstance(n, ast.Attribute) and n.attr == "ignore_changes" for n in ast.walk(ast.parse(path.read_text()))
        )
    }
    assert readers == {"config.py", "planner.py"}


def test_state_that_cannot_be_written_stops_the_apply_from_starting_more_changes(lab, monkeypatch):
    """Once a change cannot record itself (a full disk), nothing else starts: every later create would
    go unrecorded too. The apply ends interrupted, naming the error; what did not start is untouched."""
    from labform.engine import runner
    from labform.engine.errors import StateError
    from labform.engine.state.local import LocalStateBackend

    lab.write("resources:\n" + "".join(f"  memory_thing.t{i}:\n    name: t{i}\n" for i in range(6)))
    appended: list[dict] = []

    def full_after_one(self, record):
        if appended:
            raise StateError(f"no space left on device writing {self.path}.journal")
        appended.append(record)

    monkeypatch.setattr(LocalStateBackend, "_journal_append", full_after_one)
    result = runner.apply(lab.workspace(), options(parallelism=1)).result
    assert result.interrupted == "state could not be written"
    # t0's intent was written, then the cloud made it, then its result could not be written.
    assert [str(a) for a, _ in result.failed] == ["memory_thing.t0"]
    assert "no space left on device" in result.failed[0][1]
    assert len(result.not_started) == 5
    assert lab.store.names() == ["t0"]
    assert [(r["kind"], r["address"]) for r in appended] == [("intent", "memory_thing.t0")]  # found again next time
