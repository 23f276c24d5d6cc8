"""The dependency graphs: the only module that touches networkx.

Two graphs, each built by named steps applied in order, so a new rule is one
more step:

- the config graph (``build_graph``): blocks, reference edges, depends_on
  edges, then a cycle check;
- the apply-order graph (``build_apply_graph``): the changes to run, config
  edges between them, and reversed edges for deletes (a dependent goes before
  what it depends on).

An edge ``a -> b`` means "b needs a": a topological walk visits dependencies first.
"""

from __future__ import annotations

import graphlib
import heapq
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from labform.engine.addresses import Address, Key, ModulePath, module_prefix
from labform.engine.changes import Action
from labform.engine.config import PlanConfig
from labform.engine.errors import CycleError

# Loaded on the first question of reach: validate and an untargeted plan need none of it.


class DependencyGraph:
    """Addresses and who needs whom. The edges are kept as plain sets, walked in order and
    checked for cycles by the standard library's graphlib (no import cost for validate or a
    plan); the networkx graph is made on the first question of reach (descendants, ancestors,
    dependents: --target and an apply's failures), once."""

    def __init__(self) -> None:
        self._needs: dict[Address, dict[Address, None]] = {}  # address → its dependencies, in insertion order
        self._networkx: Any = None

    # --- construction ----------------------------------------------------
    def add_node(self, address: Address) -> None:
        self._needs.setdefault(address, {})
        self._networkx = None

    def add_nodes(self, addresses: Iterable[Address]) -> None:
        for address in addresses:
            self._needs.setdefault(address, {})
        self._networkx = None

    def add_edge(self, dependency: Address, dependent: Address) -> None:
        self._needs.setdefault(dependency, {})
        self._needs.setdefault(dependent, {})[dependency] = None
        self._networkx = None

    @property
    def _graph(self) -> Any:
        import networkx as nx

        if self._networkx is None:
            graph = nx.DiGraph()
            graph.add_nodes_from(self._needs)
            graph.add_edges_from(
                (dependency, address) for address, needs in self._needs.items() for dependency in needs
            )
            self._networkx = graph
        return self._networkx

    # --- questions -------------------------------------------------------
    def nodes(self) -> list[Address]:
        return list(self._needs)

    def __contains__(self, address: Address) -> bool:
        return address in self._needs

    def dependencies(self, address: Address) -> list[Address]:
        return list(self._needs[address])

    def dependents(self, address: Address) -> list[Address]:
        return list(self._graph.successors(address))

    def descendants(self, address: Address) -> set[Address]:
        import networkx as nx

        found: set[Address] = nx.descendants(self._graph, address)
        return found

    def ancestors(self, address: Address) -> set[Address]:
        import networkx as nx

        found: set[Address] = nx.ancestors(self._graph, address)
        return found

    def order(self) -> list[Address]:
        """Dependencies first; of those ready at once, the lowest address first, so output is stable."""
        sorter = graphlib.TopologicalSorter(self._needs)
        sorter.prepare()
        ready = [(str(address), address) for address in sorter.get_ready()]
        heapq.heapify(ready)
        ordered = []
        while ready:
            _, address = heapq.heappop(ready)
            ordered.append(address)
            sorter.done(address)
            for unlocked in sorter.get_ready():
                heapq.heappush(ready, (str(unlocked), unlocked))
        return ordered

    def find_cycle(self) -> list[Address] | None:
        """One cycle as a path that ends where it starts, from its first address (stable output)."""
        try:
            graphlib.TopologicalSorter(self._needs).prepare()
        except graphlib.CycleError as found:
            path: list[Address] = found.args[1][:-1]  # each one needed by the next; the first is repeated at the end
            start = path.index(min(path, key=str))
            path = path[start:] + path[:start]
            return path + [path[0]]
        return None

    def to_dot(self) -> str:
        """Graphviz text: a box per resource, a note per data source, a cluster per module instance
        (nested as the modules are) holding its objects."""
        lines = ["digraph labform {", "  rankdir = LR;"]
        lines += _dot_nodes(self.order(), (), "  ")
        edges = ((dependency, address) for address, needs in self._needs.items() for dependency in needs)
        for source, target in sorted(edges, key=lambda e: (str(e[0]), str(e[1]))):
            lines.append(f"  {_dot_id(source)} -> {_dot_id(target)};")
        lines.append("}")
        return "\n".join(lines) + "\n"


def _dot_id(name: object) -> str:
    """A quoted DOT identifier: an address with a string key holds quotes (escaped as JSON escapes them)."""
    return json.dumps(str(name), ensure_ascii=False)


