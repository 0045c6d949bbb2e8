"""Walking a JSON document (a spec, a schema) without recursion."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["json_objects"]


def json_objects(node: Any) -> Iterator[dict]:
    """Every object (dict) of the document ``node``, itself included, depth first."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, dict | list))
