"""Engine tests against the in-memory cloud (tests/engine/memory_provider.py): no network, no emulator.

    def test_something(lab):
        lab.write('''
            resources:
              memory_thing.web: {name: web, size: 1}
        ''')
        outcome = lab.apply()
        assert lab.store.named("web")["size"] == 1

``lab.write`` puts the ``providers: {memory: {store: <this test's store>}}``
block in front of the plan text, so every test has its own cloud. Plans live
in ``tmp_path/plan/``, state in ``tmp_path/state.json``.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from labform.engine import runner
from labform.engine.addresses import Address
from labform.engine.planner import PlanOptions
from labform.providers import registry
from tests.engine import memory_provider
from tests.engine.memory_provider import MemoryStore

MEMORY = "tests.engine.memory_provider:MemoryProvider"


def provider_header(store: MemoryStore) -> str:
    return f"providers:\n  memory:\n    store: {store.id}\n"


@pytest.fixture
def memory_registered():
    """The memory provider is known to the registry only during the test that asks for it,
    so the committed JSON Schema (tests/engine/test_schema.py) never sees it."""
    registry.register("memory", MEMORY)
    yield
    # registry has no unregister(): drop the entry and clear its caches as register() does.
    registry._PROVIDERS.pop("memory", None)
    registry.forget_caches()


@pytest.fixture
def store(memory_registered) -> MemoryStore:
    """A fresh in-memory cloud for this test."""
    fresh = memory_provider.new_store()
    yield fresh
    memory_provider.drop_store(fresh)


def options(**kwargs: Any) -> PlanOptions:
    """PlanOptions, with addresses given as text for brevity."""
    for key in ("targets", "replace"):
        if key in kwargs:
            kwargs[key] = [Address.parse(a) if isinstance(a, str) else a for a in kwargs[key]]
    return PlanOptions(**kwargs)


class Lab:
    """One test's plan folder, state file and cloud; plan/apply go through labform.engine.runner."""

    def __init__(self, root: Path, store: MemoryStore):
        self.root = root
        self.store = store
        self.plan_dir = root / "plan"
        self.plan_dir.mkdir()
        self.state_path = root / "state.json"
        self.reports: list[str] = []
        self.events: list = []

    def write(self, body: str, name: str = "main.yaml") -> Path:
        """The plan text (dedented) after this store's provider block."""
        target = self.plan_dir / name
        target.write_text(provider_header(self.store) + textwrap.dedent(body))
        return target

    def _report(self, event) -> None:
        """Keep each event and its human line (what the CLI would print)."""
        self.events.append(event)
        self.reports.append(event.message)

    def workspace(self) -> runner.Workspace:
        return runner.Workspace(self.plan_dir, state=str(self.state_path), report=self._report)

    def plan(self, out: Path | None = None, **kwargs: Any) -> runner.PlanResult:
        return runner.plan(self.workspace(), options(**kwargs), out)

    def apply(self, plan_file: Path | None = None, **kwargs: Any) -> runner.ApplyOutcome:
        return runner.apply(self.workspace(), options(**kwargs), plan_file)

    def apply_ok(self, **kwargs: Any) -> runner.ApplyOutcome:
        """Apply and insist that every change succeeded."""
        outcome = self.apply(**kwargs)
        assert outcome.result is not None and outcome.result.ok, (outcome.result, self.reports)
        return outcome

    def destroy(self, **kwargs: Any) -> runner.ApplyOutcome:
        return self.apply(destroy=True, **kwargs)

    def state(self) -> dict[str, Any]:
        """The state file as JSON."""
        return json.loads(self.state_path.read_text())

    def state_id(self, address: str) -> str:
        return self.state()["resources"][address]["id"]


@pytest.fixture
def lab(tmp_path, store) -> Lab:
    return Lab(tmp_path, store)


def actions(plan) -> dict[str, str]:
    """address → action word of every change in a plan."""
    return {str(c.address): c.action.value for c in plan.changes}
