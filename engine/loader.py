"""Read plan YAML files into plain data while keeping where every key came from.

Every key's line and column is kept in a ``Positions`` map from a key path
such as ``("resources", "bitbar_project.checkout", "name")`` to
``file:line:col``, so any later error (pydantic, references, graph) can point
at the source.

Two ways in, one result. A plain file (mappings, lists and scalars: no
anchors, aliases, tags, merge keys or directives; what plans are) is composed
by libyaml (``ruamel.yaml.clib``; ruamel's pure composer without it, about
a third as fast) and walked once, positions taken from its nodes: 5,000
resources load in 0.2 s instead of the round-trip loader's 2.8 s
(bench/run_all.py). Anything else,
and every file with a mistake, goes through ruamel's round-trip loader, which
bounds it as it composes and says where it is wrong; the fast way gives up
(and leaves it to that one) at the first thing it does not take.

A plan file is untrusted input, so loading it is bounded: the file's size, the
values a document stands for once its YAML aliases are expanded, and how deep
it nests (see ``MAX_PLAN_FILE_BYTES``, ``MAX_PLAN_VALUES``, ``MAX_NESTING``).
Anything wrong, down to a byte that is not UTF-8, is a ConfigError naming the
file and, where there is one, the line and column.
"""

from __future__ import annotations

import codecs
import gc
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, merge_attrib
from ruamel.yaml.composer import Composer, ComposerError
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.main import CParser
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver

from labform.engine.errors import ConfigError, SourceLocation
from labform.engine.planpaths import folder_files

KeyPath = tuple[Any, ...]
SECTIONS = (
    "providers",
    "variables",
    "locals",
    "resources",
    "data",
    "modules",
    "outputs",
    "moved",
    "removed",
    "encryption",
)
# Sections written as lists: the files' entries are kept in order, keyed by their position among all files'.
LIST_SECTIONS = ("moved", "removed")

# Bounds no real plan comes near (the shipped plans hold at most 116 values,
# nested 6 deep) that keep a hostile or broken file from taking the machine: a
# ten-line alias bomb stands for a billion values. They bound time too: on a
# slow 2-core machine ruamel takes about 5 s for 100,000 values or for 10 MiB.
MAX_PLAN_FILE_BYTES = 10 * 1024 * 1024
MAX_PLAN_VALUES = 100_000
MAX_NESTING = 50

