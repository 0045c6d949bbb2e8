"""The public surface (issue 28/29): what users write imports from ``pymacaron``;
``pymacaron.models`` is a real module; every old name and every ignored v1 ``API(...)``
argument warns with a DeprecationWarning naming its replacement; pymacaron itself (and its
templates, docs and example) uses no old name, so importing it warns about nothing."""

from __future__ import annotations

import ast
import importlib
import os
import pathlib
import re
import subprocess
import sys

import pytest
from flask import Flask

import pymacaron
from pymacaron.aliases import MOVED

REPO = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = REPO / "framework" / "pymacaron"
OLD_MODULES = set(MOVED) | {"pymacaron.test", "pymacaron.serve"}


def test_the_user_vocabulary_imports_from_pymacaron():
    for name in pymacaron.__all__:
        assert getattr(pymacaron, name) is not None, name
    from pymacaron.client import DownstreamUnavailableError
    from pymacaron.persist import PersistConflictError
    from pymacaron.tasks import asynctask

    assert pymacaron.asynctask is asynctask
    assert pymacaron.PersistConflictError is PersistConflictError
    assert pymacaron.DownstreamUnavailableError is DownstreamUnavailableError
    assert callable(pymacaron.run) and pymacaron.run is importlib.import_module("pymacaron.run")


def test_models_is_a_real_module():
    from tests.conftest import reset_pymacaron

    reset_pymacaron()  # models autoload the service's apis/: not a previous test's (a broken one)
    import pymacaron.models as models
    import pymacaron.spec.models as impl

    assert models.__file__.endswith(os.path.join("pymacaron", "models.py"))
    assert models.PyMacaronModel is impl.PyMacaronModel
    with pytest.raises(AttributeError, match="no model 'NoSuchDefinition'"):
        models.NoSuchDefinition  # noqa: B018


@pytest.mark.parametrize("old", sorted(MOVED))
def test_each_moved_module_warns_naming_its_new_place(old):
    sys.modules.pop(old, None)
    with pytest.warns(
        DeprecationWarning, match=re.escape(f"{old} is deprecated: use {MOVED[old]}")
    ):
        module = importlib.import_module(old)
    assert module is importlib.import_module(MOVED[old])  # the very same module


def test_the_old_test_and_serve_modules_warn():
    for old, new in (
        ("pymacaron.test", "pymacaron.testing"),
        ("pymacaron.serve", "pymacaron.run.serve"),
    ):
        sys.modules.pop(old, None)
        with pytest.warns(DeprecationWarning, match=re.escape(new)):
            importlib.import_module(old)


def test_the_old_error_hooks_name_warns():
    from pymacaron import hooks
    from pymacaron.server import replies

    for module in (hooks, replies):
        with pytest.warns(DeprecationWarning, match="pymacaron.hooks.ErrorHooks"):
            assert module.ErrorHandling is hooks.ErrorHooks


@pytest.mark.parametrize(
    "kwargs, replacement",
    [
        ({"host": "0.0.0.0"}, "--host"),
        ({"port": 8080}, "--port"),
        ({"formats": {}}, "every format the spec declares is checked"),
        ({"timeout": 5}, "read_timeout"),
        ({"default_user_id": "u"}, "pym-config default_user_id"),
        ({"ping_hook": print}, "/ping answers from the built-in API"),
    ],
)
def test_each_ignored_v1_argument_warns_naming_the_replacement(kwargs, replacement, tmp_path):
    name = next(iter(kwargs))
    with pytest.warns(
        DeprecationWarning, match=rf"API\({name}=\.\.\.\) \(ignored\).*{re.escape(replacement)}"
    ):
        pymacaron.API(Flask("v1", root_path=str(tmp_path)), **kwargs)


def test_ignored_v1_methods_warn(tmp_path):
    api = pymacaron.API(Flask("v1", root_path=str(tmp_path)))
    with pytest.warns(DeprecationWarning, match="declare the operation in your own spec"):
        try:
            api.load_apis(str(tmp_path / "apis"), include_crash_api=True)
        except Exception:  # noqa: BLE001 - only the warning matters here (no specs)
            pass
    with pytest.warns(DeprecationWarning, match="/openapi.json"):
        api.publish_apis()


def test_the_v1_arguments_it_uses_do_not_warn(tmp_path, recwarn):
    pymacaron.API(Flask("v1", root_path=str(tmp_path)), debug=False, error_reporter=None)
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]


