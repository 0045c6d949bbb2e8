"""The one ``$ref`` / ``allOf`` resolver for schemas: what a schema says once its local
references are followed and its ``allOf`` parts folded in (for coercion, error-model
filling, persistence conversion, the Swagger 2.0 checks and the docs page; validation keeps
the references and lets the JSON Schema engine follow them).

A reference is local: ``#/definitions/X`` (Swagger 2.0) or ``#/components/schemas/X``
(OpenAPI 3.x) looked up by name in ``definitions``, or, given the whole document as
``root``, any JSON Pointer (``#/definitions/A/properties/b``, ``#/parameters/P``). A
reference seen again on the way (a recursive schema) contributes nothing more: every
function here ends on any cycle.
"""

from __future__ import annotations

from .pointer import resolve as resolve_pointer

__all__ = ["SCHEMA_PREFIXES", "schema_name", "target", "follow", "merged", "inline"]

SCHEMA_PREFIXES = ("#/definitions/", "#/components/schemas/")
MAX_DEPTH = 64  # a chain of references longer than this is treated as a cycle


def schema_name(ref) -> str | None:
    """``X`` of ``#/definitions/X`` or ``#/components/schemas/X``, else None."""
    if isinstance(ref, str):
        for prefix in SCHEMA_PREFIXES:
            if ref.startswith(prefix) and "/" not in ref[len(prefix) :]:
                return ref[len(prefix) :]
    return None


def target(ref, definitions: dict | None = None, root=None):
    """The node a local reference names; None when it names nothing (or is not local)."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    if root is not None:
        try:
            return resolve_pointer(root, ref)
        except KeyError:
            return None
    name = schema_name(ref)
    return (definitions or {}).get(name) if name is not None else None


def follow(node, definitions: dict | None = None, root=None):
    """``node`` with its chain of ``$ref`` followed: the node it ends on; ``{}`` when a local
    reference names nothing or the chain loops; a non-local reference is returned as is."""
    seen: set = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#"):
            return node
        if ref in seen or len(seen) >= MAX_DEPTH:
            return {}
        seen.add(ref)
        found = target(ref, definitions, root)
        if found is None:
            return {}
        node = found
    return node


def merged(schema, definitions: dict | None = None, root=None, _seen: frozenset = frozenset()):
    """``schema`` as one flat dict: its ``$ref`` followed (sibling keys win over the
    target's), its ``allOf`` parts folded in -- ``properties`` and ``required`` are the union
    (the schema's own properties win), any other key is the schema's own, else the first
    part's that has it. Not a dict: ``{}``; a reference already being resolved: ``{}``."""
    if not isinstance(schema, dict):
        return {}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        if ref in _seen or len(_seen) >= MAX_DEPTH:
            return {}
        found = target(ref, definitions, root)
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return {**merged(found, definitions, root, _seen | {ref}), **rest}
    parts = schema.get("allOf")
    if not isinstance(parts, list):
        return schema
    out = {k: v for k, v in schema.items() if k != "allOf"}
    props: dict = {}
    required: list = []
    for part in parts:
        part = merged(part, definitions, root, _seen)
        props.update(part.get("properties") or {})
        required.extend(r for r in part.get("required") or [] if r not in required)
        for k, v in part.items():
            out.setdefault(k, v)
    props.update(schema.get("properties") or {})
    required.extend(r for r in schema.get("required") or [] if r not in required)
    if props:
        out["properties"] = props
    if required:
        out["required"] = required
    return out


def inline(node, definitions: dict | None = None, root=None, _seen: frozenset = frozenset()):
    """A copy of ``node`` with every local schema reference replaced by what it names (a
    reference inside its own target stays a ``$ref``: a recursive schema ends)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref not in _seen:
            found = target(ref, definitions, root)
            if found is not None:
                return inline(found, definitions, root, _seen | {ref})
        return {k: inline(v, definitions, root, _seen) for k, v in node.items()}
    if isinstance(node, list):
        return [inline(v, definitions, root, _seen) for v in node]
    return node