# (byte order mark, codec, name): the encodings YAML allows a plan in; no mark means UTF-8.
_ENCODINGS = (
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


@dataclass
class Positions:
    """Source location of every key (and list item) in the loaded files."""

    locations: dict[KeyPath, SourceLocation] = field(default_factory=dict)

    def of(self, path: KeyPath) -> SourceLocation | None:
        """The location of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.locations:
                return self.locations[path]
            path = path[:-1]
        return None


@dataclass
class LoadedPlan:
    """All plan files merged: plain values per section, positions, file hashes."""

    root: Path
    sections: dict[str, dict[str, Any]]
    positions: Positions
    file_hashes: dict[str, str]


def plan_files(path: Path) -> list[Path]:
    """A file, or the ``*.yaml``/``*.yml`` files of a folder, in a stable order."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ConfigError(f"no plan file or folder at '{path}'")
    files = folder_files(path)
    if not files:
        raise ConfigError(f"no *.yaml plan files in '{path}'")
    return files


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _key_position(node: CommentedMap, key: Any) -> tuple[int, int]:
    """Where ``key`` is written: in this mapping, in one a merge key (``<<``) took it
    from, or, for a key ruamel placed nowhere (``!!omap`` items), where the mapping starts."""
    if node.lc.data and key in node.lc.data:
        written: tuple[int, int] = node.lc.key(key)
        return written
    for merged in getattr(node, merge_attrib, ()):
        if key in merged:
            return _key_position(merged, key)
    return node.lc.line, node.lc.col


def _item_position(node: CommentedSeq, index: int) -> tuple[int, int]:
    """Where item ``index`` is written, or where the list starts if ruamel placed it nowhere (``!!str [1]``)."""
    if node.lc.data and index in node.lc.data:
        written: tuple[int, int] = node.lc.item(index)
        return written
    return node.lc.line, node.lc.col


def _record(node: Any, prefix: KeyPath, file: str, positions: Positions) -> Any:
    """Convert ruamel nodes to plain values, recording each key's position."""
    if isinstance(node, CommentedMap):
        plain = {}
        for key, value in node.items():
            line, column = _key_position(node, key)
            positions.locations[prefix + (str(key),)] = SourceLocation(file, line + 1, column + 1)
            plain[str(key)] = _record(value, prefix + (str(key),), file, positions)
        return plain
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            line, column = _item_position(node, index)
            positions.locations[prefix + (index,)] = SourceLocation(file, line + 1, column + 1)
            items.append(_record(value, prefix + (index,), file, positions))
        return items
    return node


def _hint(text: str, mark: Any) -> str:  # a ruamel StreamMark, or None
    """A reference inside [...] or {...} must be quoted: YAML reads its braces as a mapping."""
    if mark is None:
        return ""
    lines = _LINE_BREAK.split(text)
    line = lines[mark.line] if mark.line < len(lines) else ""
    if "${" in line and ("[" in line or "{" in line.replace("${", "")):
        return ' (inside [...] or {...}, quote references: ["${a.b.c}"])'
    return ""


def _location_after(before: str, file: str) -> SourceLocation:
    """Where the character after the text ``before`` is, counting line breaks as YAML (and ruamel) do."""
    lines = _LINE_BREAK.split(before)
    return SourceLocation(file, len(lines), len(lines[-1]) + 1)


def _read(file: Path, shown: str) -> bytes:
    """The file's bytes, refusing one over the size cap before holding it all in memory."""
    try:
        with file.open("rb") as stream:
            raw = stream.read(MAX_PLAN_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read the plan file: {exc.strerror or exc}") from None
    if len(raw) > MAX_PLAN_FILE_BYTES:
        size = max(file.stat().st_size, len(raw))
        raise ConfigError(
            f"{shown}: the plan file is {size:,} bytes, over the limit of "
            f"{MAX_PLAN_FILE_BYTES:,} bytes ({MAX_PLAN_FILE_BYTES // 2**20} MiB) for one plan file"
        )
    return raw


def _decode(raw: bytes, shown: str) -> str:
    """UTF-8 text (or UTF-16 with its byte order mark, as YAML allows), else where it is not.

    ruamel reports an undecodable byte as a byte offset with no file name; the
    user needs the line, and a word on what the file probably is."""
    bom, codec, name = next((e for e in _ENCODINGS if raw.startswith(e[0])), (b"", "utf-8", "UTF-8"))
    body = raw[len(bom) :]
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"the file is not {name} text: byte 0x{body[exc.start]:02x} cannot be decoded "
            "(saved as Latin-1 or another encoding? save it as UTF-8)",
            _location_after(body[: exc.start].decode(codec, errors="replace"), shown),
        ) from None
    if (stray := text.find("\ufeff")) >= 0:
        raise ConfigError(
            "byte order mark (U+FEFF) inside the file: only its very start may hold one",
            _location_after(text[:stray], shown),
        )
    return text


class _LimitExceeded(ComposerError):
    """A bound of this module was crossed (a recursive alias crosses them all); shown as is, not as 'invalid YAML'."""


class _BoundedComposer(Composer):
    """Measures each document as it will be once its aliases are expanded, while composing it.

    ruamel shares an anchored node among its aliases, so composing stays cheap,
    but everything after it (merge keys, ``_record``, the config walk) copies or
    walks the expanded tree. Counting here stops an alias bomb or a deep alias
    chain at the alias that crosses the bound, before anything is expanded.
    """

    def compose_document(self) -> Any:
        self.warn_double_anchors = False  # YAML lets an anchor be redefined; ruamel's warning shows our source line
        self.values = 0  # values composed so far, each alias counted as what it expands to
        self.deepest = 0  # deepest expanded level reached inside the node being composed
        self.extents: dict[int, tuple[int, int]] = {}  # id(anchored node) -> (values, levels)
        return super().compose_document()

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent):
            node = super().compose_node(parent, index)
            if id(node) not in self.extents:  # its anchor is still open: the alias is inside it
                raise _LimitExceeded(
                    None,
                    None,
                    f"alias '*{event.anchor}' is used inside the value it names (a recursive structure)",
                    event.start_mark,
                )
            values, levels = self.extents[id(node)]
            self._grow(values, self.depth + levels, event)
            return node
        start, outer_deepest = self.values, self.deepest
        self.deepest = 0
        self._grow(1, self.depth + 1, event)
        node = super().compose_node(parent, index)
        if event.anchor is not None:
            self.extents[id(node)] = (self.values - start, self.deepest - self.depth)
        self.deepest = max(outer_deepest, self.deepest)
        return node

    def _grow(self, values: int, level: int, event: Any) -> None:
        self.values += values
        self.deepest = max(self.deepest, level)
        by = f"through alias '*{event.anchor}', " if isinstance(event, AliasEvent) else ""
        if self.values > MAX_PLAN_VALUES:
            problem = f"{by}the file holds more than {MAX_PLAN_VALUES:,} values, an alias counting as all it repeats (the limit for one plan file)"
        elif level > MAX_NESTING:
            problem = f"{by}values nest more than {MAX_NESTING} levels deep (the limit for a plan file)"
        else:
            return
        raise _LimitExceeded(None, None, problem, event.start_mark)


