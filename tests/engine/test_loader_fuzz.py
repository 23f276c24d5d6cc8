"""Broken plans, generated: every one ends in exit 1 with file:line, in bounded time, with no traceback.

Each property writes a plan that is wrong in one known way to main.yaml and runs
``labform validate`` on it in-process. The plans configure no provider, so
nothing can reach a cloud; tests/functional/test_load_errors.py checks plan and
apply against the emulator's request log. Hypothesis keeps no example database
(the checkout is shared) and sets no per-example deadline: CI runs tests on
several workers of a 2-core machine, and speed is measured in bench/, not
asserted here. The loader's caps are what bound each plan's time and memory.
"""

from __future__ import annotations

import json
import re
import string
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from labform.engine.loader import MAX_NESTING, MAX_PLAN_FILE_BYTES, MAX_PLAN_VALUES
from labform.engine.references import parse_reference
from labform.providers import registry
from tests.conftest import BITBAR_PROVIDER, CliResult, Workdir

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
LOCATION = re.compile(r"main\.yaml:(\d+):(\d+): ")

PROJECT = {"name": '"Checkout"', "type": "ANDROID"}
PARAMETER = {"project": "${bitbar_project.checkout.id}", "key": "k", "value": "v"}
GROUP = {"name": '"Smoke"', "os_type": "ANDROID", "devices": "[337, 304]"}
PROJECT_TYPE = registry.resource_types()["bitbar_project"]
PROJECT_ATTRIBUTES = {*PROJECT_TYPE.Args.model_fields, *PROJECT_TYPE.computed}


class PlanFile:
    """main.yaml in a folder of its own; ``validate`` rewrites it and runs the CLI on it."""

    def __init__(self, folder: Path):
        self.path = folder / "main.yaml"
        self.workdir = Workdir(folder)

    def validate(self, content: str | bytes) -> CliResult:
        self.path.write_bytes(content.encode() if isinstance(content, str) else content)
        return self.workdir.run("validate", str(self.path))


@pytest.fixture(scope="module")
def plan(tmp_path_factory) -> PlanFile:
    """Module-scoped, as hypothesis reruns a test body many times within one fixture."""
    return PlanFile(tmp_path_factory.mktemp("fuzz"))


def refused(result: CliResult, line: int | None = None) -> str:
    """The run failed the expected way (exit 1, file:line, no traceback); its message."""
    assert result.exit_code == 1, result.output
    assert result.exception is None, result.exception
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    where = LOCATION.search(result.stderr)
    assert where, result.stderr
    if line is not None:
        assert int(where.group(1)) == line, result.stderr
    return result.stderr


def resources(*blocks: tuple[str, dict[str, str]]) -> list[str]:
    """Plan lines, line 1 first: ``resources:`` then each (address, {field: YAML text})."""
    lines = ["resources:"]
    for address, fields in blocks:
        lines.append(f"  {address}:")
        lines.extend(f"    {name}: {value}" for name, value in fields.items())
    return lines


def text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def yaml_value(value) -> str:
    """A Python value as YAML flow text (JSON is YAML)."""
    return json.dumps(value)


words = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=10)
letters = st.text(alphabet=string.ascii_letters, min_size=1, max_size=10)
fractions = st.integers(-1000, 1000).map(lambda i: i + 0.5)
containers = st.one_of(
    st.lists(st.integers(), min_size=1, max_size=3), st.dictionaries(words, st.integers(), min_size=1, max_size=2)
)

