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
