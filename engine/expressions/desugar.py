"""One ``${...}`` body → the references it reads and the CEL text the library compiles.

The body is labform's syntax, which CEL cannot read as is: ``var`` is a CEL
reserved word, ``-`` in ``bitbar_project.my-app`` would be a subtraction,
``devices.0`` is not CEL, ``TYPE.NAME[*].attr`` is a splat. So each reference
is found here, reported (the dependency graph needs every one), and replaced by
a variable of its own (``_r0``, ``_r1``, ...) that evaluation binds to the
looked-up value; a splat becomes ``_rN.map(_sN, _sN.attr)``. What is left is
plain CEL: operators, literals, calls, macros.

    env.NAME  env.NAME:-default (the whole body)   var.NAME   local.NAME
    each.key  each.value   count.index   path.module   path.root
    module.NAME.OUTPUT[.path]   module.NAME["key"].OUTPUT
    TYPE.NAME[.attr...]    TYPE.NAME["key"].attr   TYPE.NAME[0].attr   TYPE.NAME[*].attr
    data.TYPE.NAME.attr...

Names of objects, locals and modules may hold ``-`` (write ``a - 1`` with
spaces to subtract); a path step may be a list index (``devices.0``). After
``var.NAME``, ``local.NAME`` or ``each.value`` a ``.field`` or ``[i]`` is CEL's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property

from labform.engine.addresses import Address
from labform.engine.expressions.errors import ExpressionError
from labform.engine.expressions.lexing import QUOTES, string_end
from labform.engine.expressions.values import KINDS, Reference

_ENV = re.compile(r"^env\.([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.S)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*|[0-9]+)(?![A-Za-z0-9_])")
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+[uU]?|[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?[uU]?")
_KEY = re.compile(r"\[\s*(?:(\*)|\"([^\"\\\n]*)\"|'([^'\\\n]*)'|([0-9]+))\s*\]")
_CALL = re.compile(r"\s*\(")
_TOKEN = re.compile(r"[\"'A-Za-z_0-9]")
_BINDER = re.compile(r"\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,")
# Names CEL itself gives meaning to, never references.
_CEL_NAMES = frozenset(
    {"true", "false", "null", "in", "int", "uint", "double", "bool", "string", "bytes", "list", "map", "type"}
    | {"null_type", "dyn"}
)
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
EXPECTED = "expected " + ", ".join(KINDS.values())


@dataclass(frozen=True)
class Binding:
    """One looked-up value: the reference asked for, where it is written, the CEL after its variable."""

    reference: Reference
    span: tuple[int, int]
    suffix: str = ""


@dataclass(frozen=True)
class Parsed:
    """A body taken apart. ``simple``: the body is one reference, its value used as is (no CEL).
    ``segments`` map offsets of ``source`` back to the body: (source start, body start, copied)."""

    body: str
    source: str
    references: tuple[Reference, ...]
    bindings: tuple[Binding, ...]
    simple: bool
    segments: tuple[tuple[int, int, bool], ...]
    calls: frozenset[str] = frozenset()  # the names called: only those functions are handed over

    def __hash__(self) -> int:  # the body decides the rest; evaluation results are cached by it
        return hash(self.body)

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The CEL variable each binding's value is bound to."""
        return tuple(f"_r{number}" for number in range(len(self.bindings)))

    @cached_property
    def kinds(self) -> frozenset[str]:
        """The kinds of reference read (a pass that looks up only some leaves the rest)."""
        return frozenset(binding.reference.kind for binding in self.bindings)

    def body_offset(self, source_offset: int) -> int:
        """Where in the body the CEL text's ``source_offset`` came from."""
        at = 0
        for source_start, body_start, copied in self.segments:
            if source_start > source_offset:
                break
            at = body_start + (source_offset - source_start if copied else 0)
        return at


def parse_error(body: str, reason: str, offset: int) -> ExpressionError:
    return ExpressionError("cannot parse reference", body, reason, offset + 1)


@cache
def desugar(body: str) -> Parsed:
    """``body`` parsed once per command, however often the plan repeats it."""
    stripped = body.strip()
    if match := _ENV.match(stripped):
        ref = Reference("env", stripped, name=match.group(1), default=match.group(2))
        return Parsed(body, "_r0", (ref,), (Binding(ref, (0, len(body))),), True, ((0, 0, False),))
    return _Scanner(body).parsed()


