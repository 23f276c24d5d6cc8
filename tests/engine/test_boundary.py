"""The engine/provider boundary runs one way: the engine knows no cloud, providers import no engine.

Read from the source (the AST), so a cloud name in engine code or an engine
import in a provider fails here before it ships; comments and docstrings may
name clouds (examples), code may not. The clouds are the registry's, so a
new cloud is covered the day it is added.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from labform.providers import registry

ROOT = Path(__file__).resolve().parents[2]
ENGINE_PACKAGES = ("engine", "labform.engine")


def sources(package: str) -> list[Path]:
    found = sorted((ROOT / package).rglob("*.py"))
    assert found, f"no Python files under {package}/"
    return found


def _docstrings(tree: ast.Module) -> set[int]:
    """The ids of the string nodes that are docstrings (of the module, a class or a function)."""
    owners = [
        tree,
        *(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)),
    ]
    return {
        id(owner.body[0].value)
        for owner in owners
        if owner.body
        and isinstance(owner.body[0], ast.Expr)
        and isinstance(owner.body[0].value, ast.Constant)
        and isinstance(owner.body[0].value.value, str)
    }


def words(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Every identifier, attribute name, imported name and string literal in ``tree`` but its docstrings."""
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Name):
            yield line, node.id
        elif isinstance(node, ast.Attribute):
            yield line, node.attr
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield line, node.name
        elif isinstance(node, ast.arg | ast.keyword) and node.arg:  # a parameter, or a keyword passed
            yield line, node.arg
        elif isinstance(node, ast.alias):
            yield line, node.name
            if node.asname:
                yield line, node.asname
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield line, node.module
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield line, node.value


def imported_modules(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Every module ``tree`` imports: import statements, and import_module/__import__ of a literal name."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                yield node.lineno, node.args[0].value


def is_engine(module: str) -> bool:
    return any(module == package or module.startswith(package + ".") for package in ENGINE_PACKAGES)


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_engine_code_names_no_cloud():
    clouds = registry.provider_names()
    assert {"bitbar", "perfecto"} <= set(clouds), clouds
    found = [
        f"{path.relative_to(ROOT)}:{line}: {word!r} names {cloud}"
        for path in sources("engine")
        for line, word in words(parsed(path))
        for cloud in clouds
        if cloud in word.lower()
    ]
    assert found == [], "\n".join(found)


def test_no_provider_imports_the_engine():
    found = [
        f"{path.relative_to(ROOT)}:{line}: imports {module}"
        for path in sources("providers")
        for line, module in imported_modules(parsed(path))
        if is_engine(module)
    ]
    assert found == [], "\n".join(found)


def test_the_checks_see_what_they_look_for():
    """Both checks would catch a violation: a cloud in code (not in a docstring) and each spelling of an engine import."""
    tree = ast.parse('"""bitbar in a docstring is fine."""\nwhere = "BitBar_run"\n')
    assert [word for _, word in words(tree)] == ["where", "BitBar_run"]
    spelled = "import labform.engine.cli\nfrom engine import lazy\nfrom labform.engine.x import y\nimport_module('labform.engine.ci')\n"
    assert [is_engine(m) for _, m in imported_modules(ast.parse(spelled))] == [True, True, True, True]
    assert not is_engine("engines") and not is_engine("labform.providers.engine_like")
