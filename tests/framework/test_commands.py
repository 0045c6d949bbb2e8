"""One ``pym`` command tree (pymacaron/commands/) with one error -> exit-code map
(commands/errors.py), issue 28: no parser for ``pym`` outside the package, every command's
--help lists exit codes of the map, every error a handler raises maps through the table."""

from __future__ import annotations

import argparse
import ast
import importlib
import pathlib
import re
import subprocess
import sys

import pytest

from pymacaron import commands
from pymacaron.commands import errors

REPO = pathlib.Path(__file__).resolve().parents[2]
COMMANDS = REPO / "framework" / "pymacaron" / "commands"
PARSER_CALLS = {"ArgumentParser", "add_subparsers", "add_parser"}
# programs other than pym, each with its own ArgumentParser (and no subcommands)
OTHER_PROGRAMS = {
    "framework/pymacaron/run/dev.py": "python server.py (the development server)",
    "framework/pymacaron/tasks/worker.py": "python -m pymacaron.tasks.worker",
}


def parser_calls(added: dict | None = None) -> list[str]:
    """file:line: call of every argparse parser built outside the command package
    (``added``: {file: code} appended to those files, to test the check)."""
    out = []
    for root in (REPO / "framework" / "pymacaron", REPO / "infra"):
        for path in sorted(root.rglob("*.py")):
            rel = str(path.relative_to(REPO))
            if path.is_relative_to(COMMANDS) or "/templates/" in rel:
                continue
            text = path.read_text() + "\n" + (added or {}).get(rel, "")
            for node in ast.walk(ast.parse(text)):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name not in PARSER_CALLS:
                    continue
                if name == "ArgumentParser" and rel in OTHER_PROGRAMS:
                    continue
                out.append(f"{rel}:{node.lineno}: {name}")
    return out


def test_no_pym_parser_outside_the_command_package():
    assert parser_calls() == []


@pytest.mark.parametrize(
    "file, code",
    [
        ("infra/deploy.py", "def add_commands(sub):\n    sub.add_parser('x')\n"),
        ("framework/pymacaron/guides.py", "import argparse\np = argparse.ArgumentParser()\n"),
        ("framework/pymacaron/run/dev.py", "def f(p):\n    p.add_subparsers()\n"),
    ],
)
def test_a_second_parser_fails_the_check(file, code):
    found = parser_calls({file: code})
    assert any(f.startswith(file) for f in found), found