# (address, valid fields, field to break, values pydantic refuses for it even in lax mode)
WRONG_TYPES = [
    (
        "bitbar_project.checkout",
        PROJECT,
        "name",
        st.one_of(st.integers(), fractions, st.booleans(), st.none(), st.just(""), containers),
    ),
    (
        "bitbar_project.checkout",
        PROJECT,
        "type",
        st.one_of(
            letters.filter(lambda t: t not in {"ANDROID", "CTS", "IOS", "UIAUTOMATOR"}), st.integers(), containers
        ),
    ),
    (
        "bitbar_project.checkout",
        PROJECT,
        "common",
        st.one_of(
            st.integers(2, 10**6),
            letters.filter(lambda t: t.lower() not in {"y", "n", "yes", "no", "on", "off", "t", "f", "true", "false"}),
            containers,
        ),
    ),
    (
        "bitbar_device_group.smoke",
        GROUP,
        "os_type",
        st.one_of(letters.filter(lambda t: t not in {"ANDROID", "IOS"}), st.integers(), containers),
    ),
    (
        "bitbar_device_group.smoke",
        GROUP,
        "devices",
        st.one_of(
            letters,
            st.integers(),
            st.lists(letters, min_size=1, max_size=3),
            st.lists(fractions, min_size=1, max_size=3),
        ),
    ),
    (
        "bitbar_config_parameter.p",
        PARAMETER,
        "project",
        st.one_of(letters, fractions, containers, words.map(lambda w: f"$${{{w}}}")),
    ),
]


@FUZZ
@given(case=st.sampled_from(WRONG_TYPES).flatmap(lambda case: st.tuples(st.just(case), case[3])))
def test_a_wrong_value_type_is_refused_at_its_field(plan, case):
    (address, fields, field, _), value = case
    lines = resources((address, {**fields, field: yaml_value(value)}))
    refused(plan.validate(text(lines)), line=lines.index(f"    {field}: {yaml_value(value)}") + 1)


@FUZZ
@given(name=st.from_regex(r"[a-z][a-z_]{0,15}", fullmatch=True), at=st.integers(0, 2))
def test_an_unknown_field_is_refused_at_its_line(plan, name, at):
    assume(name not in {*PROJECT_ATTRIBUTES, "depends_on", "lifecycle", "true", "false", "null"})
    fields = list(PROJECT.items())
    fields.insert(at, (name, "x"))
    lines = resources(("bitbar_project.checkout", dict(fields)))
    assert f"unknown field '{name}'" in refused(plan.validate(text(lines)), line=lines.index(f"    {name}: x") + 1)


def _unparseable(body: str) -> bool:
    try:
        parse_reference(body)
    except ValueError:
        return True
    return False


bad_references = st.one_of(
    words.filter(lambda w: w != "checkout").map(lambda w: f"${{bitbar_project.{w}.id}}"),
    words.filter(lambda w: w not in PROJECT_ATTRIBUTES).map(lambda w: f"${{bitbar_project.checkout.{w}}}"),
    words.map(lambda w: f"${{var.{w}}}"),
    words.map(lambda w: f"${{env.LABFORM_FUZZ_UNSET_{w}}}"),
    st.text(alphabet=string.printable.replace("}", ""), max_size=20).filter(_unparseable).map(lambda t: f"${{{t}}}"),
)


@FUZZ
@given(reference=bad_references, field=st.sampled_from(["project", "value"]))
def test_a_bad_reference_is_refused_at_its_field(plan, reference, field):
    lines = resources(
        ("bitbar_project.checkout", PROJECT), ("bitbar_config_parameter.p", {**PARAMETER, field: yaml_value(reference)})
    )
    refused(plan.validate(text(lines)), line=lines.index(f"    {field}: {yaml_value(reference)}") + 1)


@st.composite
def cycles(draw) -> list[tuple[str, dict[str, str]]]:
    """Projects p0..pN-1 where some of them depend on each other in a ring (by depends_on or a reference)."""
    count = draw(st.integers(2, 6))
    ring = draw(st.permutations(range(count)))[: draw(st.integers(2, count))]
    blocks = {f"p{i}": dict(PROJECT) for i in range(count)}
    for here, there in zip(ring, [*ring[1:], ring[0]], strict=False):
        if draw(st.booleans()):
            blocks[f"p{here}"]["depends_on"] = f"[bitbar_project.p{there}]"
        else:
            blocks[f"p{here}"]["description"] = f'"needs ${{bitbar_project.p{there}.id}}"'
    return [(f"bitbar_project.{name}", fields) for name, fields in blocks.items()]


@FUZZ
@given(blocks=cycles())
def test_a_dependency_cycle_is_refused_with_a_location(plan, blocks):
    assert "dependency cycle: " in refused(plan.validate(text(resources(*blocks))))