class _Constructor(RoundTripConstructor):
    """Reports a value Python cannot build (a 5,000-digit integer, 2001-13-45, ``!!bool x``,
    ``!!set`` on a scalar, a list as a mapping key) at its line, instead of letting
    ruamel's exception escape as an internal error."""

    def construct_document(self, node: Any) -> Any:
        # Build every value where it is met, the root too: then each failure passes through
        # construct_non_recursive_object below. Lazy building exists for recursive
        # structures, which _BoundedComposer refuses.
        self.deep_construct = True
        return super().construct_document(node)

    def construct_non_recursive_object(self, node: Any, tag: str | None = None) -> Any:
        try:
            return super().construct_non_recursive_object(node, tag)
        except (
            ValueError,
            OverflowError,
            KeyError,
            TypeError,
            AttributeError,
        ) as exc:  # how ruamel's builders fail on odd input
            raise ConstructorError(None, None, f"cannot read this value: {exc}", node.start_mark) from None


def _parse(text: str, shown: str) -> Any:
    """The document of one plan file, as ruamel's round-trip nodes; every failure a ConfigError."""
    yaml = YAML(typ="rt")
    yaml.Composer = _BoundedComposer
    yaml.Constructor = _Constructor
    try:
        return yaml.load(text)
    except _LimitExceeded as exc:
        raise ConfigError(
            exc.problem, SourceLocation(shown, exc.problem_mark.line + 1, exc.problem_mark.column + 1)
        ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = SourceLocation(shown, mark.line + 1, mark.column + 1) if mark else None
        raise ConfigError(f"invalid YAML: {exc.problem or exc.context}{_hint(text, mark)}", location) from None
    except ReaderError as exc:
        character = f"U+{exc.character:04X}"
        hint = " (a binary file, or UTF-16 without a byte order mark?)" if exc.character == 0 else ""
        raise ConfigError(
            f"character {character} is not allowed in YAML{hint}", _location_after(text[: exc.position], shown)
        ) from None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection while a file is read: parsing makes no cycles, and the collector
    would walk every node made so far again and again (half the time of a large plan)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _document(text: str, shown: str, positions: Positions) -> dict[str, Any] | None:
    """The file's document as plain values (None if empty), each key's position in ``positions``."""
    try:
        return _plain_document(text, shown, positions)
    except _NotPlain:
        positions.locations.clear()
    document = _parse(text, shown)
    if document is None:
        return None
    if not isinstance(document, CommentedMap):
        raise ConfigError("a plan file must be a mapping of sections", SourceLocation(shown, 1, 1))
    plain: dict[str, Any] = _record(document, (), shown, positions)
    return plain


# --- the fast way: plain files --------------------------------------------
class _NotPlain(Exception):
    """Not a plain file (or not a correct one): the round-trip loader takes it."""


# What the fast way never takes: anchors, aliases and tags (where a token starts),
# directives, and the line breaks libyaml reads differently from ruamel.
# (An anchor, alias or tag mark; ``[*]``, a splat, is none: no alias is named "]".)
_NOT_PLAIN_TEXT = re.compile(r"(?:^|[\s\[\]{},-])(?:[&!]|\*(?!\]))|^%|[\x85\u2028\u2029]", re.MULTILINE)
# libyaml's composer recurses in C, below Python's recursion limit: a file that may nest
# deeper than this (by indentation, compact "- - -" lists or brackets) is not given to it.
_LIBYAML_DEPTH = 400
_BLOCK_INDENT = re.compile(r"^[ \t?:-]*", re.MULTILINE)
_BRACKET = re.compile(r"[\[\]{}]")
_TAGS = {
    name: f"tag:yaml.org,2002:{name}" for name in ("map", "seq", "str", "null", "bool", "int", "float", "timestamp")
}


class _PlainResolver(VersionedResolver):
    """ruamel's resolver with its table of implicit types (YAML 1.2, as a plain file has no
    %YAML directive) looked up once per file rather than once per scalar (a third of the time)."""

    @property
    def versioned_resolver(self) -> Any:
        if "_table" not in self.__dict__:
            self._table = vars(VersionedResolver)["versioned_resolver"].fget(self)
        return self._table


_PLAIN_COMPOSER = YAML(typ="safe", pure=CParser is None)
_PLAIN_COMPOSER.Resolver = _PlainResolver
_SCALARS = YAML(typ="rt")
_SCALARS.Constructor = _Constructor


def _shallow(text: str) -> bool:
    """Whether nothing in the text can nest deeper than libyaml's composer may recurse."""
    if max(map(len, _BLOCK_INDENT.findall(text)), default=0) > _LIBYAML_DEPTH:
        return False
    depth = 0
    for bracket in _BRACKET.finditer(text):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > _LIBYAML_DEPTH:
            return False
    return True


def _plain_document(text: str, shown: str, positions: Positions) -> dict[str, Any] | None:
    """The document of a plain file, walked from libyaml's nodes; _NotPlain for any other."""
    if _NOT_PLAIN_TEXT.search(text) or not _shallow(text):
        raise _NotPlain
    try:
        root = _PLAIN_COMPOSER.compose(text)
    except Exception:  # a mistake: the round-trip loader says what and where
        raise _NotPlain from None
    if root is None:
        return None
    if not isinstance(root, MappingNode):
        raise _NotPlain
    walk = _PlainWalk(shown, positions, _SCALARS.constructor)
    plain: dict[str, Any] = walk.value(root, (), 1)
    return plain


class _PlainWalk:
    """Plain values from composed nodes, with the bounds the round-trip loader keeps (values
    counted as its composer counts them, keys included; depth from 1 at the root)."""

    def __init__(self, shown: str, positions: Positions, scalars: Any):
        self.shown = shown
        self.positions = positions.locations
        self.scalars = scalars
        self.values = 0

    def _count(self, level: int) -> None:
        self.values += 1
        if self.values > MAX_PLAN_VALUES or level > MAX_NESTING:
            raise _NotPlain

    def _at(self, path: KeyPath, node: Any) -> None:
        self.positions[path] = SourceLocation(self.shown, node.start_mark.line + 1, node.start_mark.column + 1)

    def value(self, node: Any, path: KeyPath, level: int) -> Any:
        self._count(level)
        if isinstance(node, ScalarNode):
            if node.tag == _TAGS["str"]:
                return node.value
            if node.tag not in (_TAGS["null"], _TAGS["bool"], _TAGS["int"], _TAGS["float"], _TAGS["timestamp"]):
                raise _NotPlain
            try:
                return self.scalars.construct_object(node, deep=True)
            except Exception:  # a value Python cannot build: the round-trip loader reports it
                raise _NotPlain from None
        if isinstance(node, SequenceNode) and node.tag == _TAGS["seq"]:
            items = []
            for index, item in enumerate(node.value):
                self._at(path + (index,), item)
                items.append(self.value(item, path + (index,), level + 1))
            return items
        if isinstance(node, MappingNode) and node.tag == _TAGS["map"]:
            plain: dict[str, Any] = {}
            for key, item in node.value:
                self._count(level + 1)
                if not isinstance(key, ScalarNode) or key.tag != _TAGS["str"] or key.value in plain:
                    raise _NotPlain  # a key of another kind, a merge key, a duplicate
                self._at(path + (key.value,), key)
                plain[key.value] = self.value(item, path + (key.value,), level + 1)
            return plain
        raise _NotPlain


def _append_entries(
    section: str, body: Any, where: SourceLocation, sections: dict[str, dict[Any, Any]], positions: Positions
) -> None:
    """A list section's entries after those of the files before (their positions renumbered to match)."""
    if not isinstance(body, list):
        raise ConfigError(f"section '{section}' must be a list of entries ({section}: [{{from: ADDRESS, ...}}])", where)
    offset = len(sections[section])
    for index, entry in enumerate(body):
        sections[section][offset + index] = entry
    if offset:
        positions.locations = {
            ((section, path[1] + offset, *path[2:]) if path[:1] == (section,) and len(path) > 1 else path): location
            for path, location in positions.locations.items()
        }


def load(path: Path) -> LoadedPlan:
    """Load and merge plan files; duplicate addresses are an error naming both places."""
    files = plan_files(path)
    positions = Positions()
    sections: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    hashes: dict[str, str] = {}
    for file in files:
        shown = _display(file)
        raw = _read(file, shown)
        hashes[shown] = hashlib.sha256(raw).hexdigest()
        file_positions = Positions()
        with _collector_paused():
            plain = _document(_decode(raw, shown), shown, file_positions)
        if plain is None:
            continue
        for section, body in plain.items():
            where = file_positions.locations[(section,)]
            if section not in SECTIONS:
                raise ConfigError(f"unknown section '{section}' (expected one of: {', '.join(SECTIONS)})", where)
            if body is None:
                continue
            if section in LIST_SECTIONS:
                _append_entries(section, body, where, sections, file_positions)
                continue
            if not isinstance(body, dict):
                raise ConfigError(f"section '{section}' must be a mapping", where)
            for key, value in body.items():
                if key in sections[section]:
                    first = positions.locations[(section, key)]
                    again = file_positions.locations[(section, key)]
                    raise ConfigError(f"duplicate '{key}' in {section}: first defined at {first}", again)
                sections[section][key] = value
        positions.locations.update(file_positions.locations)
    return LoadedPlan(root=path, sections=sections, positions=positions, file_hashes=hashes)
