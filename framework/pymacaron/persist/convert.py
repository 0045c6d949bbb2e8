"""Exact types between a model's JSON and a store that keeps numbers as ``Decimal``.

Writing: floats become ``Decimal(repr(f))`` (the shortest text that reads back as the same
float), ints stay ints, nested models and lists are already JSON (``to_json()``), ``None``
properties are left out. NaN and infinities are refused (DynamoDB has no such numbers), and so are magnitudes of 1e126 or more and ints of
over 38 digits; a float smaller in magnitude than 1e-130 (DynamoDB's smallest) is stored as 0.

Reading, guided by the definition's schema: a ``Decimal`` under ``type: integer`` becomes an
``int``, under ``type: number`` a ``float``; where the schema says nothing (free-form
objects), an integral Decimal becomes an int and any other a float. Sets (which pymacaron
never writes) become sorted lists.
"""

from __future__ import annotations

import math
from decimal import Decimal

from ..spec.refs import merged

__all__ = ["to_store", "from_store"]

# DynamoDB numbers: up to 38 significant digits, magnitudes from 1e-130 to below 1e126.
MAX_MAGNITUDE = 1e126
MIN_MAGNITUDE = 1e-130


def to_store(value, where: str = ""):
    """A JSON value with floats as Decimals; raises ValueError naming the field."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        if abs(value) >= 10**38:
            raise ValueError(f"{where or 'value'}: {value!r} cannot be stored (over 38 digits)")
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) >= MAX_MAGNITUDE:
            raise ValueError(
                f"{where or 'value'}: {value!r} cannot be stored (DynamoDB numbers are finite "
                "and below 1e126)"
            )
        if 0 < abs(value) < MIN_MAGNITUDE:
            return Decimal(0)  # below DynamoDB's smallest magnitude
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {
            k: to_store(v, f"{where}.{k}" if where else k)
            for k, v in value.items()
            if v is not None
        }
    if isinstance(value, (list, tuple)):
        return [to_store(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _resolve(schema, definitions: dict) -> dict:
    """The schema with its $ref followed and its allOf parts merged (spec/refs.py)."""
    return merged(schema, definitions)


def _number(value: Decimal, kind) -> int | float:
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    return int(value) if value == value.to_integral_value() else float(value)


def from_store(value, schema, definitions: dict):
    """A stored value back as JSON with exact Python types (see the module docstring)."""
    if isinstance(value, Decimal):
        return _number(value, _resolve(schema, definitions).get("type"))
    if isinstance(value, (set, frozenset)):
        value = sorted(value)
    if isinstance(value, list):
        items = _resolve(schema, definitions).get("items")
        return [from_store(v, items, definitions) for v in value]
    if isinstance(value, dict):
        node = _resolve(schema, definitions)
        props = node.get("properties") or {}
        extra = node.get("additionalProperties")
        extra = extra if isinstance(extra, dict) else None
        return {k: from_store(v, props.get(k, extra), definitions) for k, v in value.items()}
    return value