def _printable(chunk: str) -> bool:
    """YAML's c-printable: no C0/C1 controls but tab and line breaks, no U+FFFE/U+FFFF."""
    return not any(c in "\ufffe\uffff" or (unicodedata.category(c) == "Cc" and c not in "\t\n\r\x85") for c in chunk)


def _readable(raw: bytes) -> bool:
    """Text YAML would accept: UTF-8 (or UTF-16 by its byte order mark) and printable."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    try:
        return _printable(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return False


one_line_bytes = st.binary(min_size=1, max_size=12).filter(
    lambda b: not re.search(rb"[\r\n]|\xc2\x85|\xe2\x80[\xa8\xa9]", b)
)
latin1_words = st.text(alphabet=st.characters(min_codepoint=0xA0, max_codepoint=0xFF), min_size=1, max_size=8)


@FUZZ
@given(chunk=st.one_of(one_line_bytes, latin1_words.map(lambda w: w.encode("latin-1"))))
def test_bytes_that_are_not_utf8_text_are_refused_at_their_line(plan, chunk):
    """Random bytes or Latin-1 text in a value: the error names the line the bytes are on."""
    raw = (
        text(resources(("bitbar_project.checkout", {"name": '"Check@"', "type": "ANDROID"})))
        .encode()
        .replace(b"@", chunk)
    )
    assume(not _readable(raw))
    refused(plan.validate(raw), line=3)


@FUZZ
@given(raw=st.binary(min_size=1, max_size=200))
def test_a_file_of_random_bytes_is_refused_with_a_location(plan, raw):
    assume(not _readable(raw))
    refused(plan.validate(raw))


def alias_bomb(depth: int, width: int, style: str) -> str:
    """The billion laughs: each level repeats the one before ``width`` times, in ``depth`` lines."""
    lines = ["variables:", "  l0: &l0 lol"]
    for level in range(1, depth + 1):
        aliases = [f"*l{level - 1}"] * width
        if style == "list":
            body = "[" + ", ".join(aliases) + "]"
        elif style == "mapping":
            body = "{" + ", ".join(f"k{i}: {alias}" for i, alias in enumerate(aliases)) + "}"
        else:  # merge keys
            body = "{<<: [" + ", ".join(f"{{k{i}: {alias}}}" for i, alias in enumerate(aliases)) + "]}"
        lines.append(f"  l{level}: &l{level} {body}")
    return text(lines)


bomb_shapes = st.tuples(st.integers(2, 12), st.integers(2, 12), st.sampled_from(["list", "mapping", "merge"]))


@FUZZ
@given(shape=bomb_shapes.filter(lambda s: s[1] ** s[0] > MAX_PLAN_VALUES))
def test_an_alias_bomb_is_refused_at_an_alias(plan, shape):
    depth, width, style = shape
    message = refused(plan.validate(alias_bomb(depth, width, style)))
    assert f"more than {MAX_PLAN_VALUES:,} values" in message
    assert 3 <= int(LOCATION.search(message).group(1)) <= depth + 2


@FUZZ
@given(shape=bomb_shapes.filter(lambda s: s[1] ** s[0] < MAX_PLAN_VALUES // 50))
def test_aliases_within_the_bound_still_load(plan, shape):
    result = plan.validate(alias_bomb(*shape))
    assert result.exit_code == 0, result.output


def nested(depth: int, style: str) -> str:
    """A value ``depth`` levels deep under ``variables: {v: ...}``, written in one of YAML's ways."""
    inner = depth - 2
    if style == "flow list":
        return "variables:\n  v: " + "[" * inner + "]" * inner + "\n"
    if style == "flow mapping":
        return "variables:\n  v: " + "{a: " * (inner - 1) + "1" + "}" * (inner - 1) + "\n"
    if style == "block":
        return "variables:\n  v:\n" + "".join("  " * (i + 2) + "- \n" for i in range(inner - 1))
    # an alias chain: each anchor holds a list of the one before, so depth grows by aliases alone
    return "variables:\n  a0: &a0 1\n" + "".join(f"  a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, inner))


nesting_styles = st.sampled_from(["flow list", "flow mapping", "block", "alias chain"])


@FUZZ
@given(depth=st.integers(MAX_NESTING + 1, 400), style=nesting_styles)
def test_nesting_past_the_bound_is_refused(plan, depth, style):
    assert f"more than {MAX_NESTING} levels deep" in refused(plan.validate(nested(depth, style)))


@FUZZ
@given(depth=st.integers(3, MAX_NESTING), style=nesting_styles)
def test_nesting_within_the_bound_still_loads(plan, depth, style):
    result = plan.validate(nested(depth, style))
    assert result.exit_code == 0, result.output


# --- the same, one example each -------------------------------------------------
def test_a_depth_nine_alias_bomb_is_refused(plan):
    """Before the bound it ran out of memory (depth 6: 7 s and 420 MB; depth 9 never ended)."""
    message = refused(plan.validate(alias_bomb(9, 10, "list")), line=7)
    assert "through alias '*l4', the file holds more than 100,000 values" in message


def test_a_latin1_file_names_file_line_and_column(plan):
    message = refused(plan.validate("resources:\n  bitbar_project.a:\n    name: café\n".encode("latin-1")))
    assert "main.yaml:3:14: the file is not UTF-8 text: byte 0xe9 cannot be decoded" in message


def test_a_nul_byte_names_its_line(plan):
    message = refused(plan.validate(b"resources:\n  bitbar_project.a:\n    name: a\x00b\n"))
    assert "main.yaml:3:12: character U+0000 is not allowed in YAML" in message


def test_a_byte_order_mark_is_read_at_the_start_only(plan):
    body = text(resources(("bitbar_project.checkout", PROJECT)))
    assert plan.validate(b"\xef\xbb\xbf" + body.encode()).exit_code == 0
    assert plan.validate(body.encode("utf-16")).exit_code == 0
    message = refused(plan.validate(body.replace('"Checkout"', '"\ufeffCheckout"').encode()), line=3)
    assert "byte order mark (U+FEFF) inside the file" in message


def test_a_file_over_the_size_cap_is_refused_naming_it(plan):
    result = plan.validate(b"# padding\n" * (MAX_PLAN_FILE_BYTES // 10 + 1))
    assert result.exit_code == 1 and result.exception is None
    assert (
        f"main.yaml: the plan file is {MAX_PLAN_FILE_BYTES + 10:,} bytes, over the limit of {MAX_PLAN_FILE_BYTES:,} bytes (10 MiB)"
        in result.stderr
    )


def test_an_escaped_reference_in_an_integer_field_is_refused_at_validate(plan):
    lines = resources(("bitbar_config_parameter.p", {**PARAMETER, "project": "$${x}"}))
    message = refused(plan.validate(text(lines)), line=3)
    assert "main.yaml:3:5: bitbar_config_parameter.p: project: must be a valid integer" in message


def test_an_escaped_reference_in_a_string_field_is_sent_literally(bitbar, workdir, monkeypatch):
    """``$${x}`` is checked as the text ``${x}``, which a string field takes and the plan shows as is."""
    monkeypatch.chdir(workdir.path)
    workdir.write(
        BITBAR_PROVIDER
        + text(
            resources(
                ("bitbar_project.checkout", PROJECT), ("bitbar_config_parameter.p", {**PARAMETER, "value": '"$${x}"'})
            )
        )
    )
    result = workdir.plan()
    assert result.exit_code == 0, result.output
    assert '"${x}"' in result.stdout and "$${" not in result.stdout


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_reference_known_at_plan_time_is_checked_once_substituted(command, bitbar, workdir, monkeypatch):
    """validate cannot see the value; plan substitutes the project's name into an id field and refuses it."""
    monkeypatch.chdir(workdir.path)
    lines = BITBAR_PROVIDER.splitlines() + resources(
        ("bitbar_project.checkout", PROJECT),
        ("bitbar_config_parameter.p", {**PARAMETER, "project": "${bitbar_project.checkout.name}"}),
    )
    workdir.write(text(lines))
    assert workdir.run("validate", ".").exit_code == 0
    message = refused(
        workdir.run(command, ".", *(["--auto-approve"] if command == "apply" else [])),
        line=lines.index("    project: ${bitbar_project.checkout.name}") + 1,
    )
    assert "bitbar_config_parameter.p: project: must be a valid integer" in message
    assert [r for r in bitbar.app.log.all() if r.method != "GET"] == []
