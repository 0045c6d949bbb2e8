"""Layers import inward: each top-level unit of framework/pymacaron (a subpackage or a
module) may import only the units of the layers below its own (issue 28). An AST walk over
every ``import`` (lazy ones in functions included; type-only ones under ``if TYPE_CHECKING:``
excepted, they never run); a new outward import fails here with
the file and line. The layers, outermost first (``a | b``: peers that do not import each
other):
"""

from __future__ import annotations

import ast
import functools
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "framework" / "pymacaron"

LAYERS = [
    # python -m pymacaron; the old names test.py, cli.py, testing/cli.py (deprecated aliases)
    "__main__ | test | cli | testing.cli",
    "commands",  # the pym command: every subcommand, its options, the error map
    "testing",  # the testing kit drives whole services
    # the package's face; python -m pymacaron.serve; the image's entrypoint (which runs
    # python -m pymacaron.serve in its own process)
    "__init__ | serve | tasks.supervise",
    "api | guides",  # the v1 API; pym docs
    "run | tasks.worker",  # starting servers (dev, granian/gunicorn, mock); the task worker
    "builtin",  # /ping, /version: an API of its own
    "app",  # the app factory
    "apipool | server | tasks",  # ApiPool; serving a spec; @asynctask
    "auth | models",  # the v1 auth helpers; pymacaron.models (the user's view)
    "client | security | persist",
    "config",
    "spec",  # specs as data: no Flask, no I/O at request time
    "hooks | logs | devsecret | ports | environ",
    "current | exceptions",
    "error_body | aliases",  # the error JSON; the old names (imported by name, lazily)
]

# the few imports allowed across the rule, each with its reason
EXCEPTIONS = {
    # the version string: a constant of the package root, read lazily for a cache key
    ("spec/cache.py", "__init__"),
}


def _layer_of() -> dict[str, tuple[int, frozenset]]:
    out = {}
    for depth, row in enumerate(LAYERS):
        peers = frozenset(p.strip() for p in row.split("|"))
        for unit in peers:
            out[unit] = (depth, peers)
    return out


def _units(root: pathlib.Path) -> set[str]:
    return {
        p.stem if p.is_file() else p.name
        for p in root.iterdir()
        if p.suffix == ".py" or (p / "__init__.py").exists()
    }


def _unit_of(module: str, units: set[str]) -> str:
    parts = module.split(".")
    if len(parts) < 2 or parts[1] not in units:
        return "__init__"  # ``from pymacaron import x`` of a name defined in __init__
    if len(parts) > 2 and f"{parts[1]}.{parts[2]}" in _layer_of():
        return f"{parts[1]}.{parts[2]}"  # a module with a layer of its own (tasks.worker)
    return parts[1]


def _type_checking(test: ast.expr) -> bool:
    """``if TYPE_CHECKING:`` / ``if typing.TYPE_CHECKING:``"""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(text: str) -> list:
    """Every import but those under ``if TYPE_CHECKING:`` (never run: a type named in an
    annotation, e.g. current.py's ``Service``; docs/decisions.md)."""
    tree = ast.parse(text)
    typing_only = {
        id(node)
        for branch in ast.walk(tree)
        if isinstance(branch, ast.If) and _type_checking(branch.test)
        for stmt in branch.body
        for node in ast.walk(stmt)
    }
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, (ast.Import, ast.ImportFrom)) and id(n) not in typing_only
    ]


@functools.cache
def _nodes(path: pathlib.Path) -> list:
    return _walk(path.read_text())


def imports(root: pathlib.Path, added: dict | None = None):
    """(file, line, importing unit, imported unit) of every import between two units
    (``added``: {file: code} appended to those files, to test the checker)."""
    units = _units(root)
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        module = ".".join(("pymacaron", *rel.with_suffix("").parts))
        if path.name == "__init__.py":
            module = module.removesuffix(".__init__")
            package = module
        else:
            package = module.rpartition(".")[0]
        here = _unit_of(module, units) if rel.parts[0] != "__init__.py" else "__init__"
        extra = (added or {}).get(str(rel))
        nodes = _nodes(path) if extra is None else _walk(path.read_text() + "\n" + extra)
        for node in nodes:
            targets = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if node.module is None or target == "pymacaron":
                    targets = [f"{target}.{a.name}" for a in node.names]
                else:
                    targets = [target]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for target in targets:
                if target == "pymacaron" or target.startswith("pymacaron."):
                    there = _unit_of(target, units)
                    if there != here:
                        yield str(rel), node.lineno, here, there


def violations(root: pathlib.Path = ROOT, added: dict | None = None) -> list[str]:
    layer = _layer_of()
    out = []
    for file, line, here, there in imports(root, added):
        if (file, there) in EXCEPTIONS:
            continue
        if here not in layer or there not in layer:
            out.append(f"{file}:{line}: {here} -> {there}: a unit not in LAYERS (add it)")
            continue
        (mine, peers), (theirs, _) = layer[here], layer[there]
        if theirs <= mine:
            kind = "a peer" if there in peers else "an outer layer"
            out.append(f"{file}:{line}: {here} imports {there}, {kind}")
    return out


def test_the_runtime_imports_inward():
    assert violations() == []


def test_every_unit_is_in_a_layer():
    assert _units(ROOT) <= set(_layer_of()), _units(ROOT) - set(_layer_of())


@pytest.mark.parametrize(
    "file, code, expected",
    [
        ("persist/local.py", "from ..testing.runner import free_port\n", "persist imports testing"),
        ("spec/models.py", "from ..persist import persisted_bases\n", "spec imports persist"),
        ("app.py", "def f():\n    from .run.dev import run_dev_server\n", "app imports run"),
        (
            "tasks/engine.py",
            "from ..server.replies import current_hooks\n",
            "tasks imports server, a peer",
        ),
        ("tasks/engine.py", "from ..app import load_service\n", "tasks imports app, an outer"),
        ("security/__init__.py", "from ..auth import get_token_payload\n", "security imports auth"),
        ("client/oas3.py", "from ..server import styles\n", "client imports server"),
        ("client/oas3.py", "from ..persist import x\n", "client imports persist, a peer"),
        ("spec/load.py", "import pymacaron.config\n", "spec imports config"),
        (  # a type-only import does not count, the same import in its else branch does
            "current.py",
            "if TYPE_CHECKING:\n    from .apipool import ApiPool\nelse:\n    from .app import x\n",
            "current imports app",
        ),
    ],
)
def test_a_new_outward_import_fails(file, code, expected):
    """The checker with one outward import added to a file of the package."""
    found = violations(ROOT, {file: code})
    assert any(expected in v and v.startswith(file) for v in found), found
    assert not any("imports apipool" in v for v in found), found
