"""CEL inside ${...}: typing, desugaring, functions, UNKNOWN, errors with their column, caching,
and a plan that uses expressions from load to apply."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap

import pytest

from labform.engine.addresses import Address
from labform.engine.errors import ConfigError
from labform.engine.expressions import library
from labform.engine.expressions.desugar import desugar
from labform.engine.expressions.template import parse_template
from labform.engine.references import UNKNOWN, ExpressionError, Reference, references_in, substitute
from labform.engine.render import plan_to_dict
from labform.providers.errors import LabformError


def value(text, base=None, **known):
    """``text`` evaluated with ``var.NAME`` (and any other reference by its name) from ``known``."""
    return substitute(text, lambda ref: known[ref.name or ref.text], base=base)


def refused(text, **known) -> ExpressionError:
    with pytest.raises(ExpressionError) as error:
        value(text, **known)
    return error.value


# --- the typing rule ----------------------------------------------------------------------
def test_a_whole_expression_keeps_its_type_and_text_around_it_interpolates():
    """One ${...} alone gives a list, a map, a number, a bool as they are; text around makes a string."""
    assert value("${[var.a, 2]}", a=1) == [1, 2]
    assert value('${{"k": var.a, "j": [true]}}', a="x") == {"j": [True], "k": "x"}
    assert value("${var.a * 2}", a=21) == 42
    assert value("${var.a > 1}", a=2) is True
    assert value("n=${var.a * 2}, m=${var.a}", a=3) == "n=6, m=3"


def test_ints_and_doubles_compare_as_numbers_but_do_not_mix_in_arithmetic():
    """YAML's 1.0 equals 1 (==, <, in); adding them is refused with the library's advice."""
    assert value("${var.n == 1}", n=1.0) is True
    assert value("${var.n < 2 && var.n >= 1}", n=1.0) is True
    assert value("${1 in var.l}", l=[1.0, 2.5]) is True
    assert value("${var.n + 1.0}", n=1.0) == 2.0 and value("${int(var.n) + 1}", n=1.0) == 2
    assert "double(x)" in refused("${var.n + 1}", n=1.0).reason


def test_conditions_strings_lists_and_maps_are_built():
    assert value('${var.env == "prod" ? 5 : 1}', env="prod") == 5
    assert value('${var.env == "prod" ? 5 : 1}', env="dev") == 1
    assert value('${"app-" + var.env + "-" + string(var.n)}', env="dev", n=3) == "app-dev-3"
    assert value("${var.l.map(x, x * 2).filter(y, y > 2)}", l=[1, 2, 3]) == [4, 6]
    assert value('${{"a": 1, "b": 2}}') == {"a": 1, "b": 2}


def test_braces_and_quotes_inside_string_literals_do_not_end_the_expression():
    """A ${...} ends at its own closing brace: CEL's strings (raw, triple-quoted) and maps are skipped."""
    assert value(r'${r"a\" + "}"}') == "a\\}"
    assert value("${'''x}'''}-${var.a}", a=1) == "x}-1"
    assert value('${{"k}": "{"}}') == {"k}": "{"}


def test_a_map_comes_out_ordered_by_key():
    """The library's maps have no order of their own: the value is sorted, so every run prints the same."""
    assert list(value('${{"e": 1, "a": 2, "c": 3, "b": 4, "d": 5}}')) == ["a", "b", "c", "d", "e"]


# --- desugaring: references for the graph, CEL for the library --------------------------------
def test_every_kind_of_reference_is_reported_with_its_object_key_and_path():
    text = (
        '${bitbar_project.app["checkout"].id} ${bitbar_run.smoke[0].id} ${bitbar_project.app[*].id} '
        "${module.net.vpc_id} ${local.region} ${each.key} ${each.value.name} ${count.index} "
        "${data.bitbar_devices.sony.devices.0} ${var.x} ${env.HOME}"
    )
    refs = list(references_in(text))
    app = Address("bitbar_project", "app")
    assert refs[0] == Reference(
        "resource", 'bitbar_project.app["checkout"].id', address=app, attribute=("id",), key="checkout"
    )
    assert (refs[1].address, refs[1].key, refs[1].attribute) == (Address("bitbar_run", "smoke"), 0, ("id",))
    assert (refs[2].address, refs[2].splat, refs[2].attribute) == (app, True, ("id",))
    assert (refs[3].kind, refs[3].name, refs[3].attribute) == ("module", "net", ("vpc_id",))
    assert [(r.kind, r.name) for r in refs[4:8]] == [
        ("local", "region"),
        ("each", "key"),
        ("each", "value"),
        ("count", "index"),
    ]
    assert (refs[8].kind, refs[8].address, refs[8].attribute) == (
        "data",
        Address("bitbar_devices", "sony", True),
        ("devices", "0"),
    )
    assert [(r.kind, r.name) for r in refs[9:]] == [("var", "x"), ("env", "HOME")]


