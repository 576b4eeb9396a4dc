"""docs/architecture.md kept true: the modules it names exist and it names them all, imports go
down the layers it lists and never round in a cycle, every module says what it owns in its
first line and stays small, and its request path is the one a real request takes."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import math
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from flask import Flask

from cdkg.engine.evaluate import QueryRequest

ROOT = Path(__file__).parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
PACKAGES = {"cdkg": ROOT / "src" / "cdkg", "cdkg_bench": ROOT / "tools" / "cdkg_bench"}
#: The layers of docs/architecture.md, lowest first: a module imports from its own layer or below.
LAYERS = [
    {"cdkg", "cdkg.errors", "cdkg.names", "cdkg.resources", "cdkg.flags", "cdkg.settings"},
    {"cdkg.sparql"},
    {"cdkg.canned"},
    {"cdkg.kg"},
    {"cdkg.engine"},
    {"cdkg.scholarly"},
    {"cdkg.web"},
    {"cdkg.cli"},
]
#: "About 400 lines": a module past this is doing more than one job.
MOST_LINES = 420


def modules() -> Iterator[tuple[str, Path]]:
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join((package, *parts)), path


def layer(module: str) -> int:
    if module == "cdkg":  # the package itself: its version, nothing more
        return 0
    for n, members in enumerate(LAYERS):
        if any(module == m or module.startswith(m + ".") for m in members - {"cdkg"}):
            return n
    raise AssertionError(f"{module} is in no layer of docs/architecture.md")


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cdkg"):
            # `from cdkg.x import y` imports the module cdkg.x.y if there is one, else cdkg.x
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                found.add(name if _is_module(name) else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("cdkg")}
    return found


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def named_in_doc() -> set[str]:
    return set(re.findall(r"`((?:cdkg|cdkg_bench)(?:\.[a-z_]+)*)`", DOC))


def test_every_module_the_page_names_exists() -> None:
    for name in named_in_doc():
        if _is_module(name):
            continue
        parent, _, attribute = name.rpartition(".")
        assert parent, f"docs/architecture.md names {name}, which does not exist"
        assert hasattr(importlib.import_module(parent), attribute), (
            f"docs/architecture.md names {name}, which does not exist"
        )


def test_the_page_names_every_module() -> None:
    missing = [name for name, _ in modules() if name not in named_in_doc()]
    assert not missing, f"docs/architecture.md does not name {missing}"


def test_imports_go_down_the_layers() -> None:
    runtime = [(name, imports(path)) for name, path in modules() if name.split(".")[0] == "cdkg"]
    upward = [
        f"{name} (layer {layer(name)}) imports {target} (layer {layer(target)})"
        for name, targets in runtime
        for target in targets
        if not target.startswith("cdkg_bench") and layer(target) > layer(name)
    ]
    assert not upward
    tools = [
        f"{name} imports {t}" for name, ts in runtime for t in ts if t.startswith("cdkg_bench")
    ]
    assert not tools, "the runtime imports the measuring tools (the CLI may, lazily, by name)"


def test_no_two_modules_import_each_other_round_a_cycle() -> None:
    graph = {name: {t for t in imports(path) if t != name} for name, path in modules()}
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph.get(name, ())):
            if target not in graph:
                continue
            assert state.get(target) != 1, " -> ".join([*path, name, target])
            if target not in state:
                visit(target, [*path, name])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


@pytest.mark.parametrize(("name", "path"), list(modules()), ids=str)
def test_a_module_says_what_it_owns_and_stays_small(name: str, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(text))
    assert docstring, f"{name} has no docstring saying what it owns"
    assert docstring.splitlines()[0].strip(), f"{name}'s docstring starts with an empty line"
    lines = text.count("\n")
    assert lines <= MOST_LINES, f"{name} has {lines} lines: split it by what its parts own"


def traced(run: Callable[[], Any]) -> set[str]:
    """The cdkg modules whose functions ``run`` calls."""
    seen: set[str] = set()

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event == "call":
            module = frame.f_globals.get("__name__", "")
            if module == "cdkg" or module.startswith("cdkg."):
                seen.add(module)

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return seen


def documented_path() -> dict[str, set[str]]:
    block = DOC.split("<!-- request-path:begin -->", 1)[1].split("<!-- request-path:end -->")[0]
    found = {}
    for line in block.strip().splitlines():
        where, _, names = line.removeprefix("- ").partition(": ")
        found[where] = set(re.findall(r"`([\w.]+)`", names))
    return found


def test_the_request_path_is_the_one_a_request_takes(make_app: Callable[..., Flask]) -> None:
    app = make_app(cache_entries=0)
    client = app.test_client()
    query = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 3"
    form = {"query": query}
    accept = {"Accept": "application/sparql-results+json"}
    assert client.post("/sparql", data=form, headers=accept).status_code == 200  # warm
    server = traced(lambda: client.post("/sparql", data=form, headers=accept))
    engine = app.extensions["cdkg"].engine
    child = traced(lambda: engine.execute(QueryRequest(query, format="json"), math.inf))
    assert documented_path() == {"server": server, "engine child": child}
