"""The dependency graph: the only module that touches networkx.

Built by named steps applied in order (nodes, reference edges, depends_on
edges), so a new rule is one more step. An edge ``a -> b`` means "b needs a":
a topological walk visits dependencies first.
"""

from __future__ import annotations

from typing import Callable, Iterable

import networkx as nx

from engine.addresses import Address
from engine.config import PlanConfig
from engine.errors import CycleError


class DependencyGraph:
    def __init__(self) -> None:
        self._graph = nx.DiGraph()

    # --- construction ----------------------------------------------------
    def add_node(self, address: Address) -> None:
        self._graph.add_node(address)

    def add_edge(self, dependency: Address, dependent: Address) -> None:
        self._graph.add_edge(dependency, dependent)

    # --- questions -------------------------------------------------------
    def nodes(self) -> list[Address]:
        return list(self._graph.nodes)

    def dependencies(self, address: Address) -> list[Address]:
        return list(self._graph.predecessors(address))

    def descendants(self, address: Address) -> set[Address]:
        return nx.descendants(self._graph, address)

    def ancestors(self, address: Address) -> set[Address]:
        return nx.ancestors(self._graph, address)

    def order(self) -> list[Address]:
        """Dependencies first; ties broken by address so output is stable."""
        return list(nx.lexicographical_topological_sort(self._graph, key=str))

    def find_cycle(self) -> list[Address] | None:
        try:
            edges = nx.find_cycle(self._graph)
        except nx.NetworkXNoCycle:
            return None
        return [edge[0] for edge in edges] + [edges[0][0]]

    def subgraph(self, keep: Iterable[Address]) -> "DependencyGraph":
        result = DependencyGraph()
        result._graph = self._graph.subgraph(keep).copy()
        return result

    def to_dot(self) -> str:
        lines = ["digraph labform {", "  rankdir = LR;"]
        for node in self.order():
            shape = "note" if node.is_data else "box"
            lines.append(f'  "{node}" [shape={shape}];')
        for source, target in sorted(self._graph.edges, key=lambda e: (str(e[0]), str(e[1]))):
            lines.append(f'  "{source}" -> "{target}";')
        lines.append("}")
        return "\n".join(lines) + "\n"


GraphStep = Callable[[DependencyGraph, PlanConfig], None]


def add_block_nodes(graph: DependencyGraph, config: PlanConfig) -> None:
    for block in config.blocks():
        graph.add_node(block.address)


def add_reference_edges(graph: DependencyGraph, config: PlanConfig) -> None:
    for block in config.blocks():
        for ref in block.references():
            graph.add_edge(ref.address, block.address)


def add_depends_on_edges(graph: DependencyGraph, config: PlanConfig) -> None:
    for block in config.blocks():
        for target in block.depends_on:
            graph.add_edge(target, block.address)


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