def test_references_become_variables_cel_accepts():
    """var (reserved in CEL), hyphenated names and .0 steps are bound, not handed to CEL; a splat maps."""
    parsed = desugar('var.env == "prod" ? bitbar_project.my-app.devices.0 : bitbar_project.app[*].id')
    assert parsed.source == '_r0 == "prod" ? _r1 : _r2.map(_s2, _s2.id)'
    assert [b.reference.text for b in parsed.bindings] == [
        "var.env",
        "bitbar_project.my-app.devices.0",
        "bitbar_project.app[*]",
    ]
    assert desugar("var.n - 1").source == "_r0 - 1"
    assert desugar("size(var.l) + [1].size()").source == "size(_r0) + [1].size()"


def test_a_splat_is_the_list_of_every_instances_attribute():
    """The lookup gives every instance of TYPE.NAME[*]; the expression picks the attribute from each."""
    instances = [{"id": "p1", "name": "a"}, {"id": "p2", "name": "b"}]
    assert substitute("${bitbar_project.app[*].id}", lambda ref: instances) == ["p1", "p2"]
    assert substitute("${size(bitbar_project.app[*].id)}", lambda ref: instances) == 2


def test_the_existing_forms_evaluate_without_the_library():
    """A plan of plain references never loads CEL (nor the package's shell: typer, rich)."""
    script = textwrap.dedent(
        """
        import sys
        from labform.engine.references import substitute
        values = {"var.n": 1.0, "env.X:-d": "d", "bitbar_project.p.id": 7}
        assert substitute("${var.n}", lambda r: values[r.text]) == 1.0
        assert substitute("a-${env.X:-d}-${bitbar_project.p.id}", lambda r: values[r.text]) == "a-d-7"
        print("cel.cel" in sys.modules)
        assert substitute("${var.n * 2.0}", lambda r: values[r.text]) == 2.0
        print("cel.cel" in sys.modules, [m for m in ("cel", "typer", "rich", "prompt_toolkit") if m in sys.modules])
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["False", "True []"]


# --- UNKNOWN --------------------------------------------------------------------------------
def test_any_unknown_input_makes_the_value_unknown():
    assert substitute("${bitbar_project.p.id + '-x'}", lambda ref: UNKNOWN) is UNKNOWN
    assert substitute("id-${bitbar_project.p.id}", lambda ref: UNKNOWN) is UNKNOWN
    assert substitute("${size(bitbar_project.p.ids)}", lambda ref: ["a", UNKNOWN]) is UNKNOWN
    assert substitute("${bitbar_project.app[*].id}", lambda ref: [{"id": 1}, {"id": UNKNOWN}]) is UNKNOWN
    assert substitute({"a": ["${true || bitbar_project.p.ok}"]}, lambda ref: UNKNOWN) == {"a": [UNKNOWN]}


# --- load-time and plan-time passes ----------------------------------------------------------
def test_loading_writes_known_values_in_and_leaves_objects_for_the_planner():
    """kinds={env, var}: an expression reading an object too keeps its ${...}, var's value written in."""
    known = {"env": "prod", "names": ["a", "b"], "n": -2}
    loaded = substitute(
        {
            "size": '${var.env == "prod" ? 5 : 1}',
            "name": '${var.env == "prod" ? bitbar_project.p.name : var.names[0]}',
            "note": "n=${var.n} of $${raw} ${bitbar_project.p.id + string(var.n)}",
        },
        lambda ref: known[ref.name],
        kinds=frozenset({"env", "var"}),
    )
    assert loaded == {
        "size": 5,
        "name": '${"prod" == "prod" ? bitbar_project.p.name : ["a", "b"][0]}',
        "note": "n=-2 of $${raw} ${bitbar_project.p.id + string((-2))}",
    }
    planned = substitute(loaded, lambda ref: {"name": "P", "id": "7"}[ref.attribute[0]])
    assert planned == {"size": 5, "name": "P", "note": "n=-2 of ${raw} 7-2"}


def test_a_reference_the_lookup_declines_leaves_its_expression_as_written():
    """Loading reports an unknown variable once and gives the reference back: no second error on top."""
    assert substitute("${var.nope + 1}", lambda ref: "${" + ref.text + "}") == "${var.nope + 1}"


# --- functions (Terraform's meaning) -----------------------------------------------------------
def test_file_reads_text_from_the_callers_base_folder(tmp_path, monkeypatch):
    (tmp_path / "hello.txt").write_text("héllo\n", encoding="utf-8")
    assert value('${file("hello.txt")}', base=tmp_path) == "héllo\n"
    assert value(f'${{file("{tmp_path / "hello.txt"}")}}', base=tmp_path / "elsewhere") == "héllo\n"
    monkeypatch.chdir(tmp_path)
    assert value('${file("hello.txt")}') == "héllo\n"
    (tmp_path / "blob.bin").write_bytes(b"\xff\xfe\x00")
    assert refused('${file("blob.bin")}').reason == "file: 'blob.bin' is not UTF-8 text"
    assert refused('${file("gone.txt")}').reason == "file: cannot read 'gone.txt': No such file or directory"


def test_sha256_hashes_the_texts_utf8_bytes():
    assert value('${sha256("héllo")}') == hashlib.sha256("héllo".encode()).hexdigest()
    assert refused("${sha256(1)}").reason == "sha256: its argument must be a string, not an int"


def test_merge_lets_a_later_map_win_and_skips_null():
    assert value('${merge({"a": 1, "b": 1}, null, {"b": 2, "c": 3})}') == {"a": 1, "b": 2, "c": 3}
    assert value("${merge()}") == {}
    assert refused('${merge({"a": 1}, [1])}').reason == "merge: argument 2 must be a map, not a list"


def test_keys_and_values_follow_the_sorted_keys():
    assert value('${keys({"b": 1, "a": 2, "c": 3})}') == ["a", "b", "c"]
    assert value('${values({"b": 1, "a": 2, "c": 3})}') == [2, 1, 3]
    assert refused("${keys([1])}").reason == "keys: its argument must be a map, not a list"
    assert refused("${values({}, {})}").reason == "values takes 1 argument, not 2"


def test_format_writes_terraforms_verbs():
    assert value('${format("Hello, %s!", "Ander")}') == "Hello, Ander!"
    assert value('${format("%03d|%-4s|%.2f|%x|%t|%q", 7, "ab", 3.14159, 255, true, "a\\"b")}') == (
        '007|ab  |3.14|ff|true|"a\\"b"'
    )
    assert value('${format("%v %v %v %#v", 1.0, "x", null, {"a": [1]})}') == '1 x null {"a":[1]}'
    assert value('${format("%[2]s-%[1]s %%", "a", "b")}') == "b-a %"
    assert refused('${format("%d %d", 1)}').reason == "format: no value for the verb %d at 4 (1 given)"
    assert refused('${format("%d", 1, 2)}').reason == "format: 2 values given but the specification uses 1"
    assert refused('${format("%d", 1.5)}').reason == "format: %d needs a whole number, not 1.5"


def test_flatten_makes_nested_lists_one():
    assert value('${flatten([["a", "b"], [], ["c", [["d"]]]])}') == ["a", "b", "c", "d"]
    assert refused('${flatten("a")}').reason == "flatten: its argument must be a list, not a string"


def test_setproduct_gives_every_combination_in_order():
    assert value('${setproduct(["dev", "prod"], ["a1", "a2"])}') == [
        ["dev", "a1"],
        ["dev", "a2"],
        ["prod", "a1"],
        ["prod", "a2"],
    ]
    assert value('${setproduct(["dev"], [])}') == []
    assert refused('${setproduct(["dev"])}').reason == "setproduct: at least two lists are needed"


def test_zipmap_pairs_keys_with_values():
    assert value('${zipmap(["a", "b"], [1, [2]])}') == {"a": 1, "b": [2]}
    assert refused('${zipmap(["a"], [1, 2])}').reason == "zipmap: 1 keys but 2 values"
    assert refused("${zipmap([1], [1])}").reason == "zipmap: every key must be a string, not an int"


# --- errors -------------------------------------------------------------------------------
def test_an_error_is_one_type_with_the_column_in_its_string():
    """Column of the failing token when parsing, of the expression's start when evaluating; the library's words."""
    error = refused("abc ${1 + }")
    assert isinstance(error, ConfigError) and isinstance(error, LabformError) and isinstance(error, ValueError)
    assert (error.verdict, error.column) == ("cannot parse expression", 11)
    assert error.reason.startswith("Syntax error: mismatched input")
    named = refused("ab ${var.x + nonsense}", x=1)
    assert (named.column, named.reason.split(" (")[0]) == (14, "'nonsense' names nothing")
    evaluated = refused("ab ${var.x} ${1 / var.x}", x=0)
    assert (evaluated.verdict, evaluated.column, evaluated.reason) == (
        "cannot evaluate",
        15,
        "division by zero in CEL expression",
    )
    assert str(evaluated) == "cannot evaluate '${1 / var.x}' at column 15: division by zero in CEL expression"
    assert refused('${{"a": 1}["b"]}').reason == "no key 'b'"


def test_an_error_inside_a_value_names_the_keys_down_to_its_string():
    with pytest.raises(ExpressionError) as error:
        substitute({"a": [1, {"b": "${1 / 0}"}]}, lambda ref: None)
    assert error.value.path == ("a", 1, "b")


def test_malformed_references_say_what_was_expected():
    assert "names an attribute" in refused("${bitbar_project.app}").reason
    assert "is not one of each.key or each.value" in refused("${each.other}").reason
    assert "instance key" in refused("${bitbar_project.app[var.k].id}").reason
    assert refused('${"open}').verdict == "cannot parse reference"


# --- caching -----------------------------------------------------------------------------------
def test_a_source_text_is_parsed_and_compiled_once():
    text = "${var.cached_once * 3}"
    assert value(text, cached_once=2) == 6
    compiled, parsed = library.compiled.cache_info(), parse_template.cache_info()
    assert value(text, cached_once=5) == 15
    assert library.compiled.cache_info().hits == compiled.hits + 1
    assert library.compiled.cache_info().misses == compiled.misses
    assert parse_template.cache_info().hits == parsed.hits + 1
    assert library.compiled("_r0 * 3") is library.compiled("_r0 * 3")


# --- a plan using expressions, load to apply ---------------------------------------------------
def test_a_plan_with_expressions_applies_and_orders_by_the_references_inside_them(lab):
    lab.write("""
        variables:
          env: prod
          sizes: {prod: 5, dev: 1}
        resources:
          memory_thing.b:
            name: '${var.env == "prod" ? "b-of-" + memory_thing.a.name : "b"}'
            size: ${var.sizes[var.env]}
            tags: '${[var.env, format("n%d", var.sizes.dev)]}'
            parent: ${memory_thing.a.id}
          memory_thing.a:
            name: a
            size: '${var.env == "prod" ? 5 : 1}'
        outputs:
          summary: '${memory_thing.b.name + "/" + string(memory_thing.b.size)}'
    """)
    outcome = lab.apply_ok()
    b = lab.store.named("b-of-a")
    assert (b["size"], sorted(b["tags"]), b["parent"]) == (5, ["n1", "prod"], lab.store.named("a")["id"])
    assert lab.store.named("a")["size"] == 5
    assert outcome.outputs["summary"]["value"] == "b-of-a/5"
    assert [c for c in lab.plan().plan.changes if c.action.value != "no-op"] == []


def test_an_expression_that_fails_at_plan_is_an_error_at_its_field(lab):
    path = lab.write("""
        resources:
          memory_thing.a:
            name: a
          memory_thing.b:
            name: b
            size: ${memory_thing.a.name + 1}
    """)
    with pytest.raises(ConfigError) as error:
        lab.plan()
    assert str(error.value).startswith(f"{path}:10:5: memory_thing.b: cannot evaluate '${{memory_thing.a.name + 1}}'")


def test_a_bad_expression_is_refused_at_load_at_its_field(lab):
    path = lab.write("""
        resources:
          memory_thing.a:
            name: a
            note: 'x ${1 +* 2}'
            kind: ${var.kind + 1}
        variables:
          kind: plain
    """)
    with pytest.raises(LabformError) as error:
        lab.plan()
    lines = str(error.value).splitlines()
    assert lines[0].startswith(f"{path}:8:5: memory_thing.a: cannot parse expression '${{1 +* 2}}' at column 8: ")
    assert lines[1].startswith(f"{path}:9:5: memory_thing.a: cannot evaluate '${{var.kind + 1}}' at column 3: ")


def test_the_plan_json_lists_the_objects_an_expression_reads(lab):
    lab.write("""
        variables: {env: prod}
        resources:
          memory_thing.a: {name: a}
          memory_thing.b:
            name: '${var.env == "prod" ? memory_thing.a.name : "b"}'
    """)
    planned = lab.plan()
    document = plan_to_dict(planned.plan, config=planned.config)
    expressions = document["configuration"]["root_module"]["resources"][1]["expressions"]
    assert expressions["name"] == {"references": ["memory_thing.a.name", "memory_thing.a"]}
