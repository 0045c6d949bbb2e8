"""One table of parameter styles: ``spec/styles.py`` (``STYLES_BY_LOCATION``, ``IN_STRING``,
``DELIMITERS``). The spec loader, the server and the client all take it from there; a
second table (a dict from locations to style names, or a list of style names) anywhere in
the runtime or the kit would have to agree with it, so the scan below fails on one."""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCES = (ROOT / "framework" / "pymacaron", ROOT / "infra")
HOME = "framework/pymacaron/spec/styles.py"
STYLES = {"simple", "form", "label", "matrix", "spaceDelimited", "pipeDelimited", "deepObject"}
LOCATIONS = {"path", "query", "header", "cookie"}


def _strings(node: ast.AST) -> set:
    return {
        c.value for c in ast.walk(node) if isinstance(c, ast.Constant) and isinstance(c.value, str)
    }


def style_tables(roots=SOURCES, base=ROOT) -> list[str]:
    """Where a table of styles is written: a dict from two or more locations to style names,
    a dict keyed by three or more styles, or a list/tuple/set of three or more styles."""
    out = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(base).as_posix()
            if rel == HOME or "templates" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), rel)):
                if isinstance(node, ast.Dict):
                    keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                    values = set().union(*(_strings(v) for v in node.values))
                    if (len(keys & LOCATIONS) >= 2 and values & STYLES) or len(keys & STYLES) >= 3:
                        out.append(f"{rel}:{node.lineno}: a table of styles")
                elif isinstance(node, ast.Set | ast.Tuple | ast.List):
                    names = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                    if len(names & STYLES) >= 3:
                        out.append(f"{rel}:{node.lineno}: a list of styles")
    return out


def test_one_table_of_parameter_styles():
    assert style_tables() == []
    # the home holds the table every other module takes
    from pymacaron.spec.openapi3 import STYLES as LOADER_STYLES
    from pymacaron.spec.styles import STYLES_BY_LOCATION

    assert LOADER_STYLES is STYLES_BY_LOCATION


def test_the_scan_finds_a_second_table(tmp_path):
    pkg = tmp_path / "server"
    pkg.mkdir()
    (pkg / "ok.py").write_text("from ..spec.styles import STYLES_BY_LOCATION\nX = {'path': 1}\n")
    assert style_tables([pkg], tmp_path) == []
    (pkg / "table.py").write_text("ALLOWED = {'path': ('simple', 'label'), 'query': ('form',)}\n")
    (pkg / "names.py").write_text(
        "KNOWN = frozenset(['form', 'spaceDelimited', 'pipeDelimited'])\n"
    )
    assert [f.split(":")[0] for f in style_tables([pkg], tmp_path)] == [
        "server/names.py",
        "server/table.py",
    ]