def _leaves(parser: argparse.ArgumentParser, path=()):
    """(path, parser) of every command that runs (not a group)."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        yield path, parser
        return
    for name, sub in groups[0].choices.items():
        yield from _leaves(sub, (*path, name))


LEAVES = list(_leaves(commands.build_parser()))


def test_the_tree_has_every_command():
    paths = {" ".join(p) for p, _ in LEAVES}
    assert {"check", "run", "synth", "deploy", "image build", "image scan-gate",
            "pipeline local", "platform refresh", "status", "rollback"} <= paths  # fmt: skip
    assert len(paths) == 28


@pytest.mark.parametrize("path, parser", LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_every_command_help_lists_exit_codes_of_the_map(path, parser):
    text = parser.format_help()
    found = re.search(r"exit codes?:(.*)", text, flags=re.I | re.S)
    assert found, f"pym {' '.join(path)} --help lists no exit codes"
    codes = {int(n) for n in re.findall(r"(?<![\w.$-])(\d{1,3})(?![\w.-])", found.group(1))}
    assert codes, text
    # every code is one of the map's (acceptance: pytest's said in its words, FROM_PYTEST)
    assert codes <= set(errors.MEANING), (path, codes)
    assert errors.EXIT_USAGE in codes  # argparse's usage error


def _instance(row: errors.Row) -> BaseException:
    module, _, name = row.error.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    if cls is errors.KitMissing:
        return cls("token")
    if row.code == errors.FROM_ERROR:
        return cls("the registry refused", errors.EXIT_REFUSED)
    return cls() if cls is KeyboardInterrupt else cls("something is wrong")


@pytest.mark.parametrize(
    "row", errors.ERRORS, ids=[r.error.rsplit(".", 1)[1] for r in errors.ERRORS]
)
def test_each_error_a_handler_raises_maps_through_the_table(row, tmp_path, capsys):
    error = _instance(row)

    def handler(args):
        raise error

    code = commands.run(["token", "someone", "--dir", str(tmp_path)], func=handler)
    err = capsys.readouterr().err
    expected = errors.EXIT_REFUSED if row.code == errors.FROM_ERROR else row.code
    assert code == expected and code in errors.MEANING
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.strip() == row.line.format(who="pym token", path="token", error=error)
    # pym itself: a startup error ends the process with its code, the others return it
    if row.stops:
        with pytest.raises(SystemExit) as stopped:
            commands.run(["token", "someone", "--dir", str(tmp_path)], _stop=True, func=handler)
        assert stopped.value.code == expected


def test_an_error_outside_the_table_is_not_swallowed(tmp_path):
    def handler(args):
        raise ZeroDivisionError("a bug")

    with pytest.raises(ZeroDivisionError):
        commands.run(["token", "someone", "--dir", str(tmp_path)], func=handler)


def test_no_command_catches_an_error_of_the_table():
    """Handlers raise; the table prints and picks the code (no second wrapper)."""
    names = {r.error.rsplit(".", 1)[1] for r in errors.ERRORS}
    caught = []
    for path in sorted(COMMANDS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
                for t in types:
                    name = t.attr if isinstance(t, ast.Attribute) else getattr(t, "id", "")
                    if name in names:
                        caught.append(f"{path.name}:{node.lineno}: {name}")
    assert caught == []


def test_the_tree_is_built_without_importing_the_kit():
    code = (
        "import sys\nfrom pymacaron.commands import build_parser\nbuild_parser()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pymacaron_kit', 'boto3')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_every_row_names_a_class_that_exists():
    for row in errors.ERRORS:
        module, _, name = row.error.rpartition(".")
        assert isinstance(getattr(importlib.import_module(module), name), type), row.error
        assert row.code == errors.FROM_ERROR or row.code in errors.MEANING


OLD = {
    "pymacaron.cli": "pymacaron.commands",
    "pymacaron.testing.cli": "pymacaron.commands.testing",
    "pymacaron_kit.cli": "pymacaron.commands",
    "pymacaron_kit.operate.cli": "pymacaron.commands.operate",
}


@pytest.mark.parametrize("old", sorted(OLD))
def test_the_old_command_modules_warn_and_still_work(old):
    code = (
        "import warnings, argparse\n"
        "warnings.simplefilter('always')\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        f"    import {old} as m\n"
        "print([str(w.message) for w in seen if w.category is DeprecationWarning])\n"
        "p = argparse.ArgumentParser(prog='pym'); sub = p.add_subparsers(dest='command')\n"
        "if hasattr(m, 'add_commands'):\n"
        "    m.add_commands(sub)\n"
        "else:\n"
        "    print(m.main(['--version']))\n"
        "print(sorted(sub.choices))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert f"{old} is deprecated: use {OLD[old]}" in proc.stdout, proc.stdout + proc.stderr
    if old == "pymacaron.cli":
        assert "pym (pymacaron)" in proc.stdout and proc.returncode == 0
    else:
        assert proc.returncode == 0, proc.stderr


def test_nothing_uses_an_old_command_module():
    """Neither the package, the kit, the tests (but this file), the docs nor the pipeline's
    files import or run an old command module."""
    # an import, a `python -m`, a quoted name (importlib, an entry point); prose that
    # names a deprecated module (architecture.md) is not a use
    names = "|".join(re.escape(m) for m in OLD)
    parents = "|".join(re.escape(m.rpartition(".")[0]) for m in OLD)
    pattern = re.compile(
        r"(?:\bfrom\s+|\bimport\s+|-m\s+|['\"])(" + names + r")(?![\w.])"
        r"|\bfrom\s+(" + parents + r")\s+import\s+([\w ,]*,\s*)?cli\b"
    )
    found = []
    files = [
        *(REPO / "framework" / "pymacaron").rglob("*.py"),
        *(REPO / "infra").rglob("*"),
        *(REPO / "tests").rglob("*.py"),
        *(p for p in (REPO / "docs").glob("*.md") if p.name != "decisions.md"),  # a record
        REPO / "README.md",
        REPO / "Makefile",
        REPO / "pyproject.toml",
        *(REPO / ".ci").rglob("*"),
    ]
    skip = {pathlib.Path(__file__), *(REPO / f for f in (
        "framework/pymacaron/cli.py", "framework/pymacaron/testing/cli.py",
        "infra/cli.py", "infra/operate/cli.py"))}  # fmt: skip
    for path in files:
        if not path.is_file() or path in skip or "__pycache__" in path.parts:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if pattern.search(line):
                found.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert found == []
