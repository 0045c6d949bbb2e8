"""What a spec binds to Python, shared by server and client: dotted imports, the
``x-decorate-*`` wrappers, and the model class of a schema. No Flask here."""

from __future__ import annotations

import importlib

from ..exceptions import StartupError
from .load import OperationSpec
from .yamlfile import display_path

__all__ = ["decorate", "import_dotted", "model_of"]


def import_dotted(dotted: str):
    """Import ``pkg.module.attr``."""
    module, _, attr = dotted.rpartition(".")
    if not module:
        raise ImportError(f"{dotted!r} is not a dotted path (pkg.module.function)")
    mod = importlib.import_module(module)
    try:
        return getattr(mod, attr)
    except AttributeError:
        raise ImportError(f"module {module!r} has no attribute {attr!r}") from None


def decorate(func, op: OperationSpec, extension: str, spec_path: str):
    """Wrap ``func`` with the dotted decorators of ``x-<extension>`` (a name or a list;
    the first listed is the outermost); one that does not import is a StartupError."""
    decorators = op.x(extension) or []
    if isinstance(decorators, str):
        decorators = [decorators]
    for dotted in reversed(decorators):
        try:
            decorator = import_dotted(dotted)
        except Exception as e:
            raise StartupError(
                f"x-{extension} {dotted!r} does not import: {type(e).__name__}: {e}",
                file=display_path(spec_path),
                location=op.label,
            ) from None
        func = decorator(func)
    return func


def model_of(schema: dict, models: dict):
    """(model class, is_list) for a $ref or an array of $ref, else (None, False)."""
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if ref and ref.startswith("#/definitions/"):
        return models.get(ref.rsplit("/", 1)[1]), False
    if isinstance(schema, dict) and schema.get("type") == "array":
        items = schema.get("items") or {}
        ref = items.get("$ref") if isinstance(items, dict) else None
        if ref and ref.startswith("#/definitions/"):
            return models.get(ref.rsplit("/", 1)[1]), True
    return None, False
