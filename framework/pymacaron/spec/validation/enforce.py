"""What the engines cannot enforce: :func:`unenforceable` lists the keywords of a schema
that would be silently ignored (later drafts' keywords in draft 4 dialects, dynamic scopes
in 2020-12, unchecked formats in 3.x, references outside the spec), so a spec that uses
them is refused at startup rather than served with a constraint ignored.
"""

from __future__ import annotations

import contextvars

from .formats import ANNOTATION_FORMATS, CHECKED_FORMATS
from .translate import _SCHEMA_MAPS, _SCHEMA_VALUES, DRAFT2020

# keywords of later drafts a draft 4 engine would silently ignore
_LATER_DRAFTS = frozenset(
    [
        "const",
        "contains",
        "propertyNames",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        "prefixItems",
        "unevaluatedProperties",
        "unevaluatedItems",
        "$defs",
        "minContains",
        "maxContains",
        "contentSchema",
        "$anchor",
        "$dynamicRef",
        "$dynamicAnchor",
        "$recursiveRef",
        "$recursiveAnchor",
        "$vocabulary",
        "$id",
    ]
)
# 2020-12 keywords pymacaron does not run: dynamic scopes and vocabularies, and anything
# that moves the base URI or names a fragment (references are resolved in the spec)
_NOT_2020 = frozenset(
    [
        "$dynamicRef",
        "$dynamicAnchor",
        "$vocabulary",
        "$id",
        "$anchor",
    ]
)
# JSON Schema 2019-09's keywords, not 2020-12's: in a 3.1 spec they mean nothing (warned)
OLD_2019 = frozenset(["$recursiveRef", "$recursiveAnchor"])


def unenforceable(schema, dialect: str, at=()) -> list[tuple[str, list]]:
    """What ``schema`` (an OpenAPI schema of ``dialect``, located at JSON path ``at``) asks
    for and pymacaron cannot enforce, as ``(keyword, json_path)``: the spec is refused at
    startup, never served with a constraint silently ignored.

    Draft 4 dialects (swagger2, oas30): keywords of later drafts (``const``,
    ``prefixItems``...). oas31: ``$dynamicRef``, ``$vocabulary``, ``$id``, ``$anchor``...
    and a ``$schema`` naming another dialect. 3.x: a ``discriminator`` without a
    ``propertyName``. All: a ``$ref`` that does not point into the spec's schemas.
    An unknown ``format`` and 3.1's ``nullable`` are annotations (:func:`annotations`).
    """
    found: list[tuple[str, list]] = []
    _walk(schema, dialect, list(at), found, None)
    return found


def annotations(schema, dialect: str, at=()) -> list[tuple[str, object, list]]:
    """What ``schema`` says that constrains nothing here, as ``(keyword, value,
    json_path)``: in 3.x a ``format`` that is neither checked (:data:`CHECKED_FORMATS`) nor
    OpenAPI's own (:data:`ANNOTATION_FORMATS`) -- OpenAPI's formats are an open set, a
    tool that does not know one treats it as an annotation -- and ``nullable`` in 3.1 (not
    a keyword of 3.1: ``type: [T, 'null']`` says it). Served, not checked; load.py warns."""
    notes: list[tuple[str, object, list]] = []
    _walk(schema, dialect, list(at), [], notes)
    return notes


def unknown_format(value, dialect: str) -> bool:
    """Whether a ``format`` value is an annotation only (not checked, not OpenAPI's own)."""
    return (
        dialect != "swagger2"
        and isinstance(value, str)
        and value not in CHECKED_FORMATS[dialect] | ANNOTATION_FORMATS
    )


def _annotation(key: str, value, dialect: str) -> bool:
    if key == "format":
        return unknown_format(value, dialect)
    return dialect == "oas31" and (key == "nullable" or key in OLD_2019)


def _refused(key: str, value, dialect: str) -> bool:
    if key in (_NOT_2020 if dialect == "oas31" else _LATER_DRAFTS):
        return True
    if key == "$schema":
        return dialect == "oas31" and value not in (DRAFT2020, DRAFT2020 + "#")
    if key == "$ref":
        return not isinstance(value, str) or not value.startswith(
            ("#/definitions/", "#/components/schemas/")
        )
    if key == "discriminator" and dialect != "swagger2":
        return not isinstance(value, dict) or not isinstance(value.get("propertyName"), str)
    return False


def _walk(node, dialect, path, found, notes) -> None:
    if isinstance(node, bool) and dialect == "oas31":
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if not isinstance(key, str) or key.startswith("x-"):
            continue
        here = [*path, key]
        if notes is None:
            if _refused(key, value, dialect):
                found.append((key, here))
        elif _annotation(key, value, dialect):
            notes.append((key, value, here))
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                _walk(sub, dialect, [*here, name], found, notes)
        elif key in _SCHEMA_VALUES:
            if isinstance(value, list):
                for i, sub in enumerate(value):
                    _walk(sub, dialect, [*here, i], found, notes)
            else:
                _walk(value, dialect, here, found, notes)
        elif key == "dependencies" and isinstance(value, dict):
            for name, sub in value.items():
                _walk(sub, dialect, [*here, name], found, notes)


#: ``strict_formats: true`` in pym-config (set while a service loads its specs): an unknown
#: ``format`` refuses the spec instead of being an annotation
STRICT_FORMATS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "pym_strict_formats", default=False
)
