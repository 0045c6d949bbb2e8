"""Where a 3.x document holds its Schema Objects: :func:`schema_roots` yields each one that
is not inside another (components/schemas entries, the ``schema`` of parameters, headers
and media types). Read by the check (oas3check.py) and, at every load, by the annotation
scan (load.py), which must not import the whole check."""

from __future__ import annotations

__all__ = ["schema_roots"]


def schema_roots(spec: dict):
    """(JSON path, schema) of every Schema Object that is not inside another one:
    components/schemas entries and the ``schema`` of parameters, headers, media types."""
    components = spec.get("components")
    if isinstance(components, dict) and isinstance(components.get("schemas"), dict):
        for name, schema in components["schemas"].items():
            yield ("components", "schemas", name), schema
    yield from _schema_fields(spec, ())


def _schema_fields(node, where):
    if isinstance(node, dict):
        for k, v in node.items():
            if not isinstance(k, str) or k.startswith("x-") or k in ("example", "examples"):
                continue
            if where == ("components",) and k == "schemas":
                continue
            if k == "schema" and not (where and where[-1] in ("properties", "content")):
                yield (*where, k), v
                continue
            yield from _schema_fields(v, (*where, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _schema_fields(v, (*where, i))