def _dot_nodes(nodes: list[Address], module: ModulePath, indent: str) -> list[str]:
    """The nodes inside ``module``, those of each module instance it calls in a cluster of its own."""
    lines, inner = [], len(module)
    called: dict[tuple[str, Key], list[Address]] = {}
    for node in nodes:
        if node.module == module:
            lines.append(f"{indent}{_dot_id(node)} [shape={'note' if node.is_data else 'box'}];")
        else:
            called.setdefault(node.module[inner], []).append(node)
    for step, members in called.items():
        path = (*module, step)
        label = module_prefix(path)[:-1]
        lines.append(f"{indent}subgraph {_dot_id('cluster_' + label)} {{")
        lines.append(f"{indent}  label = {json.dumps(label)};")
        lines += _dot_nodes(members, path, indent + "  ")
        lines.append(f"{indent}}}")
    return lines


GraphStep = Callable[[DependencyGraph, PlanConfig], None]


def add_block_nodes(graph: DependencyGraph, config: PlanConfig) -> None:
    graph.add_nodes(block.address for block in config.blocks())


def add_reference_edges(graph: DependencyGraph, config: PlanConfig) -> None:
    for block in config.blocks():
        for ref in block.references():
            if ref.address is not None:
                for target in config.targets(ref):
                    graph.add_edge(target, block.address)


def add_depends_on_edges(graph: DependencyGraph, config: PlanConfig) -> None:
    for block in config.blocks():
        for target in block.depends_on:  # a block's address orders after each of its instances
            for each in config.instances_of(target) if target.key is None else [target]:
                graph.add_edge(each, block.address)


def reject_cycles(graph: DependencyGraph, config: PlanConfig) -> None:
    cycle = graph.find_cycle()
    if cycle:
        first = config.block(cycle[0])
        raise CycleError("dependency cycle: " + " -> ".join(str(a) for a in cycle), first.location)


BUILD_STEPS: tuple[GraphStep, ...] = (add_block_nodes, add_reference_edges, add_depends_on_edges, reject_cycles)


def build_graph(config: PlanConfig) -> DependencyGraph:
    graph = DependencyGraph()
    for step in BUILD_STEPS:
        step(graph, config)
    return graph


# --- the apply-order graph -------------------------------------------------
@dataclass
class ApplyInputs:
    """What the order of an apply depends on."""

    actions: dict[Address, Action]  # the changes to run (no-ops excluded)
    config: DependencyGraph
    # Each address's dependencies as state last recorded them (a deleted
    # block's edges are known only from state).
    recorded: dict[Address, list[Address]]

    def deleting(self, address: Address) -> bool:
        return self.actions.get(address) == Action.DELETE

    def removing(self, address: Address) -> bool:
        """The object as it is now goes away: deleted, or replaced by a new one."""
        action = self.actions.get(address)
        return action == Action.DELETE or (action is not None and action.is_replace)

    def running(self, address: Address) -> bool:
        return address in self.actions and not self.deleting(address)


ApplyStep = Callable[[DependencyGraph, ApplyInputs], None]


def add_change_nodes(work: DependencyGraph, inputs: ApplyInputs) -> None:
    for address in inputs.actions:
        work.add_node(address)


def add_config_edges(work: DependencyGraph, inputs: ApplyInputs) -> None:
    """A change waits for every change it needs, also through unchanged objects in between."""
    for address in inputs.actions:
        if inputs.deleting(address) or address not in inputs.config:
            continue
        for dependency in inputs.config.ancestors(address):
            if inputs.running(dependency):
                work.add_edge(dependency, address)


def add_delete_edges(work: DependencyGraph, inputs: ApplyInputs) -> None:
    """Deletes run in reverse: a dependent is deleted before what it depended on goes (deleted or replaced)."""
    for address in inputs.actions:
        if inputs.deleting(address):
            for dependency in inputs.recorded.get(address, []):
                if inputs.removing(dependency):
                    work.add_edge(address, dependency)


def add_moved_away_edges(work: DependencyGraph, inputs: ApplyInputs) -> None:
    """An object that stops depending on a doomed one is changed before that one is deleted."""
    for address in inputs.actions:
        if inputs.running(address):
            for dependency in inputs.recorded.get(address, []):
                if inputs.deleting(dependency):
                    work.add_edge(address, dependency)


APPLY_STEPS: tuple[ApplyStep, ...] = (add_change_nodes, add_config_edges, add_delete_edges, add_moved_away_edges)


def build_apply_graph(inputs: ApplyInputs) -> DependencyGraph:
    work = DependencyGraph()
    for step in APPLY_STEPS:
        step(work, inputs)
    return work
