"""docs/architecture.md names every module of the runtime (issue 28: a newcomer finds each
file there, e.g. spec/fastcheck.py was missing)."""

from __future__ import annotations

import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = REPO / "framework" / "pymacaron"


def test_every_runtime_module_is_named():
    doc = (REPO / "docs" / "architecture.md").read_text()
    runtime = doc[: doc.index("## The deploy kit")]
    missing = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if not (path.name == "__init__.py" and path.parent != PACKAGE)
        and f"`{path.name}`" not in runtime
        and f"/{path.name}`" not in runtime
        and f"{path.parent.name}/{path.name}" not in runtime
    ]
    assert missing == []
    for package in sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")):
        assert f"`{package}/`" in runtime, package


def test_every_runtime_module_opens_with_what_it_owns():
    import ast

    bare = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if ast.get_docstring(ast.parse(path.read_text())) is None
    ]
    assert bare == []


def test_one_style_table():
    """The styles each location allows are written once (spec/styles.py): a second table
    (as spec/openapi3.py had) fails here."""
    import re

    table = re.compile(r'"simple",\s*"label",\s*"matrix"|"form",\s*"spaceDelimited"')
    found = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if table.search(path.read_text())
    ]
    assert found == ["spec/styles.py"]