def test_importing_pymacaron_warns_about_nothing():
    code = (
        "import pymacaron, pymacaron.models, pymacaron.testing, pymacaron.run.serve, "
        "pymacaron.run.dev, pymacaron.server.routes, pymacaron.client, pymacaron.persist, "
        "pymacaron.tasks, pymacaron.security, pymacaron.commands\n"
        "from pymacaron import *\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def _old_names_imported(text: str, source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(text, source)):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        found += [f"{source}:{node.lineno}: {n}" for n in names if n in OLD_MODULES]
        if isinstance(node, ast.Attribute) and node.attr == "ErrorHandling":
            found.append(f"{source}:{node.lineno}: ErrorHandling")
    return found


def _python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.S)


def test_nothing_of_pymacaron_uses_an_old_name():
    """The package (relative imports resolved), the pym new templates, the docs, the README
    and the example service import no deprecated module name."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.name in ("aliases.py",):
            continue
        text = path.read_text()
        rel = path.relative_to(PACKAGE.parent)
        package = ".".join(rel.parent.parts)
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
                names = [module] + [f"{module}.{a.name}" for a in node.names]
                found += [f"{rel}:{node.lineno}: {n}" for n in names if n in OLD_MODULES]
        found += _old_names_imported(text, str(rel))
    others = [
        REPO / "server.py",
        *REPO.glob("petshop/**/*.py"),
        *REPO.glob("docker/*.py"),
        *REPO.glob("infra/templates/new/**/*.tmpl"),
    ]
    for path in others:
        text = path.read_text()
        try:
            found += _old_names_imported(text, str(path.relative_to(REPO)))
        except SyntaxError:  # a template that is not Python
            continue
    for path in [REPO / "README.md", *REPO.glob("docs/*.md")]:
        for block in _python_blocks(path.read_text()):
            try:
                found += _old_names_imported(block, str(path.relative_to(REPO)))
            except SyntaxError:
                continue
    assert found == [], found


def test_the_renamed_runtime_names_warn(tmp_path):
    import pymacaron.server.accesslog as accesslog
    from pymacaron.app import Service

    with pytest.warns(DeprecationWarning, match="pymacaron.server.accesslog.LineWriter"):
        assert accesslog.AccessLog is accesslog.LineWriter
    sys.modules.pop("pymacaron.errors", None)
    with pytest.warns(DeprecationWarning, match="use pymacaron.error_body"):
        import pymacaron.errors  # noqa: F401
    service = Service(Flask("svc", root_path=str(tmp_path)), str(tmp_path))
    called = []
    service.install_routes = lambda names=None: called.append(names)
    with pytest.warns(DeprecationWarning, match=r"Service.install_routes\(\)"):
        service.serve("x")
    assert called == ["x"]


def test_every_error_code_is_declared_once_in_exceptions():
    """The codes pymacaron returns are declared in one list, exceptions.py: one add_error
    line per class; security/, persist/ and client/ errors modules re-export theirs
    (none declares a code of its own) and each exported name is the class of that list."""
    from pymacaron import exceptions

    text = (PACKAGE / "exceptions.py").read_text().splitlines()
    declared = {}
    for line in text:
        if "= add_error(" in line and not line.startswith(" "):  # not the docstrings' example
            name = line.split(" = ", 1)[0]
            assert f'add_error("{name}", "' in line, line
            assert name not in declared, f"exceptions.py declares {name} twice"
            declared[name] = line
    for package in ("security", "persist", "client"):
        module = importlib.import_module(f"pymacaron.{package}.errors")
        assert "add_error(" not in (PACKAGE / package / "errors.py").read_text(), package
        for name in module.__all__:
            if name in declared:
                assert getattr(module, name) is getattr(exceptions, name), (package, name)
        assert [n for n in module.__all__ if n in declared], package


@pytest.mark.parametrize(
    "old, new",
    [
        ("pymacaron_core.exceptions", "pymacaron.exceptions"),
        ("pymacaron_core.models", "pymacaron.models"),
        ("pymacaron_core.swagger.apipool", "pymacaron.ApiPool"),
        ("pymacaron_async", "pymacaron.tasks"),
    ],
)
def test_the_original_packages_names_warn(old, new):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=re.escape(f"{old} is deprecated: use {new}")):
        importlib.import_module(old)
