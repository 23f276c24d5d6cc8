"""The dependency graph built from a plan: reference and depends_on edges, order, cycles."""

from __future__ import annotations

import textwrap

import pytest

from labform.engine import runner
from labform.engine.addresses import Address
from labform.engine.config import load_config
from labform.engine.errors import CycleError
from labform.engine.graph import build_graph


@pytest.fixture
def graph_of(tmp_path, memory_registered):
    """Write a plan file (no provider block: building a graph calls no cloud) and build its graph."""

    def build(text: str):
        path = tmp_path / "main.yaml"
        path.write_text(textwrap.dedent(text).lstrip())
        return build_graph(load_config(path))

    return build


def A(text: str) -> Address:
    return Address.parse(text)


def test_reference_makes_the_referenced_object_a_dependency(graph_of):
    """${TYPE.NAME.attr} is an edge from the referenced object to the one that uses it."""
    graph = graph_of("""
        resources:
          memory_thing.parent: {name: parent}
          memory_thing.child:
            name: child
            parent: ${memory_thing.parent.id}
    """)
    assert graph.dependencies(A("memory_thing.child")) == [A("memory_thing.parent")]
    assert graph.dependencies(A("memory_thing.parent")) == []
    assert graph.order() == [A("memory_thing.parent"), A("memory_thing.child")]


def test_reference_inside_a_string_and_a_list_is_an_edge_too(graph_of):
    """A reference interpolated in text or nested in a list still makes an edge."""
    graph = graph_of("""
        resources:
          memory_thing.a: {name: a}
          memory_thing.b: {name: b}
          memory_thing.c:
            name: "c-${memory_thing.a.id}"
            tags:
              - ${memory_thing.b.id}
    """)
    assert sorted(graph.dependencies(A("memory_thing.c"))) == [A("memory_thing.a"), A("memory_thing.b")]


def test_depends_on_adds_an_ordering_edge_without_a_value(graph_of):
    """depends_on orders two objects that share no value."""
    graph = graph_of("""
        resources:
          memory_thing.first: {name: first}
          memory_thing.second:
            name: second
            depends_on: [memory_thing.first]
    """)
    assert graph.dependencies(A("memory_thing.second")) == [A("memory_thing.first")]


def test_data_source_is_a_node_and_its_references_are_edges(graph_of):
    """Data sources take part in the graph both as dependency and as dependent."""
    graph = graph_of("""
        resources:
          memory_thing.web: {name: web}
          memory_thing.sized:
            name: sized
            size: ${data.memory_lookup.size.value}
        data:
          memory_lookup.size: {name: "${memory_thing.web.id}"}
    """)
    lookup = Address("memory_lookup", "size", True)
    assert graph.dependencies(lookup) == [A("memory_thing.web")]
    assert graph.dependencies(A("memory_thing.sized")) == [lookup]
    assert graph.order() == [A("memory_thing.web"), lookup, A("memory_thing.sized")]


def test_order_puts_dependencies_first_and_breaks_ties_by_address(graph_of):
    """The walk order is topological, and independent blocks come in address order whatever the file order."""
    graph = graph_of("""
        resources:
          memory_thing.zeta: {name: zeta}
          memory_thing.beta:
            name: beta
            parent: ${memory_thing.zeta.id}
          memory_thing.alpha: {name: alpha}
    """)
    assert [str(a) for a in graph.order()] == ["memory_thing.alpha", "memory_thing.zeta", "memory_thing.beta"]


def test_two_object_cycle_is_reported_with_its_path_and_location(graph_of, tmp_path):
    """Two objects referencing each other are a CycleError printing a -> b -> a at the first block's file:line:col."""
    with pytest.raises(CycleError) as error:
        graph_of("""
            resources:
              memory_thing.a:
                name: a
                parent: ${memory_thing.b.id}
              memory_thing.b:
                name: b
                parent: ${memory_thing.a.id}
        """)
    assert (
        str(error.value)
        == f"{tmp_path / 'main.yaml'}:2:3: dependency cycle: memory_thing.a -> memory_thing.b -> memory_thing.a"
    )
    assert (error.value.location.line, error.value.location.column) == (2, 3)


def test_three_object_cycle_through_depends_on_is_reported_in_full(graph_of, tmp_path):
    """A cycle mixing references and depends_on lists every address on it, back to the start."""
    with pytest.raises(CycleError) as error:
        graph_of("""
            resources:
              memory_thing.a:
                name: a
                parent: ${memory_thing.c.id}
              memory_thing.b:
                name: b
                depends_on: [memory_thing.a]
              memory_thing.c:
                name: c
                parent: ${memory_thing.b.id}
        """)
    assert str(error.value).endswith(
        "dependency cycle: memory_thing.a -> memory_thing.b -> memory_thing.c -> memory_thing.a"
    )
    assert str(error.value).startswith(f"{tmp_path / 'main.yaml'}:2:3: ")


def test_object_referencing_itself_is_a_cycle(graph_of):
    """A block that references its own attribute is a one-node cycle."""
    with pytest.raises(CycleError, match=r"main\.yaml:2:3: dependency cycle: memory_thing\.me -> memory_thing\.me$"):
        graph_of("""
            resources:
              memory_thing.me:
                name: me
                parent: ${memory_thing.me.id}
        """)


def test_validate_reports_a_cycle_before_any_cloud_call(lab):
    """runner.validate builds the graph, so a cycle fails validation and the cloud is never called."""
    lab.write("""
        resources:
          memory_thing.a: {name: a, parent: "${memory_thing.b.id}"}
          memory_thing.b: {name: b, parent: "${memory_thing.a.id}"}
    """)
    with pytest.raises(CycleError, match="dependency cycle: memory_thing.a -> memory_thing.b -> memory_thing.a"):
        runner.validate(lab.workspace())
    with pytest.raises(CycleError):
        lab.plan()
    assert lab.store.calls == []


def test_graph_prints_as_dot_with_shapes_and_edges(graph_of):
    """to_dot gives boxes for resources, notes for data sources, and one line per edge."""
    graph = graph_of("""
        resources:
          memory_thing.web: {name: web}
          memory_thing.sized:
            name: sized
            size: ${data.memory_lookup.size.value}
        data:
          memory_lookup.size: {name: "${memory_thing.web.id}"}
    """)
    assert graph.to_dot() == (
        "digraph labform {\n"
        "  rankdir = LR;\n"
        '  "memory_thing.web" [shape=box];\n'
        '  "data.memory_lookup.size" [shape=note];\n'
        '  "memory_thing.sized" [shape=box];\n'
        '  "data.memory_lookup.size" -> "memory_thing.sized";\n'
        '  "memory_thing.web" -> "data.memory_lookup.size";\n'
        "}\n"
    )
