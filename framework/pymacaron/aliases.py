"""Old dotted paths of modules that moved into packages keep importing.

``import pymacaron.models`` (named by specs' ``x-parent`` and by users' code) or
``gunicorn -c python:pymacaron.serving`` get the module at its new place: the very same
module object, so a monkeypatch or an ``isinstance`` through either name agrees.
``pymacaron.serve`` is a real file instead, because ``python -m`` needs one.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

MOVED = {
    "pymacaron.models": "pymacaron.spec.models",
    "pymacaron.validation": "pymacaron.spec.validation",
    "pymacaron.yamlfile": "pymacaron.spec.yamlfile",
    "pymacaron.jsonbody": "pymacaron.spec.jsondoc",
    "pymacaron.errormodel": "pymacaron.spec.errormodel",
    "pymacaron.specschema": "pymacaron.spec.schema",
    "pymacaron.specchecks": "pymacaron.spec.checks",
    "pymacaron.speccache": "pymacaron.spec.cache",
    "pymacaron.operation": "pymacaron.server.operation",
    "pymacaron.parameters": "pymacaron.server.parameters",
    "pymacaron.replies": "pymacaron.server.replies",
    "pymacaron.dispatch": "pymacaron.server.dispatch",
    "pymacaron.accesslog": "pymacaron.server.accesslog",
    "pymacaron.httpheaders": "pymacaron.server.headers",
    "pymacaron.serving": "pymacaron.run.gunicorn_hooks",
    "pymacaron.fuzz": "pymacaron.testing.fuzz",
}

__all__ = ["MOVED", "install"]


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module):
        pass  # the module ran at its new place


def install() -> None:
    """Add the finder once (``import pymacaron`` does it)."""
    if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
        sys.meta_path.append(_MovedModules())
