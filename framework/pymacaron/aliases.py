"""Old dotted paths of modules that moved keep importing, with a DeprecationWarning.

``import pymacaron.validation`` or ``gunicorn -c python:pymacaron.serving`` get the module at
its new place: the very same module object, so a monkeypatch or an ``isinstance`` through
either name agrees; each old name warns once per process, naming the new one. Nothing in
pymacaron itself (nor its templates, docs or example) imports an old name (a test checks).
``pymacaron.models`` is a real module (models.py); ``pymacaron.serve`` is a real file,
because ``python -m`` needs one. These names go in the next major version.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

MOVED = {
    "pymacaron.validation": "pymacaron.spec.validation",
    "pymacaron.yamlfile": "pymacaron.spec.yamlfile",
    "pymacaron.jsonbody": "pymacaron.spec.jsondoc",
    "pymacaron.errormodel": "pymacaron.spec.errormodel",
    "pymacaron.specschema": "pymacaron.spec.schema",
    "pymacaron.specchecks": "pymacaron.spec.checks",
    "pymacaron.speccache": "pymacaron.spec.cache",
    "pymacaron.operation": "pymacaron.server.operation",
    "pymacaron.parameters": "pymacaron.spec.parameters",
    "pymacaron.replies": "pymacaron.server.replies",
    "pymacaron.dispatch": "pymacaron.server.dispatch",
    "pymacaron.accesslog": "pymacaron.server.accesslog",
    "pymacaron.httpheaders": "pymacaron.server.headers",
    "pymacaron.serving": "pymacaron.run.gunicorn_hooks",
    "pymacaron.fuzz": "pymacaron.testing.fuzz",
    "pymacaron.errors": "pymacaron.error_body",  # beside exceptions.py, it misled
    # shared by client and server, or below both (layers import inward)
    "pymacaron.server.styles": "pymacaron.spec.styles",
    "pymacaron.server.parameters": "pymacaron.spec.parameters",
    "pymacaron.persist.spec": "pymacaron.spec.persist",
    "pymacaron.run.nodetools": "pymacaron.persist.nodetools",
}

__all__ = ["MOVED", "install", "deprecated"]


def deprecated(old: str, new: str, stacklevel: int | None = None) -> None:
    """Warn that ``old`` is a deprecated name of ``new``; by default the warning points at
    the first caller outside the import machinery and pymacaron's alias modules (the user's
    ``import`` line)."""
    warnings.warn(
        f"{old} is deprecated: use {new} (the old name goes in the next major version)",
        DeprecationWarning,
        stacklevel=stacklevel or _user_level(),
    )


_ALIAS_FILES = {
    "aliases.py",
    "test.py",
    "serve.py",
    "hooks.py",
    "replies.py",
    "api.py",
    "accesslog.py",
    "app.py",
    "cli.py",
}


def _user_level() -> int:
    """warnings.warn's stacklevel (from deprecated()) of the first frame that is neither the
    import machinery nor one of the modules that define old names."""
    frame, level = sys._getframe(2), 2
    while frame is not None:
        name = frame.f_code.co_filename
        if not (
            name.startswith("<frozen importlib")
            or (name.startswith(_HERE) and name.rsplit("/", 1)[-1] in _ALIAS_FILES)
            or frame.f_globals.get("__pym_alias__")  # an old module of the kit (cli.py)
            or "/pymacaron_core/" in name
            or "/pymacaron_async/" in name
        ):
            break
        frame, level = frame.f_back, level + 1
    return level


_HERE = __file__.rsplit("/", 1)[0]


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        module = importlib.import_module(MOVED[spec.name])
        deprecated(spec.name, MOVED[spec.name])
        return module

    def exec_module(self, module):
        pass  # the module ran at its new place


def install() -> None:
    """Add the finder once (``import pymacaron`` does it)."""
    if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
        sys.meta_path.append(_MovedModules())
