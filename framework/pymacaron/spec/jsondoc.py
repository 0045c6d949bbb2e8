"""Strict JSON request bodies: what a JSON parser lets through but an API should not.

orjson already refuses NaN/Infinity, numbers beyond a double, invalid UTF-8 and nesting
deeper than 1024. On top of that a body here may not nest deeper than :data:`MAX_DEPTH`
(recursive schemas would otherwise recurse in the validators) nor repeat a key inside one
object (``{"amount": 1, "amount": 1000}`` means different things to different parsers).
"""

from __future__ import annotations

import json
import re

import orjson

__all__ = ["parse_json_body", "BodyError", "MAX_DEPTH"]

MAX_DEPTH = 64
_KEY_END = re.compile(rb'"\s*:')


class BodyError(ValueError):
    """The body is not acceptable JSON; the message says why."""


def _shape(value) -> tuple[int, int]:
    """(number of object keys, max nesting depth) of a document orjson parsed (exact dicts
    and lists), without recursion."""
    keys = 0
    depth = 0
    stack = [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        node, level = pop()
        if level > depth:
            depth = level
            if depth > MAX_DEPTH:
                return keys, depth
        level += 1
        if type(node) is dict:
            keys += len(node)
            node = node.values()
        for item in node:
            if type(item) is dict or type(item) is list:
                push((item, level))
    return keys, depth


def reject_duplicates(pairs):
    """``object_pairs_hook`` for ``json.loads``: a key twice in one object is a BodyError."""
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise BodyError(f"duplicate key {key[:60]!r} in a JSON object")
        seen.add(key)
    return dict(pairs)


def parse_json_body(data: bytes):
    """Parse a request body; raises BodyError with a message for the client."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise BodyError(f"not valid JSON ({e})") from None
    if isinstance(value, dict | list):
        keys, depth = _shape(value)
        if depth > MAX_DEPTH:
            raise BodyError(f"JSON nested deeper than {MAX_DEPTH} levels")
        # every key ends with '":' in the text; more of those than keys parsed means a
        # duplicate (or '":' inside a string): only then pay for the exact check. Each of
        # them holds a ':', so no more colons than keys (bytes.count, in C) is enough
        if data.count(b":") > keys and len(_KEY_END.findall(data)) > keys:
            json.loads(data, object_pairs_hook=reject_duplicates)
    return value