class _Scanner:
    """Walks the body from one token that matters (a quote, a word, a number) to the next; the
    text between is CEL's and copied as is. Only references are replaced."""

    def __init__(self, body: str):
        self.body = body
        self.replaced: list[tuple[int, int, str]] = []  # (body start, body end, CEL text)
        self.references: list[Reference] = []
        self.bindings: list[Binding] = []
        self.binders: set[str] = set()
        self.calls: set[str] = set()

    def parsed(self) -> Parsed:
        body, index = self.body, 0
        if not body.strip():
            raise parse_error(body, f"the expression is empty ({EXPECTED})", 0)
        while (token := _TOKEN.search(body, index)) is not None:
            index = token.start()
            char = body[index]
            if char in QUOTES:
                index = self.string(index, index)
            elif char.isdigit():
                number = _NUMBER.match(body, index)
                assert number is not None
                index = number.end()
            else:
                index = self.word(index)
        pieces, segments, done, length = [], [], 0, 0
        for start, end, text in self.replaced:
            segments += [(length, done, True), (length + start - done, start, False)]
            pieces += [body[done:start], text]
            length += start - done + len(text)
            done = end
        segments.append((length, done, True))
        source = "".join(pieces) + body[done:]
        simple = len(self.bindings) == 1 and source.strip() == "_r0" and not self.bindings[0].suffix
        return Parsed(
            body,
            source,
            tuple(self.references),
            tuple(self.bindings),
            simple,
            tuple(segments),
            frozenset(self.calls),
        )

    def string(self, start: int, quote: int) -> int:
        end = string_end(self.body, quote)
        if end is None:
            raise parse_error(self.body, "this string is never closed", start)
        return end

    def after_dot(self, index: int) -> bool:
        """Whether the word at ``index`` follows a ``.``: a field or method of a value CEL computes."""
        before = index - 1
        while before >= 0 and self.body[before].isspace():
            before -= 1
        return before >= 0 and self.body[before] == "."

    def word(self, index: int) -> int:
        body = self.body
        match = _IDENT.match(body, index)
        assert match is not None
        word, end = match.group(), match.end()
        if end < len(body) and body[end] in QUOTES and word.lower() in ("r", "b", "rb", "br"):
            return self.string(index, end)
        called = _CALL.match(body, end) is not None
        if called:
            self.calls.add(word)
        if self.after_dot(index):
            if word in _MACROS and (binder := _BINDER.match(body, end)):
                self.binders.add(binder.group(1))
            return end
        if word in self.binders or word in _CEL_NAMES or called:
            return end
        return self.reference(index, word)

    def reference(self, index: int, word: str) -> int:
        body = self.body
        after = index + len(word)
        if word in ("var", "env", "local", "each", "count", "path"):
            name = (
                (_NAME if word == "local" else _IDENT).match(body, after + 1) if body.startswith(".", after) else None
            )
            if name is None:
                raise parse_error(body, f"'{word}' needs a name after it ({KINDS[word]})", index)
            allowed = {"each": ("key", "value"), "count": ("index",), "path": ("module", "root")}.get(word)
            if allowed and name.group() not in allowed:
                raise parse_error(
                    body, f"'{word}.{name.group()}' is not one of {' or '.join(f'{word}.{a}' for a in allowed)}", index
                )
            ref = Reference(word, body[index : name.end()], name=name.group())
            return self.bind(ref, index, name.end())
        if word == "module":
            return self.module_output(index, after)
        is_data = word == "data"
        start = after if is_data else index
        type_name = (
            _NAME.match(body, after + 1) if is_data and body.startswith(".", after) else _NAME.match(body, start)
        )
        if type_name is None or not body.startswith(".", type_name.end()):
            reason = "write data.TYPE.NAME.attr" if is_data else f"'{word}' names nothing ({EXPECTED})"
            raise parse_error(body, reason, index)
        name = _NAME.match(body, type_name.end() + 1)
        if name is None:
            raise parse_error(body, f"'{body[index : type_name.end()]}' needs a name after it (TYPE.NAME.attr)", index)
        address = Address(type_name.group(), name.group(), is_data)
        end, key, splat = name.end(), None, False
        if instance := _KEY.match(body, end):
            splat = instance.group(1) is not None
            number, double, single = instance.group(4, 2, 3)
            key = int(number) if number is not None else double if double is not None else single
            end = instance.end()
        elif body.startswith("[", end):
            raise parse_error(body, 'an instance key is a quoted string, a whole number or * (["key"], [0], [*])', end)
        objects_end = end
        steps, end = self.steps(end)
        if not steps or not steps[0][0].isalpha() and steps[0][0] != "_":
            raise parse_error(body, f"a reference to {address} names an attribute ({address}.attr)", index)
        kind = "data" if is_data else "resource"
        ref = Reference(kind, body[index:end], address=address, attribute=tuple(steps), key=key, splat=splat)
        if not splat:
            return self.bind(ref, index, end)
        self.references.append(ref)
        each = f"_s{len(self.bindings)}"
        path = "".join(f"[{step}]" if step.isdigit() else f".{step}" for step in steps)
        every = Reference(kind, body[index:objects_end], address=address, splat=True)
        return self.bind(every, index, end, f".map({each}, {each}{path})", report=False)

    def module_output(self, index: int, after: int) -> int:
        """``module.NAME.OUTPUT``, or ``module.NAME["key"].OUTPUT`` / ``[0]`` for a module with for_each or count."""
        body = self.body
        module = _NAME.match(body, after + 1) if body.startswith(".", after) else None
        if module is None:
            raise parse_error(body, "a module reference is module.NAME.OUTPUT", index)
        end, key = module.end(), None
        if instance := _KEY.match(body, end):
            if instance.group(1) is not None:
                raise parse_error(body, 'read one instance of a module: module.NAME["key"].OUTPUT', end)
            number, double, single = instance.group(4, 2, 3)
            key = int(number) if number is not None else double if double is not None else single
            end = instance.end()
        output = _NAME.match(body, end + 1) if body.startswith(".", end) else None
        if output is None:
            raise parse_error(body, "a module reference is module.NAME.OUTPUT", index)
        steps, end = self.steps(output.end())
        ref = Reference("module", body[index:end], name=module.group(), attribute=(output.group(), *steps), key=key)
        return self.bind(ref, index, end)

    def steps(self, at: int) -> tuple[list[str], int]:
        """The attribute path: ``.name`` and ``.0`` steps, up to a method call (``.size()``)."""
        steps = []
        while (match := _STEP.match(self.body, at)) and not _CALL.match(self.body, match.end()):
            steps.append(match.group(1))
            at = match.end()
        return steps, at

    def bind(self, ref: Reference, start: int, end: int, suffix: str = "", report: bool = True) -> int:
        if report:
            self.references.append(ref)
        self.replaced.append((start, end, f"_r{len(self.bindings)}{suffix}"))
        self.bindings.append(Binding(ref, (start, end), suffix))
        return end
