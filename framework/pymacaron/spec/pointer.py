"""Local references: the node a JSON Pointer fragment (``#/definitions/Pet``, RFC 6901)
names inside one document — one resolver for the Swagger 2.0 checks and the OpenAPI 3
normalizer and checks."""

from __future__ import annotations

__all__ = ["resolve"]


def resolve(doc, ref: str):
    """The node ``ref`` (``#`` or ``#/a/b``, ``~1`` for ``/`` and ``~0`` for ``~``) names in
    ``doc``; KeyError when it names nothing."""
    node = doc
    for part in ref[2:].split("/") if ref != "#" else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(ref)
    return node
